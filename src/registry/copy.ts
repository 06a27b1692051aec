/**
 * The promote step: point a tag at an existing image without pulling or rebuilding it. The
 * manifest's exact bytes are PUT (same digest), blobs mounted or streamed only when the
 * repository differs, guarded by a compare-and-swap on the tag's digest and verified after.
 *
 * Every check comes before the first write, and independent reads go out together:
 *
 *   1. GET the source manifest, HEAD the archive tag (and HEAD the destination when nothing
 *      else must be checked first);
 *   2. the caller's checks on the image (provenance: /app/version.json) beside the
 *      destination HEAD, the compare-and-swap read, taken as late as possible;
 *   3. PUT the moving tag; 4. after a settle, HEAD it (and the archive tag) again;
 *   5. PUT the archive tag; 6. HEAD both again.
 *
 * When the check's reads went out with round 1 (the layer holding /app/version.json, named by
 * the plan and read ahead beside the manifest), round 2 is not needed: the destination HEAD
 * joins round 1, and the full promote step takes 5 round trips.
 *
 * The registry API has no conditional write. Two copies that both read the expected digest
 * both write; the one that wrote first finds out in step 4, when the settle has let the other
 * write land: it exits 3 ("raced") and writes no archive tag for a digest that is not live.
 * The settle is the re-read threshold (50 ms) plus twice this run's PUT time: every copy reads
 * again before writing when its read is older than the threshold, so a racer whose read came
 * before this write landed has sent its write within the threshold and had it land within
 * about a write's time, unless its network is much slower than this one's (docs/security.md).
 * (The threshold is one number for every copy, not one measured from this run's reads: those
 * include each new connection's handshakes, and a racer must be able to count on it.)
 */
import { ConflictError, NotFoundError, PromoteError, RemoteError, UsageError, quote } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import { abortableSleep } from '../util/abortable-sleep.js';
import { transferBlob, type BlobTransfer } from './blobs.js';
import { expectOk, pushScope, type ManifestHead, type RegistryClient } from './client.js';
import { maxManifestBytes, type Manifest } from './manifest.js';
import { retryableStatus } from './retry.js';
import { formatReference, isDigest, type ImageReference } from './reference.js';

export interface SettleBounds {
  /** Least settle before the verifying read (default 5 ms). */
  minMs: number;
  /** Most settle (default 5 s). */
  maxMs: number;
}

export const defaultSettle: SettleBounds = { minMs: 5, maxMs: 5_000 };

export interface CopyOptions {
  /** The digest the destination tag must point at now (`none`: must not exist). */
  expectCurrent?: string;
  /** An archive tag to write in the destination repository after the moving tag. */
  archiveTag?: string;
  dryRun?: boolean;
  concurrency?: number;
  /**
   * Checks on the source image that must pass before anything is written (provenance), given
   * its manifest (never fetched twice). They run beside the compare-and-swap read.
   */
  check?: (manifest: Manifest) => Promise<void>;
  /**
   * The check's own reads went out already (a layer read ahead): the compare-and-swap read
   * joins the first round instead of waiting for the manifest, and the check needs no round.
   */
  checkReadsAhead?: boolean;
  settle?: Partial<SettleBounds>;
  /** The destination is an archive tag: it is written only if it does not exist (or already holds the source). */
  neverRewrite?: boolean;
  /**
   * Tags of the destination repository of which one must point at the source already (the
   * moving tag whose deploy a new archive tag given as the destination records).
   */
  liveTags?: readonly string[];
  /** The clock and the wait (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The command's stop (its deadline, a signal): it ends the settle too, which then says what moved. */
  signal?: AbortSignal;
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
  /** How long the copy waited before its verifying read (0: no settle was needed). */
  settleMs: number;
  dryRun: boolean;
}

/** Another write landed on the destination after this run's: it did not win. Exit 3. */
export class RacedError extends ConflictError {
  readonly nowPointsAt: string | null;
  constructor(message: string, nowPointsAt: string | null) {
    super(message);
    this.nowPointsAt = nowPointsAt;
  }
}

