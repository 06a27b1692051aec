/**
 * Provenance: every image carries `/app/version.json` ({commit, source, build}) in its last
 * layer. Read it from the layers newest first, stop at the first hit, and compare its commit
 * with the revision an archive tag claims.
 */
import type { Readable } from 'node:stream';
import { RemoteError } from '../errors.js';
import { loadZlib } from '../util/builtins.js';
import { pullScope, expectOk, followRedirect, type RegistryClient } from './client.js';
import type { RegistryResponse } from './transport.js';
import type { Descriptor, Manifest } from './manifest.js';
import { formatReference, type ImageReference } from './reference.js';
import { findInTar, TarFormatError } from './tar.js';

export const versionFilePath = 'app/version.json';
const maxVersionFileBytes = 64 * 1024;
/** Layers a runnable image can have (overlayfs stacks at most 127, plus a margin). */
export const maxLayersSearched = 128;

export interface VersionInfo {
  commit: string | null;
  source: string | null;
  build: string | null;
}

export interface Provenance {
  /** What /app/version.json says, or null when no layer has it. */
  version: VersionInfo | null;
  /** The revision the archive tag claims, when there is one. */
  expectedRevision: string | null;
  /** null: nothing to compare. */
  matches: boolean | null;
  /** The platform manifest read, for a multi-arch index. */
  checkedManifest: string;
  layersRead: number;
  /** The layer /app/version.json was found in (a later copy may read it ahead: `--version-layer`). */
  layer: string | null;
}

/**
 * A layer read started before its manifest arrived: the layer that plan found /app/version.json
 * in, read beside the source manifest to save a round trip. It is used only if it is the
 * image's newest layer, where the search starts anyway; otherwise it is dropped unread.
 */
export interface LayerReadAhead {
  digest: string;
  /** The read, for the one search that uses it. */
  take(): Promise<RegistryResponse>;
  /** Stop the read if nothing took it. */
  dispose(): void;
}

export function readLayerAhead(client: RegistryClient, ref: ImageReference, digest: string): LayerReadAhead {
  let used = false;
  // A read nobody takes is stopped, however far it got: a server that never answers it (or
  // answers slowly, or a huge body) must not keep the process alive after the step is done.
  const stop = new AbortController();
  const response = openLayer(client, ref, digest, stop.signal);
  // Awaited later, or disposed: its failure is reported where it is used, or not at all.
  response.catch(() => undefined);
  return {
    digest,
    take: () => {
      used = true;
      return response;
    },
    dispose: () => {
      if (!used) {
        stop.abort(new Error(`the read ahead of layer ${digest} was not used`));
        void response.then((r) => r.stream?.destroy(), () => undefined);
      }
      used = true;
    },
  };
}

export async function readProvenance(client: RegistryClient, ref: ImageReference, expectedRevision: string | null, manifest?: Manifest, ahead?: LayerReadAhead): Promise<Provenance> {
  let image = manifest ?? (await client.getManifest(ref));
  if (!image) throw new RemoteError(`${formatReference(ref)}: manifest not found while reading /app/version.json`);
  if (image.manifests.length) {
    // An index: read one platform's image (linux/amd64 when present); they are built from one commit.
    const child = image.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ?? image.manifests[0]!;
    const childManifest = await client.getManifest({ registry: ref.registry, repository: ref.repository, digest: child.digest });
    if (!childManifest) throw new RemoteError(`${formatReference(ref)}: index child ${child.digest} not found`);
    image = childManifest;
  }
  if (image.layers.length > maxLayersSearched) {
    throw new RemoteError(`${formatReference(ref)}: manifest ${image.digest} lists ${image.layers.length} layers, more than any runnable image (${maxLayersSearched}); refusing to search them for /app/version.json`);
  }
  let version: VersionInfo | null = null;
  let layersRead = 0;
  let found: string | null = null;
  const newestFirst = [...image.layers].reverse();
  if (ahead && ahead.digest !== newestFirst[0]?.digest) ahead.dispose();
  for (const [i, layer] of newestFirst.entries()) {
    layersRead++;
    const opened = i === 0 && ahead?.digest === layer.digest ? ahead.take() : openLayer(client, ref, layer.digest);
    const content = await searchLayer(await opened, layer, ref);
    if (content) {
      version = parseVersion(content, `${formatReference(ref)} /app/version.json`);
      found = layer.digest;
      break;
    }
  }
  const matches = expectedRevision === null || version === null ? null : version.commit === expectedRevision;
  return { version, expectedRevision, matches, checkedManifest: image.digest, layersRead, layer: found };
}

function parseVersion(content: Buffer, where: string): VersionInfo {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch {
    throw new RemoteError(`${where}: not valid JSON`);
  }
  const field = (k: string): string | null => (typeof json[k] === 'string' ? (json[k] as string) : null);
  return { commit: field('commit'), source: field('source'), build: field('build') };
}

async function openLayer(client: RegistryClient, ref: ImageReference, digest: string, signal?: AbortSignal): Promise<RegistryResponse> {
  const where = `layer ${digest} of ${formatReference(ref)}`;
  let url = `${client.repositoryUrl(ref)}/blobs/${digest}`;
  // Read only until the file is found, so the request deadline covers the body too: a layer
  // trickled a byte at a time (or a decompression bomb) ends at the deadline.
  let response = await client.request({ method: 'GET', url, scope: pullScope(ref), idempotent: true, stream: true, streamDeadline: true, ...(signal && { signal }) }, where);
  for (let hops = 0; response.status >= 300 && response.status < 400 && response.headers.location && hops < 5; hops++) {
    response.stream?.destroy();
    url = followRedirect(response.headers.location, url, where);
    response = await client.request({ method: 'GET', url, idempotent: true, stream: true, streamDeadline: true, ...(signal && { signal }) }, where, { withoutAuth: true });
  }
  expectOk(response, where);
  return response;
}

async function searchLayer(response: RegistryResponse, layer: Descriptor, ref: ImageReference): Promise<Buffer | undefined> {
  const where = `layer ${layer.digest} of ${formatReference(ref)}`;
  if (!response.stream) return undefined;
  const source = response.stream;
  const stream = decompress(source, layer.mediaType);
  try {
    return await findInTar(stream, versionFilePath, maxVersionFileBytes);
  } catch (error) {
    if (error instanceof TarFormatError) throw new RemoteError(`${where}: ${error.message}`);
    throw new RemoteError(`${where}: cannot read the layer (${(error as Error).message})`);
  } finally {
    // Stop the download as soon as the file is found (or the layer fails).
    source.destroy();
  }
}

function decompress(stream: Readable, mediaType: string): Readable {
  if (!/gzip|zstd/.test(mediaType)) return stream;
  const zlib = loadZlib();
  const inflate = /gzip/.test(mediaType) ? zlib.createGunzip() : zlib.createZstdDecompress();
  stream.on('error', (error) => inflate.destroy(error));
  return stream.pipe(inflate);
}
