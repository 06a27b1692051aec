// Image fixtures built the way production builds them: an OCI layout made with umoci, the
// last layer holding /app/version.json ({"commit","source","build"}), pushed with
// `skopeo copy` to each tag in the order given (moving tag first, then the archive tag).
//
// Base layouts are cached per (process, layer count, platform); each buildImage() call adds
// one unique version.json layer on top, so every call yields a distinct digest while the
// lower layers are shared (as they are between real builds).

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, onAllRegistriesStopped, removeTempDir, type RunningRegistry } from './registry.js';

const run = promisify(execFile);

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** Accept header listing every manifest type the registry may serve. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
].join(', ');

export type Platform = string | { os: string; architecture: string };

export interface BuildImageOptions {
  repository: string;
  /** 40 lowercase hex characters; written to /app/version.json. */
  commit: string;
  /** Tags pushed in this order (production: the moving tag first, then the archive tag). */
  tags: string[];
  /** Total number of layers, the last one holding /app/version.json (default 1). */
  layers?: number;
  /** version.json `source` (default the scriptworker-scripts repository URL). */
  source?: string;
  /** version.json `build` (default a unique Taskcluster task URL). */
  build?: string;
  /** 'linux/amd64' (default), 'linux/arm64', or {os, architecture}. */
  platform?: Platform;
  /** Manifest format pushed: 'oci' keeps umoci's OCI manifest (default); 'v2s2' makes skopeo convert to Docker schema 2. */
  format?: 'oci' | 'v2s2';
  /** Override the whole version.json content (e.g. to make a commit mismatch). */
  versionJson?: unknown;
}

export interface BuiltImage {
  /** Manifest digest, as the registry serves it (checked with a HEAD request). */
  digest: string;
  /** Exact manifest bytes the registry serves. */
  manifest: Buffer;
  mediaType: string;
  /** Digest of the image config blob. */
  configDigest: string;
  /** Layer digests, bottom first; the last one holds /app/version.json. */
  layerDigests: string[];
  /** The version.json bytes written into the last layer. */
  versionJson: Buffer;
}

export interface BuildIndexOptions {
  repository: string;
  tags: string[];
  platforms?: Platform[];
  commit: string;
  source?: string;
  build?: string;
  layers?: number;
  /** 'oci' (OCI image index over OCI manifests, default) or 'docker' (manifest list over schema 2 manifests). */
  format?: 'oci' | 'docker';
}

export interface BuiltIndex {
  digest: string;
  manifest: Buffer;
  mediaType: string;
  children: { platform: { os: string; architecture: string }; digest: string; mediaType: string; size: number }[];
}

// ---------------------------------------------------------------------------------------
// helpers

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function randomCommit(): string {
  return randomBytes(20).toString('hex');
}

/** `production-YYYYMMDDHHMMSS-<sha>` style archive tag for a date (UTC). */
export function archiveTag(env: string, date: Date, commit: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const ts =
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
  return `${env}-${ts}-${commit}`;
}

function slugid(): string {
  // Taskcluster slugids are 22 url-safe base64 characters
  return randomBytes(16).toString('base64url').slice(0, 22);
}

function parsePlatform(p: Platform | undefined): { os: string; architecture: string } {
  if (p === undefined) return { os: 'linux', architecture: 'amd64' };
  if (typeof p !== 'string') return p;
  const [osName, arch] = p.split('/');
  if (!osName || !arch) throw new Error(`bad platform ${p}`);
  return { os: osName, architecture: arch };
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    // never echo credentials
    const shown = args.map((a, i) => (args[i - 1]?.endsWith('-creds') ? '***' : a)).join(' ');
    throw new Error(`${cmd} ${shown} failed: ${e.stderr ?? e.message}`);
  }
}

const rootless = typeof process.getuid === 'function' && process.getuid() !== 0;
const umociFlags = rootless ? ['--rootless'] : [];

/** Serialise umoci/skopeo work on one layout (umoci rewrites index.json in place). */
let layoutLock: Promise<unknown> = Promise.resolve();
function withLayoutLock<T>(fn: () => Promise<T>): Promise<T> {
  const next = layoutLock.then(fn, fn);
  layoutLock = next.catch(() => undefined);
  return next;
}

