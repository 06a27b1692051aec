/**
 * Holds: a script's environment kept where it is until someone releases it. A hold lives in
 * the Taskcluster index at `<trust domain>.v2.<project>.hold.<script>.<env>`, the record in the
 * entry's `data` (who, why, when, which image), ranked by the second it was written so that the
 * newest write wins (the index keeps the highest rank; equal ranks: the latest). A release
 * writes a record with `held: false` (who released it and when), so the entry always says the
 * last thing that happened. scriptworker-scripts' push task reads it through its Taskcluster
 * proxy (`curl http://taskcluster/index/v1/task/<path>`, anonymous scope `index:find-task:*`)
 * and, while held, writes the archive tag without moving the moving tag. Why the index and not
 * the registry: docs/decisions.md ("Holds").
 *
 * Library code: typed input, typed result, no console, argv or environment.
 */
import { PromoteError, RemoteError, quote } from '../errors.js';
import { isSlugid, niceSlugid } from '../taskcluster-api/slugid.js';
import { formatAge } from '../util/duration.js';

/** What a hold reads and writes of an Index (taskcluster-client's, or a fake). */
export interface HoldIndex {
  findTask(indexPath: string): Promise<unknown>;
  insertTask(namespace: string, payload: { taskId: string; rank: number; data: Record<string, unknown>; expires: string }): Promise<unknown>;
}

export interface HoldImage {
  /** The archive tag of the deploy held at, when known. */
  tag: string | null;
  digest: string | null;
  revision: string | null;
}

export interface HoldRecord {
  held: boolean;
  script: string;
  env: string;
  /** Who placed the hold (the Taskcluster client id, or the action's requester). */
  by: string;
  reason: string;
  /** ISO 8601 UTC: when the hold was placed. */
  at: string;
  /** The image the environment is held at (null: what it runs when the hold is read). */
  image: HoldImage | null;
  /** The promotion's task group that placed it, when a rollback did. */
  taskGroupId: string | null;
  /** Set when released. */
  releasedBy?: string;
  releasedAt?: string;
  releaseReason?: string;
}

export interface HoldKey {
  trustDomain: string;
  project: string;
  script: string;
  env: string;
}

export type HoldState = { state: 'none'; path: string } | { state: 'held' | 'released'; path: string; record: HoldRecord; taskId: string };

export function holdIndexPath(key: HoldKey): string {
  return `${key.trustDomain}.v2.${key.project}.hold.${key.script}.${key.env}`;
}

/** The index keeps an entry until it expires: a hold outlives any incident (two years), and says so. */
export const holdLifetimeDays = 730;

/** The hold of one script's environment, as the index has it. A 404 is no hold; any other failure throws (a hold that cannot be read is not "no hold"). */
export async function readHold(index: HoldIndex, key: HoldKey): Promise<HoldState> {
  const path = holdIndexPath(key);
  let answer: unknown;
  try {
    answer = await index.findTask(path);
  } catch (error) {
    if ((error as { statusCode?: unknown }).statusCode === 404) return { state: 'none', path };
    throw new RemoteError(`hold: the Taskcluster index could not be read at ${path} (${firstLine(error)}); whether ${key.script} ${key.env} is held is unknown`, { cause: error });
  }
  const entry = answer as { taskId?: unknown; data?: unknown } | null;
  const record = parseHoldRecord(entry?.data);
  if (!record) throw new RemoteError(`hold: the index entry ${path} is not a hold record tc-promote wrote (data ${quote(JSON.stringify(entry?.data ?? null).slice(0, 200))}); see docs/decisions.md (Holds)`);
  return { state: record.held ? 'held' : 'released', path, record, taskId: typeof entry?.taskId === 'string' ? entry.taskId : '' };
}

