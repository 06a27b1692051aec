/**
 * Did the workers pick it up? After the move, watch the environment's worker pools through the
 * Queue: workers whose first claim is after the move (k8s replaced the pods, which pulled the
 * moved tag), and the outcome of the tasks they ran since. listWorkers (paged) per pool, then
 * getWorker for each new worker (its recentTasks, the last 20) and the status of each of those
 * tasks. A pool is decided once a new worker has completed a task, or one failed; the wait ends
 * when every pool is decided or the timeout passes. "No new workers yet" is an outcome, not an
 * error: the pods may not have been replaced yet.
 *
 * Library code: typed options in, typed result out, progress through a callback.
 */
import { taskclusterError } from '../taskcluster-api/clients.js';
import { abortableSleep } from '../util/abortable-sleep.js';
import { lastPollGraceMs } from './follow.js';

export interface WorkerQueue {
  listWorkers(provisionerId: string, workerType: string, query?: { continuationToken?: string; limit?: number }): Promise<unknown>;
  getWorker(provisionerId: string, workerType: string, workerGroup: string, workerId: string): Promise<unknown>;
  status(taskId: string): Promise<unknown>;
}

export interface PoolReport {
  /** provisionerId/workerType */
  pool: string;
  /** Workers seen in the pool (any first claim). */
  workers: number;
  /** workerGroup/workerId of workers whose first claim is at or after the move. */
  newWorkers: string[];
  completed: number;
  failed: number;
  /** Tasks of new workers still pending or running. */
  running: number;
  /** The last poll of this pool failed. */
  error?: string;
}

export type VerifyOutcome = 'verified' | 'failing' | 'no-new-workers' | 'partial' | 'no-pools';

export interface VerifyResult {
  outcome: VerifyOutcome;
  pools: PoolReport[];
  /** When the watch started counting (the move). */
  since: string;
  elapsedMs: number;
  polls: number;
  /** Why the wait ended before every pool was decided, when a signal stopped it. */
  stopped?: string;
}

export interface VerifyOptions {
  queue: WorkerQueue;
  pools: readonly string[];
  /** The time the tag moved: workers first claiming after it run the new image. */
  sinceMs: number;
  timeoutMs: number;
  intervalMs?: number;
  maxIntervalMs?: number;
  onProgress?: (pools: readonly PoolReport[]) => void;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const decided = (p: PoolReport): boolean => p.completed > 0 || p.failed > 0;

export async function verifyWorkers(options: VerifyOptions): Promise<VerifyResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const since = new Date(options.sinceMs).toISOString();
  if (options.pools.length === 0) return { outcome: 'no-pools', pools: [], since, elapsedMs: 0, polls: 0 };
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, options.signal));
  const first = options.intervalMs ?? 5_000;
  const longest = Math.max(first, options.maxIntervalMs ?? 30_000);
  let interval = first;
  let polls = 0;
  let reports: PoolReport[] = options.pools.map((pool) => ({ pool, workers: 0, newWorkers: [], completed: 0, failed: 0, running: 0 }));
  let previous = '';
  for (;;) {
    polls++;
    const polled = Promise.all(reports.map((r) => (decided(r) && r.failed > 0 ? Promise.resolve(r) : pollPool(options.queue, r.pool, options.sinceMs).catch((error: unknown) => ({ ...r, error: taskclusterError(error, `listWorkers ${r.pool}`).message })))));
    // A Queue that takes longer than the time left (or a stop) does not hold the command: what was seen stands.
    const answer = await within(polled, Math.max(lastPollGraceMs, started + options.timeoutMs - now()), options.signal);
    if (answer === undefined) {
      const late = reports.map((r) => (decided(r) ? r : { ...r, error: 'the Queue had not answered the last poll when the verify timeout passed' }));
      return { outcome: outcomeOf(late), pools: late, since, elapsedMs: now() - started, polls, ...(options.signal?.aborted && { stopped: options.signal.reason instanceof Error ? options.signal.reason.message : 'stopped' }) };
    }
    reports = answer;
    const shown = JSON.stringify(reports);
    if (shown !== previous) options.onProgress?.(reports);
    const changed = shown !== previous;
    previous = shown;
    const done = reports.every(decided);
    const left = started + options.timeoutMs - now();
    if (done || left <= 0 || options.signal?.aborted) {
      return { outcome: outcomeOf(reports), pools: reports, since, elapsedMs: now() - started, polls, ...(options.signal?.aborted && !done && { stopped: options.signal.reason instanceof Error ? options.signal.reason.message : 'stopped' }) };
    }
    interval = changed ? first : Math.min(longest, Math.round(interval * 1.5));
    await sleep(Math.min(interval, left));
  }
}