export async function copyImage(client: RegistryClient, src: ImageReference, dst: ImageReference, options: CopyOptions = {}): Promise<CopyResult> {
  if (!dst.tag || dst.digest) throw new UsageError(`<dst>: ${JSON.stringify(formatReference(dst))} must name a tag and no digest`);
  if (options.expectCurrent !== undefined && options.expectCurrent !== 'none' && !isDigest(options.expectCurrent)) {
    throw new UsageError(`--expect-current: ${JSON.stringify(options.expectCurrent)} is not a sha256 digest (or none)`);
  }
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => stoppableSleep(ms, options.signal));
  const settle = { ...defaultSettle, ...options.settle };
  const target: ImageReference = { registry: dst.registry, repository: dst.repository, tag: dst.tag };
  const archive: ImageReference | null = options.archiveTag !== undefined ? { registry: dst.registry, repository: dst.repository, tag: options.archiveTag } : null;
  const where = formatReference(target);
  const rereadAfterMs = 50;

  // The compare-and-swap read, timed: a write long after it reads again first.
  let readAt = 0;
  const readDestination = async (): Promise<ManifestHead | undefined> => {
    const head = await client.headManifest(target);
    readAt = now();
    return head;
  };

  // A copy whose read is older than this when it is about to write reads again first: the
  // same for every copy, so that each one's settle can count on it for the others.

  // Round 1: the source, the archive tag, and the destination unless checks must come first.
  const [manifest, archiveBefore, early, live] = await Promise.all([
    client.getManifest(src),
    archive ? client.headManifest(archive) : Promise.resolve(undefined),
    options.check && !options.checkReadsAhead ? Promise.resolve(undefined) : readDestination(),
    Promise.all((options.liveTags ?? []).map((tag) => client.headManifest({ ...target, tag }))),
  ]);
  if (!manifest) throw new NotFoundError(`<src>: ${formatReference(src)} does not exist`);
  if (archive && archiveBefore && archiveBefore.digest !== manifest.digest) {
    throw new ConflictError(`archive tag ${formatReference(archive)} already records ${archiveBefore.digest}, not ${manifest.digest}; archive tags are never rewritten; nothing was written; give a new archive tag dated now`);
  }
  // Round 2: the checks on the image, beside the compare-and-swap read.
  let before = early;
  if (options.check && options.checkReadsAhead) await options.check(manifest);
  else if (options.check) [, before] = await Promise.all([options.check(manifest), readDestination()]);
  const previous = before?.digest ?? null;
  const result: CopyResult = {
    source: formatReference({ registry: src.registry, repository: src.repository, digest: manifest.digest }),
    destination: where,
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    previous,
    tag: previous === manifest.digest ? 'unchanged' : 'would-write',
    archiveTag: archive ? { tag: archive.tag!, outcome: archiveBefore ? 'unchanged' : 'would-write' } : null,
    blobs: { present: 0, mounted: 0, streamed: 0 },
    manifestsCopied: 0,
    settleMs: 0,
    dryRun: Boolean(options.dryRun),
  };
  const compareAndSwap = (seen: string | null): void => {
    if (seen === manifest.digest) return;
    if (options.neverRewrite && seen !== null) throw new ConflictError(`${where} is an archive tag and already records ${seen}, not ${manifest.digest}; archive tags are never rewritten; nothing was written; give a new archive tag dated now`);
    if (options.expectCurrent === undefined || (seen ?? 'none') === options.expectCurrent) return;
    throw new ConflictError(`${where} points at ${seen ?? 'nothing'}, not ${options.expectCurrent} as planned: it moved since the plan; nothing was written; look at what it points at now (tc-promote history) and plan again`);
  };
  compareAndSwap(previous);
  // An archive tag that exists already records an earlier deploy of this image: reusing it
  // for a move now would leave this deploy unrecorded (the pushlog would say the tag was
  // pointed back after the newer entries). Only a rerun that finds the move done may reuse it.
  if (archive && archiveBefore && previous !== manifest.digest) {
    throw new ConflictError(
      `archive tag ${formatReference(archive)} already records ${manifest.digest} (an earlier deploy), but ${where} points at ${previous ?? 'nothing'} now: moving it would be a new deploy that archive tag does not record; give a new archive tag dated now (--archive-tag ${archive.tag!.replace(/-\d{14}-/, '-<YYYYMMDDHHMMSS now, UTC>-')}); nothing was written`,
    );
  }
  // <dst> is a new archive tag: the deploy it records must be live (the moving tag points at the image).
  if (options.liveTags?.length && previous !== manifest.digest && !live.some((head) => head?.digest === manifest.digest)) {
    const seen = options.liveTags.map((tag, i) => `${formatReference({ ...target, tag })} points at ${live[i]?.digest ?? 'nothing'}`).join(', ');
    throw new ConflictError(
      `${where} would record a deploy of ${manifest.digest}, but ${seen}: an archive tag records a deploy that happened; copy onto the moving tag with --archive-tag ${target.tag} instead (it moves the tag, then records it); nothing was written`,
    );
  }
  if (options.dryRun) return result;

  if (previous !== manifest.digest) {
    if (!sameRepository(src, dst)) {
      await copyContent(client, src, dst, manifest, result, options.concurrency ?? 4);
    }
    // A copy with a compare-and-swap or a pushlog entry waits for a racer's write to land,
    // then reads: a plain retag needs no settle.
    const settled = options.expectCurrent !== undefined || options.neverRewrite || archive !== null;
    let put: TagPut;
    let putMs = 0;
    for (let attempt = 1; ; attempt++) {
      // Blobs copied, checks slow, or a failed write's wait: read again, so that the gap between the read and the write stays short.
      if (now() - readAt > rereadAfterMs) compareAndSwap((await readDestination())?.digest ?? null);
      const putStart = now();
      // A guarded write is never sent again by the retry layer after its wait: that write could
      // land after a racer's settle (both would report success). It is retried here, after a
      // fresh compare-and-swap read, only when the read-back shows it did not land.
      put = await putTag(client, target, manifest, { retried: !settled });
      putMs = now() - putStart;
      if (!put.failed || !put.transient || put.readBack !== previous || attempt >= guardedPutAttempts) break;
      await sleep(Math.min(8_000, (client.retry.baseDelayMs ?? 250) * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
    }
    if (put.failed) {
      // Read back at another image than the one it was and this one: another copy moved it
      // between this run's read and its failed write. That is a conflict (exit 3, as a lost
      // compare-and-swap is), not an operational failure: rollback reports it as one.
      if (settled && put.readBack !== undefined && put.readBack !== previous && put.readBack !== manifest.digest) {
        throw new ConflictError(
          `${put.failed.message}; read back, ${where} points at ${put.readBack ?? 'nothing'}, neither ${previous ?? 'nothing'} (as read) nor ${manifest.digest}: another copy moved it meanwhile; nothing was written${archive ? `; the archive tag ${archive.tag} was not written` : ''}; look at what it points at now (tc-promote history) and plan again`,
        );
      }
      const state =
        put.readBack === undefined
          ? `reading it back failed too, so ${where} points at either ${previous ?? 'nothing'} (nothing moved) or ${manifest.digest} (the write landed); run the same command again: it finishes the step or changes nothing`
          : `read back, ${where} points at ${put.readBack ?? 'nothing'}: the write did not land`;
      throw withNote(put.failed, `${state}${archive ? `; the archive tag ${archive.tag} was not written` : ''}`);
    }
    result.tag = 'written';
    // A racer read before this write landed (else it would have seen it and refused); it sends
    // its PUT within the re-read threshold of that read, and the PUT lands within about a
    // write's time: twice this run's, for a racer up to twice as far away.
    if (settled) result.settleMs = Math.round(Math.min(settle.maxMs, Math.max(settle.minMs, rereadAfterMs + 2 * putMs)));
    const [after, archiveNow] = await readBack(
      (async () => {
        if (settled) await sleep(result.settleMs);
        return Promise.all([client.headManifest(target), archive && !archiveBefore ? client.headManifest(archive) : Promise.resolve(undefined)]);
      })(),
      `${where} now points at ${manifest.digest} (this run moved it), but the read that checks no other copy wrote after it did not complete${archive && !archiveBefore ? `, so the archive tag ${archive.tag} was not written` : ''}: run the same command again, it leaves ${where} as it is${archive && !archiveBefore ? ' and writes the archive tag' : ''}`,
    );
    if (after?.digest !== manifest.digest) {
      throw new RacedError(
        `raced: ${where} now points at ${after?.digest ?? 'nothing'}, not at ${manifest.digest}, which this run wrote ${result.settleMs} ms before: another promotion wrote after it (or the registry did not keep this write), and the tag holds that one${archive ? `; the archive tag ${archive.tag} was not written` : ''}. Nothing else was written; check what ${where} should point at before running again`,
        after?.digest ?? null,
      );
    }
    if (archive && archiveNow && archiveNow.digest !== manifest.digest) {
      throw afterMove(
        new ConflictError(`archive tag ${formatReference(archive)} was written by someone else meanwhile and records ${archiveNow.digest}; archive tags are never rewritten`),
        where,
        manifest.digest,
        archive.tag!,
      );
    }
  }
  if (archive && !archiveBefore) {
    const put = await putTag(client, archive, manifest);
    if (put.failed) throw afterMove(put.failed, where, manifest.digest, archive.tag!, result.tag === 'written', put.readBack === undefined);
    result.archiveTag = { tag: archive.tag!, outcome: 'written' };
    const [archiveAfter, movingAfter] = await readBack(
      Promise.all([client.headManifest(archive), client.headManifest(target)]),
      `${where} and the archive tag ${archive.tag} were written (${manifest.digest}), but reading them back failed: run the same command again, it changes nothing when both are in place`,
    );
    if (archiveAfter?.digest !== manifest.digest) {
      // Someone else's archive tag of the same name (a conflict), or none at all: the registry did not keep the write.
      const kept = archiveAfter
        ? new ConflictError(`${formatReference(archive)}: after the write it points at ${archiveAfter.digest}, not ${manifest.digest}: another promotion may have raced this one`)
        : new RemoteError(`${formatReference(archive)}: the registry accepted the write but does not hold the tag when read back`);
      throw afterMove(kept, where, manifest.digest, archive.tag!, result.tag === 'written');
    }
    if (movingAfter?.digest !== manifest.digest) {
      throw new RacedError(
        `raced: ${where} now points at ${movingAfter?.digest ?? 'nothing'}: it was moved after this run pointed it at ${manifest.digest} and wrote the archive tag ${archive.tag}, which records that deploy; another promotion wrote after it and is the one that counts`,
        movingAfter?.digest ?? null,
      );
    }
  }
  return result;
}

interface TagPut {
  /** Why the PUT failed, unless it landed (answered, or read back at the digest). */
  failed?: RemoteError;
  /** The failure is one a retry may fix (the retry layer's statuses, a network failure). */
  transient?: boolean;
  /** After a failed PUT: what the tag points at (null: nothing), undefined when that read failed too. */
  readBack?: string | null;
}

/** Attempts of a guarded PUT (each after a fresh compare-and-swap read), as the retry layer's. */
const guardedPutAttempts = 5;

/** A write that failed in a way a retry may fix. */
class TransientWriteError extends RemoteError {}

/**
 * PUT a tag. A failed PUT (an error status, an answer lost after the registry acted) says
 * nothing about the tag: read it back. At the digest, the write landed and its answer was
 * lost; otherwise the caller says what is known.
 */
async function putTag(client: RegistryClient, ref: ImageReference, manifest: Manifest, options: { retried?: boolean } = {}): Promise<TagPut> {
  try {
    await putManifest(client, ref, manifest, { verify: false, ...(options.retried === false && { retried: false }) });
    return {};
  } catch (error) {
    if (!(error instanceof RemoteError)) throw error;
    let readBack: string | null | undefined;
    try {
      readBack = (await client.headManifest(ref))?.digest ?? null;
    } catch {
      readBack = undefined;
    }
    return readBack === manifest.digest ? {} : { failed: error, transient: error instanceof TransientWriteError, readBack };
  }
}

/** The settle's wait, ended early by the command's stop (as every request is). */
async function stoppableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await abortableSleep(ms, signal);
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw new RemoteError(`the settle before the verifying read was stopped: ${reason instanceof Error ? reason.message : 'the command was stopped'}`);
}

