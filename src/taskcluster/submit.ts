/**
 * Create a graph's tasks with the Queue: each task as soon as the tasks it depends on exist
 * (the Queue refuses a dependency that does not), at most `concurrency` calls in flight.
 * When a create fails, the tasks that depend on it are not created, and the error lists
 * them; independent tasks still are. createTask is idempotent, so running a submission
 * again with the same graph completes it.
 */
import { ExitCode, PromoteError, RemoteError } from '../errors.js';
import type { GraphTask, TaskGraph } from '../graph/build.js';
import { maxConcurrentCalls, taskclusterError } from '../taskcluster-api/clients.js';

/** What submission needs of a Queue client (taskcluster-client's Queue, or a fake). */
export interface TaskCreator {
  createTask(taskId: string, task: object): Promise<unknown>;
}

export interface SubmitOptions {
  /** Most createTask calls in flight (default 50). */
  concurrency?: number;
  onCreated?: (task: GraphTask) => void;
  /**
   * The command's stop (its deadline): no create starts after it, and one in flight is given
   * up on (it may exist: submitting again completes the graph), so the error lists what was created.
   */
  signal?: AbortSignal;
}

export interface TaskRef {
  label: string;
  taskId: string;
}

export interface SubmitResult {
  taskGroupId: string;
  created: TaskRef[];
  failed: (TaskRef & { error: string })[];
  /** Not created because a task they depend on was not. */
  notCreated: (TaskRef & { blockedBy: string[] })[];
}

/** Most createTask calls in flight (as many as the client keeps sockets). */
export const defaultConcurrency = maxConcurrentCalls;

export class SubmitError extends PromoteError {
  constructor(
    readonly result: SubmitResult,
    exitCode: ExitCode,
    /** Why the submission stopped (Ctrl-C, the deadline): with nothing created, the Queue refused nothing; the creates were given up on. */
    stopped?: string,
  ) {
    const lines = [
      stopped !== undefined && !result.created.length
        ? `stopped: ${stopped}, while creating the tasks: none is known to exist, ${result.failed.length} given up on or not sent; submitting the same graph again completes it:`
        : result.created.length
        ? `${result.failed.length} task(s) could not be created; ${result.created.length} were (${result.created.map((c) => c.label).join(', ')}), and submitting the same graph again completes it:`
        : `nothing was created: the Queue refused ${result.failed.length === 1 ? 'the task' : `${result.failed.length} tasks`}${result.notCreated.length ? ` and the ${result.notCreated.length} after it were not sent` : ''}:`,
      ...result.failed.map((f) => `  ${f.label} (${f.taskId}): ${f.error}`),
    ];
    if (result.notCreated.length) {
      lines.push(`not created because a task they depend on was not (${result.notCreated.length}):`);
      lines.push(...result.notCreated.map((n) => `  ${n.label} (${n.taskId}), after ${n.blockedBy.join(', ')}`));
    }
    super(lines.join('\n'), exitCode);
  }
}

function limiter(concurrency: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** `call`, unless `signal` stops first: not sent after the stop; given up on (it may have landed) when in flight. */
async function untilStopped<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return call();
  const reason = (): string => (signal.reason instanceof Error ? signal.reason.message : 'the command was stopped');
  if (signal.aborted) throw new RemoteError(`not sent: ${reason()}`);
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(new RemoteError(`given up on: ${reason()}; it may have been created (submitting again is safe)`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(), stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

export async function submitGraph(queue: TaskCreator, graph: Pick<TaskGraph, 'taskGroupId' | 'tasks'>, options: SubmitOptions = {}): Promise<SubmitResult> {
  const limit = limiter(Math.max(1, options.concurrency ?? defaultConcurrency));
  const result: SubmitResult = { taskGroupId: graph.taskGroupId, created: [], failed: [], notCreated: [] };
  const outcome = new Map<string, Promise<boolean>>();
  const labels = new Map(graph.tasks.map((t) => [t.taskId, t.label]));
  let firstFailure: PromoteError | undefined;
  for (const graphTask of graph.tasks) {
    const { label, taskId, task } = graphTask;
    // Dependencies outside the graph (the action task) exist already.
    const inGraph = task.dependencies.filter((d) => labels.has(d));
    const missing = inGraph.filter((d) => !outcome.has(d));
    if (missing.length) throw new PromoteError(`${label}: depends on ${missing.join(', ')}, which come later in the graph; tasks must be in dependency order`, ExitCode.usage);
    outcome.set(
      taskId,
      (async () => {
        const ready = await Promise.all(inGraph.map((d) => outcome.get(d)!));
        if (ready.some((ok) => !ok)) {
          result.notCreated.push({ label, taskId, blockedBy: inGraph.filter((_, i) => !ready[i]).map((d) => labels.get(d)!) });
          return false;
        }
        return limit(async () => {
          try {
            const answer = await untilStopped(() => queue.createTask(taskId, task), options.signal);
            // A create the Queue did not confirm is not counted as one (a proxy's HTML page, an empty 200).
            if ((answer as { status?: { taskId?: unknown } } | undefined)?.status?.taskId !== taskId) {
              throw new RemoteError(`createTask ${taskId}: the Queue's answer is not a task status for ${taskId}; the task may not exist (submitting again is safe)`);
            }
          } catch (error) {
            const typed = taskclusterError(error, `createTask ${taskId}`);
            firstFailure ??= typed;
            let message = typed.message;
            if (typed.exitCode === ExitCode.conflict && (task as { tags?: { kind?: string } }).tags?.kind === 'promote') {
              // Promote task ids are keyed on the tag and its digest at plan time (graph/build.ts).
              message += `; another promotion of this tag from the same digest was submitted first as task ${taskId}: it wins. After it finished, plan again; to retry from this state after it failed, pass --attempt N`;
            }
            result.failed.push({ label, taskId, error: message });
            return false;
          }
          result.created.push({ label, taskId });
          options.onCreated?.(graphTask);
          return true;
        });
      })(),
    );
  }
  await Promise.all(outcome.values());
  const order = new Map(graph.tasks.map((t, i) => [t.taskId, i]));
  const byGraphOrder = (a: TaskRef, b: TaskRef): number => order.get(a.taskId)! - order.get(b.taskId)!;
  result.created.sort(byGraphOrder);
  result.failed.sort(byGraphOrder);
  result.notCreated.sort(byGraphOrder);
  if (firstFailure) throw new SubmitError(result, firstFailure.exitCode, options.signal?.aborted ? (options.signal.reason instanceof Error ? options.signal.reason.message : 'the command was stopped') : undefined);
  return result;
}
