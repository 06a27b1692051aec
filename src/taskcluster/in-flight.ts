/**
 * A promotion in flight, and how to find it again: `rollback` and `promote` write an index
 * entry `<trust domain>.v2.<project>.in-flight.<script>.<env>` (the newest submission wins;
 * it expires with the tasks' deadline) just before creating the graph, so that `follow`,
 * `cancel` and `status` find the task group by script and environment. Whether it is still in
 * flight is the Queue's answer (listTaskGroup), never the entry's: the entry says only which
 * group was submitted last. A task group given by id needs no entry (a promotion from the UI
 * action lives in its decision task's group).
 *
 * The group's promotion is read back from its tasks as tc-promote rendered them (tags.kind,
 * extra.tcPromote, the record in TC_PROMOTE_PROMOTION): what it moves, from what, where.
 *
 * Library code: typed input, typed result, no console, argv or environment.
 */
import { PromoteError, RemoteError, quote } from '../errors.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { taskclusterError } from '../taskcluster-api/clients.js';
import type { TaskState } from './follow.js';

export interface InFlightKey {
  trustDomain: string;
  project: string;
  script: string;
  env: string;
}

/** What an Index must do for in-flight entries (taskcluster-client's, or a fake). */
export interface InFlightIndex {
  findTask(indexPath: string): Promise<unknown>;
  insertTask(namespace: string, payload: { taskId: string; rank: number; data: Record<string, unknown>; expires: string }): Promise<unknown>;
}

export interface InFlightRecord {
  mode: string;
  script: string;
  env: string;
  taskGroupId: string;
  taskIds: string[];
  by: string;
  /** ISO 8601 UTC: when it was submitted. */
  at: string;
  reason: string;
  from: string | null;
  to: string | null;
}

export function inFlightIndexPath(key: InFlightKey): string {
  return `${key.trustDomain}.v2.${key.project}.in-flight.${key.script}.${key.env}`;
}

/** Write the entry (the first task's id; ranked by the second, so the newest submission wins). */
export async function markInFlight(index: InFlightIndex, key: InFlightKey, record: InFlightRecord, expiresMs: number, nowMs: number): Promise<string> {
  const path = inFlightIndexPath(key);
  const taskId = record.taskIds.find((id) => isSlugid(id)) ?? record.taskGroupId;
  try {
    await index.insertTask(path, { taskId, rank: Math.floor(nowMs / 1000), data: record as unknown as Record<string, unknown>, expires: new Date(expiresMs).toISOString() });
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    throw new RemoteError(`could not write the index entry ${path}${status === 403 ? ` (needs index:insert-task:${path})` : ''}: ${taskclusterError(error, 'insertTask').message}`, { cause: error });
  }
  return path;
}

/** The last submission's entry; null when there is none (404). Another failure throws. */
export async function readInFlight(index: InFlightIndex, key: InFlightKey): Promise<InFlightRecord | null> {
  const path = inFlightIndexPath(key);
  let answer: unknown;
  try {
    answer = await index.findTask(path);
  } catch (error) {
    if ((error as { statusCode?: unknown }).statusCode === 404) return null;
    throw new RemoteError(`the Taskcluster index could not be read at ${path} (${taskclusterError(error, 'findTask').message})`, { cause: error });
  }
  const data = (answer as { data?: unknown } | null)?.data as Record<string, unknown> | undefined;
  if (!data || typeof data.taskGroupId !== 'string' || !isSlugid(data.taskGroupId)) throw new RemoteError(`the index entry ${path} is not an in-flight record tc-promote wrote (data ${quote(JSON.stringify(data ?? null).slice(0, 200))})`);
  const text = (k: string): string | null => (typeof data[k] === 'string' ? (data[k] as string) : null);
  return {
    mode: text('mode') ?? 'promotion',
    script: text('script') ?? key.script,
    env: text('env') ?? key.env,
    taskGroupId: data.taskGroupId,
    taskIds: Array.isArray(data.taskIds) ? data.taskIds.filter((t): t is string => typeof t === 'string') : [],
    by: text('by') ?? '?',
    at: text('at') ?? '?',
    reason: text('reason') ?? '',
    from: text('from'),
    to: text('to'),
  };
}