export function parseHoldRecord(data: unknown): HoldRecord | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const d = data as Record<string, unknown>;
  const text = (k: string): string | null => (typeof d[k] === 'string' ? (d[k] as string) : null);
  if (typeof d.held !== 'boolean' || text('script') === null || text('env') === null || text('by') === null || text('at') === null) return null;
  const image = d.image && typeof d.image === 'object' ? (d.image as Record<string, unknown>) : null;
  const field = (o: Record<string, unknown>, k: string): string | null => (typeof o[k] === 'string' ? (o[k] as string) : null);
  return {
    held: d.held,
    script: text('script')!,
    env: text('env')!,
    by: text('by')!,
    reason: text('reason') ?? '',
    at: text('at')!,
    image: image ? { tag: field(image, 'tag'), digest: field(image, 'digest'), revision: field(image, 'revision') } : null,
    taskGroupId: text('taskGroupId'),
    ...(text('releasedBy') !== null && { releasedBy: text('releasedBy')! }),
    ...(text('releasedAt') !== null && { releasedAt: text('releasedAt')! }),
    ...(text('releaseReason') !== null && { releaseReason: text('releaseReason')! }),
  };
}

export interface PlaceHoldOptions {
  key: HoldKey;
  by: string;
  reason: string;
  image: HoldImage | null;
  taskGroupId?: string | null;
  /** The task the entry points at (the promote task of a rollback); a new slugid otherwise. */
  taskId?: string;
  nowMs: number;
  /**
   * Ctrl-C (or the deadline) while the entry is written: the index writes an entry whole or not
   * at all (one row), but whether this write reached it is unknown until it is read back; so
   * the hold is read back (within 1.5 s) and the error says which: written, not written, or
   * unknown with the command that tells.
   */
  signal?: AbortSignal;
}