/** Reads after a write: a failure says what was written before it, and how a rerun finishes. */
async function readBack<T>(reads: Promise<T>, note: string): Promise<T> {
  try {
    return await reads;
  } catch (error) {
    throw error instanceof PromoteError ? withNote(error, note) : new RemoteError(`${(error as Error)?.message ?? String(error)}; ${note}`, { cause: error });
  }
}

/** The same kind of error (its exit code), with what is known about the registry's state after it. */
function withNote(error: PromoteError, note: string): PromoteError {
  const Kind = error instanceof ConflictError ? ConflictError : error instanceof NotFoundError ? NotFoundError : error instanceof UsageError ? UsageError : RemoteError;
  return new Kind(`${error.message}; ${note}`, { cause: error });
}

/** An error after the moving tag moved says so, and how a rerun finishes the step. */
function afterMove(error: unknown, where: string, digest: string, archiveTag: string, moved = true, unknown = false): unknown {
  const archive = unknown ? `the archive tag ${archiveTag} may not have been written (reading it back failed too)` : `the archive tag ${archiveTag} was not written`;
  const note = `${where} ${moved ? 'now points at' : 'already pointed at'} ${digest}${moved ? ' (this run moved it)' : ''}, but ${archive}: run the same command again, it leaves ${where} as it is and writes the archive tag`;
  if (error instanceof PromoteError) return withNote(error, note);
  return new RemoteError(`${(error as Error)?.message ?? String(error)}; ${note}`, { cause: error });
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

/**
 * PUT the exact bytes; the registry's digest must equal the manifest's, and (unless the caller
 * verifies, as copyImage does after its settle) a fresh HEAD of a tag too.
 */
export async function putManifest(client: RegistryClient, ref: ImageReference, manifest: Manifest, options: { verify?: boolean; retried?: boolean } = {}): Promise<void> {
  const where = formatReference(ref);
  if (manifest.bytes.length > maxManifestBytes) throw new RemoteError(`${where}: manifest larger than ${maxManifestBytes} bytes`);
  // retried: false: one attempt; a failure a retry may fix is a TransientWriteError, for the caller to retry.
  const once = options.retried === false;
  let response;
  try {
    response = await client.request(
      {
        method: 'PUT',
        url: client.manifestUrl(ref),
        headers: { 'content-type': manifest.mediaType },
        body: manifest.bytes,
        scope: pushScope(ref),
        idempotent: !once,
      },
      where,
    );
  } catch (error) {
    // A network failure (reset, timeout) reaches here as a RemoteError; the command's stop does not count.
    const code = (error as { cause?: { code?: unknown } })?.cause?.code;
    if (once && error instanceof RemoteError && typeof code === 'string' && code !== 'EABORTED') throw new TransientWriteError(error.message, { cause: error });
    throw error;
  }
  if (once && retryableStatus.has(response.status)) {
    try {
      expectOk(response, `PUT ${where}`);
    } catch (error) {
      throw new TransientWriteError((error as Error).message, { cause: error });
    }
  }
  expectOk(response, `PUT ${where}`);
  const answered = response.headers['docker-content-digest'];
  if (answered !== undefined && answered !== manifest.digest) {
    throw new RemoteError(`PUT ${where}: the registry stored ${quote(answered)}, not ${manifest.digest}`);
  }
  if (ref.tag && options.verify !== false) {
    const after = await client.headManifest(ref);
    if (after?.digest !== manifest.digest) {
      throw new ConflictError(`${where}: after the write it points at ${after?.digest ?? 'nothing'}, not ${manifest.digest}: another promotion may have raced this one`);
    }
  }
}