/** `work`'s value, or undefined once `ms` pass or `signal` aborts (the work is left to finish on its own). */
async function within<T>(work: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    onAbort = () => resolve(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort!);
  }
}

function outcomeOf(reports: readonly PoolReport[]): VerifyOutcome {
  if (reports.some((r) => r.failed > 0)) return 'failing';
  if (reports.every((r) => r.completed > 0)) return 'verified';
  if (reports.every((r) => r.newWorkers.length === 0)) return 'no-new-workers';
  return 'partial';
}

async function pollPool(queue: WorkerQueue, pool: string, sinceMs: number): Promise<PoolReport> {
  const [provisionerId, workerType] = pool.split('/') as [string, string];
  const fresh: { workerGroup: string; workerId: string }[] = [];
  let workers = 0;
  let continuationToken: string | undefined;
  for (let page = 0; page < 50; page++) {
    const answer = (await queue.listWorkers(provisionerId, workerType, continuationToken ? { continuationToken } : {})) as { workers?: unknown; continuationToken?: unknown } | null;
    if (!answer || !Array.isArray(answer.workers)) throw new Error(`listWorkers ${pool}: the answer has no workers array`);
    for (const w of answer.workers as { workerGroup?: unknown; workerId?: unknown; firstClaim?: unknown }[]) {
      if (typeof w?.workerGroup !== 'string' || typeof w.workerId !== 'string') continue;
      workers++;
      const first = typeof w.firstClaim === 'string' ? Date.parse(w.firstClaim) : NaN;
      if (Number.isFinite(first) && first >= sinceMs) fresh.push({ workerGroup: w.workerGroup, workerId: w.workerId });
    }
    continuationToken = typeof answer.continuationToken === 'string' && answer.continuationToken ? answer.continuationToken : undefined;
    if (!continuationToken) break;
  }
  const report: PoolReport = { pool, workers, newWorkers: fresh.map((w) => `${w.workerGroup}/${w.workerId}`), completed: 0, failed: 0, running: 0 };
  const seen = new Set<string>();
  for (const w of fresh.slice(0, 20)) {
    const worker = (await queue.getWorker(provisionerId, workerType, w.workerGroup, w.workerId)) as { recentTasks?: { taskId?: unknown; runId?: unknown }[] } | null;
    for (const t of worker?.recentTasks ?? []) {
      if (typeof t?.taskId !== 'string' || seen.has(`${t.taskId}/${String(t.runId)}`)) continue;
      seen.add(`${t.taskId}/${String(t.runId)}`);
      const status = ((await queue.status(t.taskId)) as { status?: { runs?: { runId?: unknown; state?: unknown }[] } } | null)?.status;
      const run = status?.runs?.find((r) => r.runId === t.runId) ?? status?.runs?.at(-1);
      if (run?.state === 'completed') report.completed++;
      else if (run?.state === 'failed' || run?.state === 'exception') report.failed++;
      else report.running++;
    }
  }
  return report;
}

/** One line per pool, and what it means. */
export function describeVerification(result: VerifyResult, timeoutText: string): string[] {
  if (result.outcome === 'no-pools') return ['workers: no worker pools configured for this script and environment (config/worker-pools.json, tc-promote pools): not verified'];
  const lines = result.pools.map((p) => {
    const tasks = `${p.completed} completed, ${p.failed} failed${p.running ? `, ${p.running} running` : ''}`;
    const error = p.error ? ` (last poll failed: ${p.error.split('\n')[0]})` : '';
    return `  ${p.pool}: ${p.newWorkers.length ? `${p.newWorkers.length} new worker(s) since ${result.since} (of ${p.workers}), their tasks ${tasks}` : `no new workers yet (of ${p.workers})`}${error}`;
  });
  const head: Record<VerifyOutcome, string> = {
    verified: 'workers: every pool has new workers completing tasks on the new image',
    failing: 'workers: tasks FAILED on new workers: the image moved to may be bad too (look at the tasks above)',
    'no-new-workers': `workers: no new workers yet in ${timeoutText}: the pods have not been replaced (the deployment pulls the tag when it restarts them); tc-promote status shows the tag`,
    partial: `workers: not every pool has a new worker that completed a task within ${timeoutText}`,
    'no-pools': '',
  };
  return [head[result.outcome], ...lines];
}