let workDir: string | undefined;
function work(): string {
  if (!workDir) {
    const dir = makeTempDir('fixtures-');
    workDir = dir;
    // drop the cached layouts once no registry is running any more
    onAllRegistriesStopped(() => {
      if (workDir === dir) {
        workDir = undefined;
        layoutReady = undefined;
        bases.clear();
      }
      removeTempDir(dir);
    });
  }
  return workDir;
}

function layoutPath(): string {
  return path.join(work(), 'layout');
}

let layoutReady: Promise<void> | undefined;
const bases = new Map<string, Promise<string>>();

async function ensureLayout(): Promise<void> {
  layoutReady ??= sh('umoci', ['init', '--layout', layoutPath()]).then(() => undefined);
  return layoutReady;
}

/** A cached base ref with `extraLayers` small unique layers, for a platform. Call under the lock. */
async function baseRef(extraLayers: number, platform: { os: string; architecture: string }): Promise<string> {
  const key = `base-${platform.os}-${platform.architecture}-${extraLayers}`;
  let p = bases.get(key);
  if (!p) {
    p = (async () => {
      await ensureLayout();
      const L = layoutPath();
      await sh('umoci', ['new', '--image', `${L}:${key}`]);
      await sh('umoci', ['config', ...umociFlags, '--image', `${L}:${key}`, '--os', platform.os, '--architecture', platform.architecture]);
      for (let i = 0; i < extraLayers; i++) {
        const f = path.join(work(), `${key}-layer${i}.txt`);
        writeFileSync(f, `layer ${i} of ${key} ${randomBytes(8).toString('hex')}\n`);
        await sh('umoci', ['insert', ...umociFlags, '--image', `${L}:${key}`, f, `/opt/layer${i}.txt`]);
      }
      return key;
    })();
    bases.set(key, p);
    p.catch(() => bases.delete(key));
  }
  return p;
}

interface LayoutIndex {
  manifests: { digest: string; mediaType: string; size: number; annotations?: Record<string, string> }[];
}

function readLayoutRef(ref: string): { digest: string; manifest: Buffer } {
  const L = layoutPath();
  const index = JSON.parse(readFileSync(path.join(L, 'index.json'), 'utf8')) as LayoutIndex;
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!desc) throw new Error(`ref ${ref} not in layout`);
  const manifest = readFileSync(path.join(L, 'blobs', 'sha256', desc.digest.slice('sha256:'.length)));
  return { digest: desc.digest, manifest };
}

/** Build one image ref in the layout (under the lock); returns its ref name. */
async function buildRef(o: {
  layers: number;
  platform: { os: string; architecture: string };
  versionJson: Buffer;
}): Promise<string> {
  const base = await baseRef(o.layers - 1, o.platform);
  const ref = `img-${randomBytes(8).toString('hex')}`;
  const f = path.join(work(), `${ref}.version.json`);
  writeFileSync(f, o.versionJson);
  await sh('umoci', ['insert', ...umociFlags, '--image', `${layoutPath()}:${base}`, '--tag', ref, f, '/app/version.json']);
  return ref;
}

function credsArgs(reg: RunningRegistry, flag: '--dest-creds' | '--src-creds'): string[] {
  return reg.skopeoCreds ? [flag, reg.skopeoCreds] : [];
}

async function skopeoPush(reg: RunningRegistry, ref: string, dest: string, format?: 'oci' | 'v2s2'): Promise<void> {
  await sh('skopeo', [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...credsArgs(reg, '--dest-creds'),
    ...(format === 'v2s2' ? ['--format', 'v2s2'] : []),
    `oci:${layoutPath()}:${ref}`,
    `docker://${reg.host}/${dest}`,
  ]);
}

function validateCommit(commit: string): void {
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`commit must be 40 lowercase hex characters: ${commit}`);
}

// ---------------------------------------------------------------------------------------
// registry HTTP helpers