/** What reading a task group needs of a Queue. */
export interface GroupQueue {
  listTaskGroup(taskGroupId: string, query?: { continuationToken?: string; limit?: number }): Promise<unknown>;
}

export interface GroupTask {
  taskId: string;
  label: string;
  /** promote, fallback, force-push, rerun */
  kind: string;
  dependencies: string[];
  requires: 'all-completed' | 'all-resolved';
  state: TaskState;
  /** The task's action task (a promotion from the UI), when it has one. */
  parent: string | null;
  created: string;
}

export interface PromotionGroup {
  taskGroupId: string;
  script: string;
  env: string;
  route: string;
  reason: string | null;
  requester: string | null;
  /** The primary destination's repository and moving tag, and the digest it had at plan time. */
  repository: string;
  movingTag: string;
  movingDigest: string | null;
  target: { tag: string | null; digest?: string; revision: string | null };
  current: { tag: string; revision: string | null; digest: string | null } | null;
  destinations: string[];
  /** tc-promote's tasks of this promotion, in dependency order. */
  tasks: GroupTask[];
  /** Other promotions in the same group (a decision task's group holds every action's graph): their action tasks. */
  others: string[];
}

const kinds = new Set(['promote', 'fallback', 'force-push', 'rerun']);
const taskStates = new Set(['unscheduled', 'pending', 'running', 'completed', 'failed', 'exception']);

