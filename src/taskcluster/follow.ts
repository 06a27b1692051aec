/**
 * Follow a submitted graph until every task of it resolves: one listTaskGroup (paged) a poll,
 * the interval growing while nothing changes and back to the first after a change, every
 * change of a task's state reported once. A task that can never run (unscheduled, with a
 * dependency that did not complete and `requires: all-completed`) counts as settled. A poll
 * that fails is reported and retried at the next interval; the timeout ends the wait (the
 * tasks go on in Taskcluster).
 */
import { PromoteError } from '../errors.js';
import { taskclusterError } from '../taskcluster-api/clients.js';
import { abortableSleep } from '../util/abortable-sleep.js';

export type TaskState = 'unscheduled' | 'pending' | 'running' | 'completed' | 'failed' | 'exception';

/** What following needs of a Queue (taskcluster-client's, or a fake). */
export interface TaskGroupLister {
  listTaskGroup(taskGroupId: string, query?: { continuationToken?: string; limit?: number }): Promise<{ tasks?: unknown; continuationToken?: unknown }>;
}

export interface FollowedTask {
  taskId: string;
  label: string;
  dependencies: readonly string[];
  requires: 'all-completed' | 'all-resolved';
}

export interface StateChange {
  label: string;
  taskId: string;
  from: TaskState | null;
  to: TaskState;
  /** True when the task can never run (a dependency did not complete). */
  blocked?: boolean;
}

export interface FollowOptions {
  /** First poll interval (default 2 s). */
  intervalMs?: number;
  /** Longest interval while nothing changes (default 15 s). */
  maxIntervalMs?: number;
  timeoutMs: number;
  onChange?: (change: StateChange) => void;
  /** A poll that failed; `inARow` counts the failed polls since the last one that answered. */
  onPollError?: (message: string, inARow: number) => void;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FollowResult {
  states: Map<string, TaskState>;
  /** Tasks that will never run (unscheduled behind a dependency that did not complete). */
  blocked: Set<string>;
  settled: boolean;
  polls: number;
  /** Why following stopped before every task resolved, when `signal` stopped it (Ctrl-C, the command deadline). */
  stopped?: string;
  /** The timeout passed while the Queue had not answered a poll yet (the poll was left behind). */
  timedOutInPoll?: boolean;
}

/** How long a poll made at (or past) the deadline may take. */
export const lastPollGraceMs = 1_000;

const resolved = new Set<TaskState>(['completed', 'failed', 'exception']);
const states = new Set<string>(['unscheduled', 'pending', 'running', 'completed', 'failed', 'exception']);

export async function followTaskGroup(queue: TaskGroupLister, taskGroupId: string, tasks: readonly FollowedTask[], options: FollowOptions): Promise<FollowResult> {
  const first = options.intervalMs ?? 2_000;
  const longest = Math.max(first, options.maxIntervalMs ?? 15_000);
  const now = options.now ?? Date.now;
  const signal = options.signal;
  // The wait between two polls ends at the stop too: a Ctrl-C is answered at once, not after up to 15 s.
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, signal));
  const stoppedBy = (): string => (signal?.reason instanceof Error ? signal.reason.message : 'the command was stopped');
  const deadline = now() + options.timeoutMs;
  const known = new Map<string, TaskState>();
  const blocked = new Set<string>();
  const ours = new Set(tasks.map((t) => t.taskId));
  let interval = first;
  let polls = 0;
  let failedInARow = 0;
  for (;;) {
    polls++;
    let changed = false;
    try {
      const listed = listStates(queue, taskGroupId, ours);
      // A poll the Queue does not answer does not hold up a stop (Ctrl-C), nor the timeout: a
      // Queue whose pages each take seconds ends at --timeout, with what was seen so far.
      // The last poll, at the deadline, still gets a second to answer.
      const poll = await untilAborted(listed, signal, Math.max(lastPollGraceMs, deadline - now()));
      if (poll.ended !== 'answered') return poll.ended === 'signal' ? { states: known, blocked, settled: false, polls, stopped: stoppedBy() } : { states: known, blocked, settled: false, polls, timedOutInPoll: true };
      const seen = poll.value;
      for (const task of tasks) {
        const state = seen.get(task.taskId);
        if (state === undefined || known.get(task.taskId) === state) continue;
        options.onChange?.({ label: task.label, taskId: task.taskId, from: known.get(task.taskId) ?? null, to: state });
        known.set(task.taskId, state);
        changed = true;
      }
      for (const task of tasks) {
        if (known.get(task.taskId) !== 'unscheduled' || blocked.has(task.taskId)) continue;
        const deps = task.dependencies.filter((d) => ours.has(d)).map((d) => known.get(d));
        if (task.requires === 'all-completed' && deps.some((s) => s !== undefined && resolved.has(s) && s !== 'completed')) {
          blocked.add(task.taskId);
          options.onChange?.({ label: task.label, taskId: task.taskId, from: 'unscheduled', to: 'unscheduled', blocked: true });
        }
      }
      failedInARow = 0;
    } catch (error) {
      options.onPollError?.(taskclusterError(error, `listTaskGroup ${taskGroupId}`).message, ++failedInARow);
    }
    const settled = tasks.every((t) => blocked.has(t.taskId) || resolved.has(known.get(t.taskId) ?? 'unscheduled'));
    if (settled) return { states: known, blocked, settled: true, polls };
    if (signal?.aborted) return { states: known, blocked, settled: false, polls, stopped: stoppedBy() };
    const left = deadline - now();
    if (left <= 0) return { states: known, blocked, settled: false, polls };
    interval = changed ? first : Math.min(longest, Math.round(interval * 1.5));
    await sleep(Math.min(interval, left));
    if (signal?.aborted) return { states: known, blocked, settled: false, polls, stopped: stoppedBy() };
  }
}

/** The states of our tasks in the group, over every page. */
async function listStates(queue: TaskGroupLister, taskGroupId: string, ours: ReadonlySet<string>): Promise<Map<string, TaskState>> {
  const found = new Map<string, TaskState>();
  let continuationToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await queue.listTaskGroup(taskGroupId, continuationToken ? { continuationToken } : {});
    if (!answer || !Array.isArray(answer.tasks)) throw new PromoteError(`listTaskGroup ${taskGroupId}: the Queue's answer has no tasks array`, 1);
    for (const entry of answer.tasks as unknown[]) {
      const status = (entry as { status?: { taskId?: unknown; state?: unknown } } | null)?.status;
      if (typeof status?.taskId !== 'string' || typeof status.state !== 'string' || !states.has(status.state)) continue;
      if (ours.has(status.taskId)) found.set(status.taskId, status.state as TaskState);
    }
    continuationToken = typeof answer.continuationToken === 'string' && answer.continuationToken ? answer.continuationToken : undefined;
    if (!continuationToken || found.size === ours.size) break;
  }
  return found;
}

/**
 * `work`'s value, or why it was left to finish on its own: `signal` aborted (Ctrl-C, the
 * command's deadline) or `withinMs` passed (the follow's timeout, on real timers).
 */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, withinMs: number): Promise<{ ended: 'answered'; value: T } | { ended: 'signal' | 'timeout' }> {
  work.catch(() => undefined);
  if (signal?.aborted) return { ended: 'signal' };
  let onAbort: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = new Promise<{ ended: 'signal' | 'timeout' }>((resolve) => {
    onAbort = () => resolve({ ended: 'signal' });
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => resolve({ ended: 'timeout' }), withinMs);
  });
  try {
    return await Promise.race([work.then((value) => ({ ended: 'answered' as const, value })), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
