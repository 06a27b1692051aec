/**
 * The promote step: point a tag at an existing image without pulling or rebuilding it. The
 * manifest's exact bytes are PUT (same digest), blobs mounted or streamed only when the
 * repository differs, guarded by a compare-and-swap on the tag's digest and verified after.
 */
import { ConflictError, NotFoundError, RemoteError, UsageError, quote } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import { transferBlob, type BlobTransfer } from './blobs.js';
import { expectOk, pushScope, type RegistryClient } from './client.js';
import { maxManifestBytes, type Manifest } from './manifest.js';
import { formatReference, isDigest, type ImageReference } from './reference.js';

export interface CopyOptions {
  /** The digest the destination tag must point at now (`none`: must not exist). */
  expectCurrent?: string;
  /** An archive tag to write in the destination repository after the moving tag. */
  archiveTag?: string;
  dryRun?: boolean;
  concurrency?: number;
}

export type TagOutcome = 'written' | 'unchanged' | 'would-write';

export interface CopyResult {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  /** What the destination tag pointed at before (null: it did not exist). */
  previous: string | null;
  tag: TagOutcome;
  archiveTag: { tag: string; outcome: TagOutcome } | null;
  blobs: Record<BlobTransfer, number>;
  manifestsCopied: number;
  dryRun: boolean;
}

export async function copyImage(client: RegistryClient, src: ImageReference, dst: ImageReference, options: CopyOptions = {}): Promise<CopyResult> {
  if (!dst.tag || dst.digest) throw new UsageError(`<dst>: ${JSON.stringify(formatReference(dst))} must name a tag and no digest`);
  if (options.expectCurrent !== undefined && options.expectCurrent !== 'none' && !isDigest(options.expectCurrent)) {
    throw new UsageError(`--expect-current: ${JSON.stringify(options.expectCurrent)} is not a sha256 digest (or none)`);
  }
  const manifest = await client.getManifest(src);
  if (!manifest) throw new NotFoundError(`<src>: ${formatReference(src)} does not exist`);
  const target: ImageReference = { registry: dst.registry, repository: dst.repository, tag: dst.tag };
  const before = await client.headManifest(target);
  const previous = before?.digest ?? null;
  const result: CopyResult = {
    source: formatReference({ registry: src.registry, repository: src.repository, digest: manifest.digest }),
    destination: formatReference(target),
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    previous,
    tag: 'unchanged',
    archiveTag: null,
    blobs: { present: 0, mounted: 0, streamed: 0 },
    manifestsCopied: 0,
    dryRun: Boolean(options.dryRun),
  };
  if (previous !== manifest.digest) {
    if (options.expectCurrent !== undefined && (previous ?? 'none') !== options.expectCurrent) {
      throw new ConflictError(
        `${formatReference(target)} points at ${previous ?? 'nothing'}, not ${options.expectCurrent} as planned: it moved since the plan; nothing was written`,
      );
    }
    if (options.dryRun) {
      result.tag = 'would-write';
    } else {
      if (!sameRepository(src, dst)) await copyContent(client, src, dst, manifest, result, options.concurrency ?? 4);
      await putManifest(client, target, manifest);
      result.tag = 'written';
    }
  }
  if (options.archiveTag !== undefined) {
    result.archiveTag = { tag: options.archiveTag, outcome: await writeArchiveTag(client, dst, options.archiveTag, manifest, Boolean(options.dryRun)) };
  }
  return result;
}

function sameRepository(a: ImageReference, b: ImageReference): boolean {
  return a.registry === b.registry && a.repository === b.repository;
}

/** Children of an index first, then the blobs of each image manifest. */
async function copyContent(client: RegistryClient, src: ImageReference, dst: ImageReference, manifest: Manifest, result: CopyResult, concurrency: number): Promise<void> {
  for (const child of manifest.manifests) {
    const childManifest = await client.getManifest({ ...src, tag: undefined, digest: child.digest });
    if (!childManifest) throw new NotFoundError(`${formatReference(src)}: index child ${child.digest} does not exist`);
    await copyBlobs(client, src, dst, childManifest, result, concurrency);
    await putManifest(client, { registry: dst.registry, repository: dst.repository, digest: child.digest }, childManifest);
    result.manifestsCopied++;
  }
  await copyBlobs(client, src, dst, manifest, result, concurrency);
}

async function copyBlobs(client: RegistryClient, src: ImageReference, dst: ImageReference, manifest: Manifest, result: CopyResult, concurrency: number): Promise<void> {
  const blobs = [...(manifest.config ? [manifest.config] : []), ...manifest.layers];
  const outcomes = await mapLimit(blobs, concurrency, (blob) => transferBlob(client, src, dst, blob));
  for (const outcome of outcomes) result.blobs[outcome]++;
}

/** PUT the exact bytes; the registry's digest and a fresh HEAD must both equal the manifest's. */
export async function putManifest(client: RegistryClient, ref: ImageReference, manifest: Manifest): Promise<void> {
  const where = formatReference(ref);
  if (manifest.bytes.length > maxManifestBytes) throw new RemoteError(`${where}: manifest larger than ${maxManifestBytes} bytes`);
  const response = await client.request(
    {
      method: 'PUT',
      url: client.manifestUrl(ref),
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      scope: pushScope(ref),
      idempotent: true,
    },
    where,
  );
  expectOk(response, `PUT ${where}`);
  const answered = response.headers['docker-content-digest'];
  if (answered !== undefined && answered !== manifest.digest) {
    throw new RemoteError(`PUT ${where}: the registry stored ${quote(answered)}, not ${manifest.digest}`);
  }
  if (ref.tag) {
    const after = await client.headManifest(ref);
    if (after?.digest !== manifest.digest) {
      throw new ConflictError(`${where}: after the write it points at ${after?.digest ?? 'nothing'}, not ${manifest.digest}: another promotion may have raced this one`);
    }
  }
}

async function writeArchiveTag(client: RegistryClient, dst: ImageReference, tag: string, manifest: Manifest, dryRun: boolean): Promise<TagOutcome> {
  const ref: ImageReference = { registry: dst.registry, repository: dst.repository, tag };
  const existing = await client.headManifest(ref);
  if (existing?.digest === manifest.digest) return 'unchanged';
  if (existing) {
    throw new ConflictError(`archive tag ${formatReference(ref)} already records ${existing.digest}, not ${manifest.digest}; archive tags are never rewritten`);
  }
  if (dryRun) return 'would-write';
  await putManifest(client, ref, manifest);
  return 'written';
}