/** Place (or replace) the hold. Returns what was written. */
export async function placeHold(index: HoldIndex, options: PlaceHoldOptions): Promise<HoldState & { state: 'held' }> {
  const record: HoldRecord = {
    held: true,
    script: options.key.script,
    env: options.key.env,
    by: options.by,
    reason: options.reason,
    at: new Date(options.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    image: options.image,
    taskGroupId: options.taskGroupId ?? null,
  };
  const taskId = options.taskId !== undefined && isSlugid(options.taskId) ? options.taskId : niceSlugid();
  const path = await write(index, options.key, record, taskId, options.nowMs, options.signal);
  return { state: 'held', path, record, taskId };
}

export interface ReleaseHoldOptions {
  key: HoldKey;
  by: string;
  reason?: string;
  nowMs: number;
  signal?: AbortSignal;
}

/** Release the hold; the record keeps who held it and why, and adds who released it. Releasing what is not held is refused (exit 4), so a typo in the script or environment says so. */
export async function releaseHold(index: HoldIndex, options: ReleaseHoldOptions): Promise<{ before: HoldState & { state: 'held' }; after: HoldState & { state: 'released' } }> {
  const before = await readHold(index, options.key);
  if (before.state !== 'held') {
    throw new PromoteError(
      `release: ${options.key.script} ${options.key.env} is not held${before.state === 'released' ? ` (released by ${before.record.releasedBy ?? '?'} at ${before.record.releasedAt ?? '?'})` : ''}; nothing was written`,
      4,
    );
  }
  const record: HoldRecord = { ...before.record, held: false, releasedBy: options.by, releasedAt: new Date(options.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(options.reason !== undefined && { releaseReason: options.reason }) };
  const path = await write(index, options.key, record, before.taskId && isSlugid(before.taskId) ? before.taskId : niceSlugid(), options.nowMs, options.signal);
  return { before: before as HoldState & { state: 'held' }, after: { state: 'released', path, record, taskId: before.taskId } };
}

/** Ctrl-C while the hold was written: the error says whether the index has it, read back. */
export class HoldInterruptedError extends PromoteError {
  constructor(
    message: string,
    readonly written: boolean | null,
  ) {
    super(message, 1);
  }
}

async function write(index: HoldIndex, key: HoldKey, record: HoldRecord, taskId: string, nowMs: number, signal?: AbortSignal): Promise<string> {
  const path = holdIndexPath(key);
  if (signal?.aborted) throw new HoldInterruptedError(`stopped: ${reasonOf(signal)}, before the hold was written: the hold is unchanged (${path} not written)`, false);
  const insert = index.insertTask(path, {
    taskId,
    // The index's rank is an integer column: seconds since the epoch fit until 2038; the newest write wins.
    rank: Math.floor(nowMs / 1000),
    data: record as unknown as Record<string, unknown>,
    expires: new Date(nowMs + holdLifetimeDays * 86_400_000).toISOString(),
  });
  if (signal) {
    insert.catch(() => undefined);
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<'stopped'>((resolve) => {
      onAbort = () => resolve('stopped');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const first = await Promise.race([insert.then(() => 'written' as const, () => 'failed' as const), stopped]).finally(() => signal.removeEventListener('abort', onAbort!));
    if (first === 'stopped') throw await interrupted(index, insert, key, record, path, reasonOf(signal));
  }
  try {
    await insert;
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    const scope = status === 403 ? ` (needs index:insert-task:${path})` : '';
    throw new RemoteError(`hold: could not write the index entry ${path}${scope}: ${firstLine(error)}; the hold is unchanged`, { cause: error });
  }
  return path;
}

function reasonOf(signal: AbortSignal): string {
  return (signal.reason as Error | undefined)?.message ?? 'stopped';
}

/**
 * A stop mid-write: the write's own answer decides (waited for 1.2 s); without one, the hold is
 * read back. The index keeps this record whole, or the one before, never part of one.
 */
async function interrupted(index: HoldIndex, insert: Promise<unknown>, key: HoldKey, record: HoldRecord, path: string, reason: string): Promise<HoldInterruptedError> {
  const within = <T,>(p: Promise<T>, ms: number): Promise<T | 'late'> => Promise.race([p, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), ms).unref())]);
  const release = `tc-promote release ${key.script} --env ${key.env}`;
  const said = record.held ? `held by ${record.by} since ${record.at}` : `released by ${record.releasedBy ?? '?'}`;
  const whole = (how: string): HoldInterruptedError => new HoldInterruptedError(`stopped: ${reason}, while the hold was written: the hold was written whole (${path}: ${said}; ${how})${record.held ? `; ${release} ends it` : ''}`, true);
  const answer = await within(insert.then(() => 'written' as const, () => 'failed' as const), 1200);
  if (answer === 'written') return whole('the index answered');
  if (answer === 'failed') return new HoldInterruptedError(`stopped: ${reason}, while the hold was written: it was not written (the index refused or failed the write); the hold is unchanged`, false);
  const back = await within(readHold(index, key).catch(() => null), 500);
  const ours = back !== 'late' && back !== null && back.state !== 'none' && back.record.at === record.at && back.record.by === record.by && back.record.held === record.held && back.record.reason === record.reason;
  if (ours) return whole('read back');
  const now = back === 'late' || back === null ? 'the index did not answer a read either' : `the index reads ${back.state === 'none' ? 'no hold' : `${back.state}, as before`} so far`;
  return new HoldInterruptedError(`stopped: ${reason}, while the hold was written: not known to be written (${now}; the request may still land, and an entry is written whole or not at all); tc-promote status --script ${key.script} --env ${key.env} --holds says which`, null);
}

/** One line a person reads: held since when by whom, why, at which image, how to release. */
export function describeHold(hold: HoldState, nowMs: number, releaseCommand: string): string {
  if (hold.state === 'none') return 'not held: the next push moves the moving tag';
  const r = hold.record;
  if (hold.state === 'released') return `not held (released by ${r.releasedBy ?? '?'} at ${r.releasedAt ?? '?'}; held before by ${r.by}: ${oneLine(r.reason)})`;
  const since = Math.max(0, Math.round((nowMs - Date.parse(r.at)) / 1000));
  const at = r.image ? ` at ${r.image.tag ?? r.image.digest ?? '?'}` : '';
  return `held${at} since ${r.at} (${formatAge(since)} ago) by ${r.by}: ${oneLine(r.reason)}; a push writes its archive tag but does not move the moving tag; release: ${releaseCommand}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim() || 'no reason recorded';
}

function firstLine(error: unknown): string {
  const e = error as { statusCode?: number; message?: string };
  return `${typeof e?.statusCode === 'number' ? `HTTP ${e.statusCode}: ` : ''}${String(e?.message ?? error).split('\n')[0]!.slice(0, 200)}`;
}