/** HEAD a manifest; returns {digest, mediaType, size} or null when 404. */
export async function headManifest(
  reg: RunningRegistry,
  repository: string,
  reference: string,
  options: { anonymous?: boolean } = {},
): Promise<{ digest: string; mediaType: string; size: number } | null> {
  const res = await reg.fetch(`/v2/${repository}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } }, options);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`HEAD ${repository}:${reference} -> ${res.status}`);
  return {
    digest: res.headers.get('docker-content-digest') ?? '',
    mediaType: res.headers.get('content-type') ?? '',
    size: Number(res.headers.get('content-length') ?? '0'),
  };
}

/** GET a manifest's exact bytes; checks them against the digest the registry names. */
export async function getManifest(
  reg: RunningRegistry,
  repository: string,
  reference: string,
  options: { anonymous?: boolean } = {},
): Promise<{ digest: string; mediaType: string; manifest: Buffer }> {
  const res = await reg.fetch(`/v2/${repository}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT } }, options);
  if (!res.ok) throw new Error(`GET ${repository}:${reference} -> ${res.status} ${await res.text()}`);
  const manifest = Buffer.from(await res.arrayBuffer());
  const digest = sha256Digest(manifest);
  const served = res.headers.get('docker-content-digest');
  if (served && served !== digest) throw new Error(`registry digest ${served} != content digest ${digest}`);
  if (reference.startsWith('sha256:') && reference !== digest) throw new Error(`content digest ${digest} != ${reference}`);
  return { digest, mediaType: res.headers.get('content-type') ?? '', manifest };
}

/** PUT manifest bytes under a tag or digest; returns the digest the registry reports. */
export async function pushRawManifest(
  reg: RunningRegistry,
  repository: string,
  reference: string,
  manifest: Buffer | string,
  mediaType: string,
): Promise<string> {
  const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(manifest);
  const res = await reg.fetch(`/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': mediaType },
    body: new Uint8Array(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT ${repository}:${reference} -> ${res.status} ${text}`);
  const digest = res.headers.get('docker-content-digest') ?? sha256Digest(body);
  if (digest !== sha256Digest(body)) throw new Error(`registry stored ${digest}, bytes hash to ${sha256Digest(body)}`);
  return digest;
}

/** Point `tag` at an existing manifest (exact bytes, so the same digest). */
export async function tagExisting(reg: RunningRegistry, repository: string, digest: string, tag: string): Promise<void> {
  const { manifest, mediaType } = await getManifest(reg, repository, digest);
  const stored = await pushRawManifest(reg, repository, tag, manifest, mediaType);
  if (stored !== digest) throw new Error(`tagging ${tag}: got ${stored}, expected ${digest}`);
}

/** `GET /v2/<repo>/tags/list` (one request; this registry ignores n/last and never paginates). */
export async function listTags(reg: RunningRegistry, repository: string, options: { anonymous?: boolean } = {}): Promise<string[]> {
  const res = await reg.fetch(`/v2/${repository}/tags/list`, {}, options);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`tags/list ${repository} -> ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { tags: string[] | null };
  return body.tags ?? [];
}

// ---------------------------------------------------------------------------------------
// builders

/** Build an image with umoci and push it with skopeo to each tag in order. */
export async function buildImage(reg: RunningRegistry, options: BuildImageOptions): Promise<BuiltImage> {
  validateCommit(options.commit);
  if (options.tags.length === 0) throw new Error('buildImage needs at least one tag');
  const layers = options.layers ?? 1;
  if (!Number.isInteger(layers) || layers < 1) throw new Error('layers must be an integer >= 1');
  const platform = parsePlatform(options.platform);
  const versionJson = Buffer.from(
    JSON.stringify(
      options.versionJson ?? {
        commit: options.commit,
        source: options.source ?? 'https://github.com/mozilla-releng/scriptworker-scripts',
        build: options.build ?? `https://firefox-ci-tc.services.mozilla.com/tasks/${slugid()}`,
      },
    ) + '\n',
  );

  await withLayoutLock(async () => {
    const ref = await buildRef({ layers, platform, versionJson });
    for (const tag of options.tags) await skopeoPush(reg, ref, `${options.repository}:${tag}`, options.format);
  });

  // the registry is the source of truth: every tag must serve the same manifest
  const served = await getManifest(reg, options.repository, options.tags[0]!);
  for (const tag of options.tags.slice(1)) {
    const h = await headManifest(reg, options.repository, tag);
    if (h?.digest !== served.digest) throw new Error(`tag ${tag} serves ${h?.digest}, expected ${served.digest}`);
  }
  const parsed = JSON.parse(served.manifest.toString('utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  return {
    digest: served.digest,
    manifest: served.manifest,
    mediaType: served.mediaType,
    configDigest: parsed.config.digest,
    layerDigests: parsed.layers.map((l) => l.digest),
    versionJson,
  };
}

/**
 * Build one image per platform, push each by digest (no tags), then PUT an index (OCI image
 * index, or Docker manifest list) whose bytes this function serialises, so its digest is
 * stable and known; pushed to each tag in order.
 */
