/**
 * Images built with tc-promote's own registry client, as the drill needs them: a shared base
 * layer and a last layer holding /app/version.json ({commit, source, build}), as production
 * images have it; gzip-compressed tar layers, an OCI config and manifest, uploaded directly
 * (POST an upload, PUT the bytes with their digest; the manifest PUT to each tag). No skopeo,
 * no umoci, no Docker engine.
 */
import { RemoteError } from '../errors.js';
import { expectOk, pushScope, type RegistryClient } from '../registry/client.js';
import { mediaTypes, sha256Digest } from '../registry/manifest.js';
import type { ImageReference } from '../registry/reference.js';
import { loadZlib } from '../util/builtins.js';

type Repo = Pick<ImageReference, 'registry' | 'repository'>;

/** A tar archive of regular files (ustar headers), ended by two zero blocks. */
export function tarOf(files: readonly { path: string; content: Buffer; mtime: number }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of files) {
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string): void => void header.write(value, offset, length, 'ascii');
    const octal = (offset: number, length: number, value: number): void => field(offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
    field(0, 100, file.path);
    octal(100, 8, 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, file.content.length);
    octal(136, 12, Math.floor(file.mtime / 1000));
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, file.content, Buffer.alloc((512 - (file.content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface Layer {
  digest: string;
  diffId: string;
  bytes: Buffer;
}

export function layerOf(files: readonly { path: string; content: Buffer; mtime: number }[]): Layer {
  const tar = tarOf(files);
  // A fixed gzip header time: the same files make the same layer.
  const bytes = loadZlib().gzipSync(tar, { level: 6 });
  return { digest: sha256Digest(bytes), diffId: sha256Digest(tar), bytes };
}

async function blobExists(client: RegistryClient, repo: Repo, digest: string): Promise<boolean> {
  const where = `blob ${digest}`;
  const response = await client.request({ method: 'HEAD', url: `${client.repositoryUrl(repo)}/blobs/${digest}`, scope: pushScope(repo), idempotent: true }, where);
  if (response.status === 404) return false;
  expectOk(response, where);
  return true;
}

/** Upload a blob unless the repository has it: POST an upload session, PUT the bytes with their digest. */
export async function uploadBlob(client: RegistryClient, repo: Repo, bytes: Buffer, digest = sha256Digest(bytes)): Promise<string> {
  if (await blobExists(client, repo, digest)) return digest;
  const where = `uploading blob ${digest}`;
  const start = `${client.repositoryUrl(repo)}/blobs/uploads/`;
  const opened = await client.request({ method: 'POST', url: start, scope: pushScope(repo), idempotent: true }, where);
  if (opened.status !== 202 || !opened.headers.location) {
    expectOk(opened, where);
    throw new RemoteError(`${where}: the registry opened no upload session (HTTP ${opened.status})`);
  }
  const put = new URL(opened.headers.location, start);
  put.searchParams.set('digest', digest);
  const done = await client.request({ method: 'PUT', url: put.toString(), headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: bytes, scope: pushScope(repo), idempotent: false }, where);
  expectOk(done, where);
  return digest;
}

export async function putManifest(client: RegistryClient, repo: Repo, tag: string, bytes: Buffer, mediaType: string): Promise<void> {
  const where = `putting ${repo.repository}:${tag}`;
  const response = await client.request({ method: 'PUT', url: `${client.repositoryUrl(repo)}/manifests/${tag}`, headers: { 'content-type': mediaType }, body: bytes, scope: pushScope(repo), idempotent: true }, where);
  expectOk(response, where);
}

export interface BuiltImage {
  digest: string;
  manifest: Buffer;
}

export interface ImageSpec {
  commit: string;
  /** The build's date (the config's `created`, the version file's time). */
  createdMs: number;
  source: string;
  build: string;
}

/** An image: the repository's base layer and a version.json layer, its config and manifest; pushed to each tag in order. */
export async function pushImage(client: RegistryClient, repo: Repo, base: Layer, spec: ImageSpec, tags: readonly string[]): Promise<BuiltImage> {
  const version = Buffer.from(`${JSON.stringify({ commit: spec.commit, source: spec.source, build: spec.build })}\n`);
  const top = layerOf([{ path: 'app/version.json', content: version, mtime: spec.createdMs }]);
  const created = new Date(spec.createdMs).toISOString();
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], WorkingDir: '/app', Labels: { 'org.opencontainers.image.revision': spec.commit } },
      rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] },
      history: [{ created, created_by: 'tc-promote drill: base' }, { created, created_by: 'tc-promote drill: /app/version.json' }],
    }),
  );
  const [configDigest] = await Promise.all([uploadBlob(client, repo, config), uploadBlob(client, repo, base.bytes, base.digest), uploadBlob(client, repo, top.bytes, top.digest)]);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [base, top].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.bytes.length })),
    }),
  );
  for (const tag of tags) await putManifest(client, repo, tag, manifest, mediaTypes.ociManifest);
  return { digest: sha256Digest(manifest), manifest };
}