/** The promotion a task group holds, from its tasks (every page). A group that holds none is exit 4. */
export async function loadPromotionGroup(queue: GroupQueue, taskGroupId: string): Promise<PromotionGroup> {
  if (!isSlugid(taskGroupId)) throw new PromoteError(`TASK_GROUP: ${quote(taskGroupId)} is not a task group id (22 characters of slugid)`, 2);
  const entries: { status: Record<string, unknown>; task: Record<string, unknown> }[] = [];
  let continuationToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    let answer: { tasks?: unknown; continuationToken?: unknown } | null;
    try {
      answer = (await queue.listTaskGroup(taskGroupId, continuationToken ? { continuationToken } : {})) as typeof answer;
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) throw new PromoteError(`task group ${taskGroupId}: the Queue knows no such task group (expired, or another deployment: --root-url)`, 4);
      throw taskclusterError(error, `listTaskGroup ${taskGroupId}`);
    }
    if (!answer || !Array.isArray(answer.tasks)) throw new RemoteError(`listTaskGroup ${taskGroupId}: the Queue's answer has no tasks array`);
    entries.push(...(answer.tasks as typeof entries).filter((e) => e && typeof e === 'object' && e.status && e.task));
    continuationToken = typeof answer.continuationToken === 'string' && answer.continuationToken ? answer.continuationToken : undefined;
    if (!continuationToken) break;
  }
  const ours = entries.filter((e) => kinds.has(String(tcPromoteOf(e.task)?.kind ?? '')));
  if (ours.length === 0) throw new PromoteError(`task group ${taskGroupId}: no tc-promote promotion in it (${entries.length} task(s), none a promote, fallback, force-push or rerun task)`, 4);
  // A decision task's group holds the graph of every action run from it: the newest promotion, the others named.
  const parentOf = (e: (typeof entries)[number]): string => String((e.task.extra as { parent?: unknown } | undefined)?.parent ?? '');
  const byParent = new Map<string, typeof ours>();
  for (const e of ours) byParent.set(parentOf(e), [...(byParent.get(parentOf(e)) ?? []), e]);
  const newest = [...byParent.entries()].sort((a, b) => Date.parse(String(b[1][0]!.task.created)) - Date.parse(String(a[1][0]!.task.created)))[0]!;
  const chosen = newest[1];
  const tasks: GroupTask[] = chosen.map((e) => {
    const extra = tcPromoteOf(e.task)!;
    const state = String(e.status.state);
    return {
      taskId: String(e.status.taskId),
      label: String(extra.label ?? (e.task.tags as Record<string, unknown> | undefined)?.label ?? e.status.taskId),
      kind: String(extra.kind),
      dependencies: Array.isArray(e.task.dependencies) ? (e.task.dependencies as unknown[]).map(String) : [],
      requires: e.task.requires === 'all-resolved' ? 'all-resolved' : 'all-completed',
      state: (taskStates.has(state) ? state : 'unscheduled') as TaskState,
      parent: parentOf(e) || null,
      created: String(e.task.created ?? ''),
    };
  });
  sortByDependencies(tasks);
  const promote = chosen.find((e) => tcPromoteOf(e.task)?.kind === 'promote');
  const first = promote ?? chosen[0]!;
  const extra = tcPromoteOf(first.task)!;
  const record = recordOf(first.task);
  const tags = (first.task.tags ?? {}) as Record<string, unknown>;
  const destination = (extra.destination ?? null) as { reference?: unknown; expectCurrent?: unknown; repository?: unknown; tag?: unknown } | null;
  const target = (extra.target ?? {}) as Record<string, unknown>;
  const current = (extra.current ?? null) as Record<string, unknown> | null;
  const reference = typeof destination?.reference === 'string' ? destination.reference : '';
  const colon = reference.lastIndexOf(':');
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const digest = str(target.digest) ?? str(record?.digest);
  return {
    taskGroupId,
    script: str(tags.script) ?? str(record?.script) ?? '?',
    env: str(tags.env) ?? str(record?.env) ?? '?',
    route: str(tags.route) ?? str(record?.route) ?? (promote ? 'retag' : String(extra.kind)),
    reason: str(record?.reason),
    requester: str(record?.requester),
    repository: typeof destination?.repository === 'string' ? destination.repository : colon > 0 ? reference.slice(0, colon) : '?',
    movingTag: typeof destination?.tag === 'string' ? destination.tag : colon > 0 ? reference.slice(colon + 1) : '?',
    movingDigest: str(destination?.expectCurrent) === 'none' ? null : (str(destination?.expectCurrent) ?? str(current?.digest)),
    target: { tag: str(target.tag) ?? str(record?.to), ...(digest !== null && { digest }), revision: str(target.revision) ?? str(record?.revision) },
    current: current && typeof current.tag === 'string' ? { tag: current.tag, revision: str(current.revision), digest: str(current.digest) } : null,
    destinations: chosen.map((e) => str(((tcPromoteOf(e.task)?.destination ?? null) as { reference?: unknown } | null)?.reference)).filter((r): r is string => r !== null),
    tasks,
    others: [...byParent.keys()].filter((p) => p !== newest[0]).map((p) => p || '(none)'),
  };
}

function tcPromoteOf(task: Record<string, unknown>): Record<string, unknown> | undefined {
  const t = (task.extra as { tcPromote?: unknown } | undefined)?.tcPromote;
  return t && typeof t === 'object' ? (t as Record<string, unknown>) : undefined;
}

function recordOf(task: Record<string, unknown>): Record<string, unknown> | null {
  const text = ((task.payload as { env?: Record<string, unknown> } | undefined)?.env ?? {}).TC_PROMOTE_PROMOTION;
  if (typeof text !== 'string') return null;
  try {
    const r = JSON.parse(text) as unknown;
    return r && typeof r === 'object' ? (r as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Dependencies before dependents (stable otherwise). */
function sortByDependencies(tasks: GroupTask[]): void {
  const ids = new Set(tasks.map((t) => t.taskId));
  const done = new Set<string>();
  const out: GroupTask[] = [];
  while (out.length < tasks.length) {
    const next = tasks.find((t) => !done.has(t.taskId) && t.dependencies.every((d) => !ids.has(d) || done.has(d))) ?? tasks.find((t) => !done.has(t.taskId))!;
    done.add(next.taskId);
    out.push(next);
  }
  tasks.splice(0, tasks.length, ...out);
}