export async function buildIndex(reg: RunningRegistry, options: BuildIndexOptions): Promise<BuiltIndex> {
  validateCommit(options.commit);
  const platforms = (options.platforms ?? ['linux/amd64', 'linux/arm64']).map(parsePlatform);
  const format = options.format ?? 'oci';
  const build = options.build ?? `https://firefox-ci-tc.services.mozilla.com/tasks/${slugid()}`;
  const versionJson = Buffer.from(
    JSON.stringify({ commit: options.commit, source: options.source ?? 'https://github.com/mozilla-releng/scriptworker-scripts', build }) + '\n',
  );
  const children: BuiltIndex['children'] = [];
  await withLayoutLock(async () => {
    for (const platform of platforms) {
      const ref = await buildRef({ layers: options.layers ?? 1, platform, versionJson });
      let digest: string;
      if (format === 'oci') {
        digest = readLayoutRef(ref).digest;
        await skopeoPush(reg, ref, `${options.repository}@${digest}`);
      } else {
        // convert to Docker schema 2 into a dir: copy first, so the digest is known before the push
        const dir = mkdtempSync(path.join(work(), 'v2s2-'));
        await sh('skopeo', ['copy', '--quiet', '--format', 'v2s2', `oci:${layoutPath()}:${ref}`, `dir:${dir}`]);
        digest = sha256Digest(readFileSync(path.join(dir, 'manifest.json')));
        await sh('skopeo', [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          ...credsArgs(reg, '--dest-creds'),
          `dir:${dir}`,
          `docker://${reg.host}/${options.repository}@${digest}`,
        ]);
      }
      const h = await headManifest(reg, options.repository, digest);
      if (!h || h.digest !== digest) throw new Error(`child ${digest} not served`);
      children.push({ platform, digest, mediaType: h.mediaType, size: h.size });
    }
  });
  const mediaType = format === 'oci' ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerManifestList;
  const index = {
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.size, platform: c.platform })),
  };
  const manifest = Buffer.from(JSON.stringify(index, null, 2) + '\n');
  const digest = sha256Digest(manifest);
  for (const tag of options.tags) {
    const stored = await pushRawManifest(reg, options.repository, tag, manifest, mediaType);
    if (stored !== digest) throw new Error(`index stored as ${stored}, expected ${digest}`);
  }
  return { digest, manifest, mediaType, children };
}

// ---------------------------------------------------------------------------------------
// direct storage writes (benchmarks)

function repoDir(reg: RunningRegistry, repository: string): string {
  return path.join(reg.storageDir, 'docker', 'registry', 'v2', 'repositories', ...repository.split('/'));
}

/**
 * Create tags by writing the filesystem driver's link files directly
 * (`_manifests/tags/<tag>/current/link` and `_manifests/tags/<tag>/index/sha256/<hex>/link`).
 * Every digest must already be a manifest revision of the repository. Thousands per second.
 * Verifies afterwards (one tags/list request) that the registry lists them, unless verify is false.
 */
export async function writeTagsDirectly(
  reg: RunningRegistry,
  repository: string,
  entries: { tag: string; digest: string }[],
  options: { verify?: boolean } = {},
): Promise<void> {
  const base = path.join(repoDir(reg, repository), '_manifests');
  const known = new Set<string>();
  for (const { tag, digest } of entries) {
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`invalid tag ${tag}`);
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw new Error(`invalid digest ${digest}`);
    const hex = m[1]!;
    if (!known.has(hex)) {
      if (!existsSync(path.join(base, 'revisions', 'sha256', hex, 'link'))) {
        throw new Error(`${digest} is not a manifest in ${repository}; push it first`);
      }
      known.add(hex);
    }
    const tagDir = path.join(base, 'tags', tag);
    mkdirSync(path.join(tagDir, 'current'), { recursive: true });
    writeFileSync(path.join(tagDir, 'current', 'link'), digest);
    const idx = path.join(tagDir, 'index', 'sha256', hex);
    mkdirSync(idx, { recursive: true });
    writeFileSync(path.join(idx, 'link'), digest);
  }
  if (options.verify === false) return;
  const listed = new Set(await listTags(reg, repository));
  const missing = entries.filter((e) => !listed.has(e.tag));
  if (missing.length > 0) throw new Error(`registry does not list ${missing.length} written tags, e.g. ${missing[0]!.tag}`);
}
