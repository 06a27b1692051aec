/**
 * follow and cancel a promotion already submitted (`rollback --no-wait`, a rollback whose
 * terminal was closed, the UI action), as `kubectl rollout status` and `argo rollouts abort`
 * do: find its task group (given, or the in-flight index entry of a script's environment, or
 * the task group its hold names), read the promotion back from its tasks, then follow it to
 * the end with the same outcome as rollback (the moving tag read from the registry, the hold,
 * the workers), or cancel what has not run and say what already did. Typed options in, a typed
 * result out; progress through callbacks; no console, argv or environment.
 */
import type { Config } from '../config/load.js';
import { PromoteError, UsageError } from '../errors.js';
import { readHold, type HoldIndex } from '../history/hold.js';
import { createClients, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import { followTaskGroup, type FollowResult, type StateChange, type TaskState } from '../taskcluster/follow.js';
import { loadPromotionGroup, readInFlight, type GroupQueue, type InFlightRecord, type PromotionGroup } from '../taskcluster/in-flight.js';
import type { PoolReport } from '../taskcluster/verify.js';
import type { WorkerPools } from '../config/pools.js';
import { readAfterMove, readMovingDigest, type AfterMove } from './after-move.js';
import { holdKey } from './hold.js';
import { buildRuntime, type RuntimeOptions } from './runtime.js';

export interface LocateOptions {
  config: Config;
  connection: TaskclusterConnection;
  /** A task group id; else script and env. */
  taskGroupId?: string;
  script?: string;
  env?: string;
  /** Clients (tests, or made already); made from `connection` otherwise. */
  queue?: GroupQueue & Record<string, unknown>;
  index?: HoldIndex;
}

export interface Located {
  group: PromotionGroup;
  /** How the group was found. */
  foundBy: 'task group' | 'in-flight entry' | 'hold';
  entry: InFlightRecord | null;
  queue: GroupQueue & Record<string, unknown>;
  index: HoldIndex;
}

const resolved = new Set<TaskState>(['completed', 'failed', 'exception']);

/** The promotion to follow or cancel: its group and its tasks' states now. Not found: exit 4, naming what was looked at. */
export async function locatePromotion(options: LocateOptions): Promise<Located> {
  const clients = options.queue && options.index ? undefined : await createClients(options.connection, { retries: 3 });
  const queue = options.queue ?? (clients!.queue as unknown as Located['queue']);
  const index = options.index ?? (clients!.index as unknown as HoldIndex);
  if (options.taskGroupId !== undefined) {
    const group = await loadPromotionGroup(queue, options.taskGroupId);
    if (!options.config.scripts.includes(group.script) || !Object.hasOwn(options.config.environments, group.env)) {
      throw new UsageError(`task group ${group.taskGroupId} promotes ${group.script} ${group.env}, which this configuration does not have: give the one it was planned with (--config FILE)`);
    }
    // The environment's in-flight entry, when it names this group, says what it is (rollback or promote) and who asked.
    let entry: InFlightRecord | null = null;
    try {
      if (options.config.scripts.includes(group.script) && Object.hasOwn(options.config.environments, group.env)) {
        const found = await readInFlight(index, holdKey({ config: options.config, script: group.script, env: group.env }));
        if (found?.taskGroupId === group.taskGroupId) entry = found;
      }
    } catch {
      // Optional: the group alone says enough to follow it.
    }
    return { group, foundBy: 'task group', entry, queue, index };
  }
  if (options.script === undefined || options.env === undefined) throw new UsageError('follow: give a task group id, or a script (with --env)');
  const key = holdKey({ config: options.config, script: options.script, env: options.env });
  const entry = await readInFlight(index, key);
  if (entry) return { group: await loadPromotionGroup(queue, entry.taskGroupId), foundBy: 'in-flight entry', entry, queue, index };
  const hold = await readHold(index, key);
  if (hold.state === 'held' && hold.record.taskGroupId) return { group: await loadPromotionGroup(queue, hold.record.taskGroupId), foundBy: 'hold', entry: null, queue, index };
  throw new PromoteError(`${options.script} ${options.env}: no promotion submitted from tc-promote is on record (no in-flight index entry, no hold naming a task group); a promotion from the UI action: give its task group id (tc-promote follow <task group>)`, 4);
}

/** Whether any task of the group has not resolved (and can still run). */
export function inFlight(group: PromotionGroup): boolean {
  return group.tasks.some((t) => !resolved.has(t.state));
}

export interface FollowPromotionOptions extends LocateOptions {
  runtime: RuntimeOptions;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  verify?: { pools: WorkerPools; timeoutMs: number; intervalMs?: number } | null;
  onLocated?: (located: Located) => void;
  onChange?: (change: StateChange) => void;
  onPollError?: (message: string, inARow: number) => void;
  onFollowed?: (followed: FollowResult) => void;
  onVerifyProgress?: (pools: readonly PoolReport[]) => void;
  nowMs?: () => number;
}

export interface FollowPromotionResult {
  located: Located;
  followed: FollowResult;
  records: Map<string, Record<string, unknown>>;
  after?: AfterMove;
}

/** Follow a submitted promotion to its end (at once when it has ended): the same outcome rollback reaches. */
export async function followPromotion(options: FollowPromotionOptions): Promise<FollowPromotionResult> {
  const located = await locatePromotion(options);
  options.onLocated?.(located);
  const { group, queue } = located;
  const now = options.nowMs ?? Date.now;
  const followed = await followTaskGroup(queue as never, group.taskGroupId, group.tasks, {
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    ...(options.signal && { signal: options.signal }),
    ...(options.onChange && { onChange: options.onChange }),
    ...(options.onPollError && { onPollError: options.onPollError }),
  });
  options.onFollowed?.(followed);
  const records = followed.settled ? await readRecords(queue, group.tasks.map((t) => t.taskId), followed) : new Map<string, Record<string, unknown>>();
  const main = group.tasks.filter((t) => t.kind !== 'fallback');
  if (!followed.settled || group.route !== 'retag') return { located, followed, records };
  const completed = main.every((t) => followed.states.get(t.taskId) === 'completed');
  const config = options.config;
  const key = holdKey({ config, script: group.script, env: group.env });
  const promote = group.tasks.find((t) => t.kind === 'promote');
  const after = await readAfterMove({
    runtime: buildRuntime({ ...options.runtime, config }),
    script: group.script,
    env: group.env,
    movingTag: group.movingTag,
    targetDigest: group.target.digest ?? null,
    recordTime: promote ? records.get(promote.taskId)?.time : undefined,
    hold: () => readHold(located.index, key),
    verify: options.verify ?? null,
    queue,
    nowMs: now,
    ...(!completed && { skipVerify: 'the promotion did not complete' }),
    ...(options.signal && { signal: options.signal }),
    ...(options.onVerifyProgress && { onVerifyProgress: options.onVerifyProgress }),
  });
  return { located, followed, records, after };
}

export interface CancelOptions extends LocateOptions {
  runtime: RuntimeOptions;
  /** List what would be cancelled; cancel nothing. */
  dryRun?: boolean;
  /** Asked before anything is cancelled, unless `yes`: true cancels. */
  confirm?: (plan: CancelPlan) => Promise<boolean>;
  yes?: boolean;
  onLocated?: (located: Located) => void;
}

export interface CancelPlan {
  located: Located;
  /** Tasks not resolved yet, dependents first (the order they are cancelled in). */
  toCancel: PromotionGroup['tasks'];
  /** Tasks that resolved already: what ran. */
  ran: PromotionGroup['tasks'];
}

export interface CancelResult extends CancelPlan {
  outcome: 'nothing-to-cancel' | 'dry-run' | 'not-confirmed' | 'cancelled';
  /** Per task asked: the state the Queue answered, or why cancelTask failed. */
  cancelled: { taskId: string; label: string; state: string | null; error: string | null }[];
  /** The group as the Queue lists it afterwards (null when not read again). */
  after: PromotionGroup | null;
  /** What the moving tag points at now, from the registry; null: the tag does not exist; undefined: not read (why in readError). */
  readDigest?: string | null;
  readError?: string;
  hold: Awaited<ReturnType<typeof readHold>> | { state: 'unknown'; error: string };
}

/**
 * Cancel the promotion's unfinished tasks (dependents first: a fallback cancelled before the
 * promote task it waits on, so that the cancelled promote cannot set it off to force-push),
 * then read back what ran, what the moving tag points at, and the hold.
 */
export async function cancelPromotion(options: CancelOptions): Promise<CancelResult> {
  const located = await locatePromotion(options);
  options.onLocated?.(located);
  const { group, queue } = located;
  const toCancel = group.tasks.filter((t) => !resolved.has(t.state)).reverse();
  const ran = group.tasks.filter((t) => resolved.has(t.state));
  const plan: CancelPlan = { located, toCancel, ran };
  const finish = async (outcome: CancelResult['outcome'], cancelled: CancelResult['cancelled'], after: PromotionGroup | null): Promise<CancelResult> => {
    const runtime = buildRuntime({ ...options.runtime, config: options.config });
    let readDigest: string | null | undefined;
    let readError: string | undefined;
    if (group.route === 'retag' && group.movingTag !== '?') {
      try {
        readDigest = await readMovingDigest(runtime, group.script, group.env, group.movingTag);
      } catch (error) {
        readError = (error as Error).message;
      }
    }
    const key = holdKey({ config: options.config, script: group.script, env: group.env });
    const hold = await readHold(located.index, key).catch((error: unknown) => ({ state: 'unknown' as const, error: (error as Error).message }));
    return { ...plan, outcome, cancelled, after, ...(readDigest !== undefined && { readDigest }), ...(readError !== undefined && { readError }), hold };
  };
  if (toCancel.length === 0) return finish('nothing-to-cancel', [], null);
  if (options.dryRun) return finish('dry-run', [], null);
  if (!options.yes) {
    if (!options.confirm) throw new UsageError('cancel: nothing to confirm with; nothing was cancelled');
    if (!(await options.confirm(plan))) return finish('not-confirmed', [], null);
  }
  const cancelled: CancelResult['cancelled'] = [];
  const cancelTask = (queue as { cancelTask?: (taskId: string) => Promise<unknown> }).cancelTask;
  if (typeof cancelTask !== 'function') throw new PromoteError('cancel: this Queue client cannot cancel tasks', 1);
  for (const t of toCancel) {
    try {
      const answer = (await cancelTask.call(queue, t.taskId)) as { status?: { state?: unknown } } | null;
      cancelled.push({ taskId: t.taskId, label: t.label, state: typeof answer?.status?.state === 'string' ? answer.status.state : null, error: null });
    } catch (error) {
      const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
      // A task that resolved meanwhile cannot be cancelled (409): it ran; the group read below says how it ended.
      cancelled.push({ taskId: t.taskId, label: t.label, state: null, error: `${typeof e.statusCode === 'number' ? `${e.statusCode} ` : ''}${typeof e.code === 'string' ? `${e.code}: ` : ''}${String(e.message ?? error).split('\n')[0]}` });
    }
  }
  const after = await loadPromotionGroup(queue, group.taskGroupId).catch(() => null);
  return finish('cancelled', cancelled, after);
}

/** The records (public/promotion.json) of tasks that ended; a task that wrote none is left out. */
async function readRecords(queue: unknown, taskIds: readonly string[], outcome: FollowResult): Promise<Map<string, Record<string, unknown>>> {
  const { downloadRecord } = await import('../history/records.js');
  const records = new Map<string, Record<string, unknown>>();
  await Promise.all(
    taskIds.map(async (taskId) => {
      const state = outcome.states.get(taskId);
      if (state !== 'completed' && state !== 'failed' && state !== 'exception') return;
      try {
        records.set(taskId, await downloadRecord(queue as never, taskId));
      } catch {
        // A task that ended before writing its record: the state says enough.
      }
    }),
  );
  return records;
}

export interface InFlightRow {
  script: string;
  env: string;
  entry: InFlightRecord;
  /** Unresolved tasks, with their states. */
  open: { label: string; state: TaskState }[];
}

/** For status: the promotions still in flight among these pairs (read errors become notes). */
export async function inFlightPromotions(options: { config: Config; connection: TaskclusterConnection; pairs: readonly { script: string; env: string }[]; concurrency?: number }): Promise<{ rows: InFlightRow[]; notes: string[] }> {
  const { mapLimit } = await import('../util/concurrency.js');
  const clients = await createClients(options.connection, { retries: 1, timeout: 5_000, maxDelay: 1_000 });
  const rows: InFlightRow[] = [];
  const notes: string[] = [];
  await mapLimit(options.pairs, options.concurrency ?? 8, async ({ script, env }) => {
    try {
      const entry = await readInFlight(clients.index as never, holdKey({ config: options.config, script, env }));
      if (!entry) return;
      const group = await loadPromotionGroup(clients.queue as never, entry.taskGroupId).catch((error: unknown) => {
        // An entry whose group expired (404) is a promotion long over.
        if ((error as PromoteError).exitCode === 4) return null;
        throw error;
      });
      if (group && inFlight(group)) rows.push({ script, env, entry, open: group.tasks.filter((t) => !resolved.has(t.state)).map((t) => ({ label: t.label, state: t.state })) });
    } catch (error) {
      notes.push(`${script} ${env}: promotions in flight not read: ${(error as Error).message.split('\n')[0]}`);
    }
  });
  rows.sort((a, b) => (a.script === b.script ? a.env.localeCompare(b.env) : a.script.localeCompare(b.script)));
  return { rows, notes };
}
