/**
 * The scopes whoever creates a promotion graph needs (a person with `submit`, or the action
 * task through its role), computed from the configuration by rendering every script,
 * environment and route with the real templates, and read off each task the way the
 * Queue's `createTask` scope expression reads it:
 *
 *   AllOf: every scope in `task.scopes`, `queue:route:<route>` for every route,
 *          `queue:create-task:project:<projectId>`, `queue:scheduler-id:<schedulerId>`,
 *          AnyOf `queue:create-task:<p>:<taskQueueId>` for p = the task's priority or higher
 *
 * (taskcluster/taskcluster services/queue/src/api.js, createTask and authorizeTaskCreation).
 * Values that differ per graph (task ids, the target revision, the dated index route) are
 * generalised to a `*` at the point where they start. Checks use taskcluster-lib-scopes, the
 * library the services use.
 */
import scopes, { type ScopeExpression } from 'taskcluster-lib-scopes';
import type { Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { buildGraph, type TaskGraph } from '../graph/build.js';
import { utcStamp } from '../graph/context.js';
import { everyCombination } from '../graph/offline-plan.js';

/** The Queue's priorities, highest first (services/queue/src/api.js PRIORITY_LEVELS). */
export const priorityLevels = ['highest', 'very-high', 'high', 'medium', 'low', 'very-low', 'lowest'] as const;
export type Priority = (typeof priorityLevels)[number];

export type GrantReason = 'task scope' | 'route' | 'scheduler' | 'project' | 'worker pool' | 'hold' | 'in-flight' | 'cancel';

export interface RequiredScope {
  scope: string;
  /** Why the Queue asks for it. */
  reason: GrantReason;
  /** Task kinds (promote, fallback, …) that need it. */
  kinds: string[];
  /**
   * For `worker pool`: the Queue accepts the scope of any priority at or above the task's,
   * so `queue:create-task:highest:<pool>` satisfies it too.
   */
  anyOf?: string[];
  /** The service's whole expression when it is more than AnyOf scopes (cancel's legacy AllOf); checks use it. */
  expression?: ScopeExpression;
}

export interface Grants {
  scopes: RequiredScope[];
  /** The one scope expression the creator's scopes must satisfy, as the Queue checks it. */
  expression: ScopeExpression;
  graphs: number;
  /**
   * What a person's credentials need beyond the graph's to hold and release (rollback's default
   * hold, tc-promote hold and release): index:insert-task on each hold entry
   * (`<trust domain>.v2.<project>.hold.<script>.<env>`). A release writes the entry again
   * (held: false) rather than deleting it, so no index:delete-task is needed. Not part of
   * `expression`: the action task creates graphs and holds nothing.
   */
  hold: RequiredScope[];
  /**
   * The in-flight entry (`<trust domain>.v2.<project>.in-flight.<script>.<env>`) that rollback,
   * promote and the action task write once the graph exists, so that `follow <script>`, `cancel
   * <script>` and `status` find the task group: index:insert-task on every such entry. Needed by
   * a person and by the action task alike; a convenience, not a gate (without it the promotion
   * goes on and is found by its task group).
   */
  inFlight: RequiredScope[];
  /**
   * What `tc-promote cancel` needs of a person (the action task cancels nothing): the Queue's
   * cancelTask expression (services/queue/src/api.js) for any task of the graphs' scheduler,
   * AnyOf queue:cancel-task:<schedulerId>/<taskGroupId>/<taskId>,
   * queue:cancel-task-in-project:<projectId>, or the legacy AllOf queue:cancel-task and
   * assume:scheduler-id:<schedulerId>/<taskGroupId>.
   */
  cancel: RequiredScope[];
}

/** The in-flight entries' scope: one wildcard over the configured project's in-flight namespace. */
export function inFlightGrants(config: Config): RequiredScope[] {
  const { trustDomain, project } = config.taskcluster;
  return [{ scope: `index:insert-task:${trustDomain}.v2.${project}.in-flight.*`, reason: 'in-flight', kinds: ['rollback', 'promote', 'action-callback'] }];
}

/** cancelTask's scopes for every task of a scheduler's graphs (the task group and task ids vary: `*`). */
export function cancelGrants(pairs: readonly { schedulerId: string; projectId: string }[]): RequiredScope[] {
  const seen = new Set<string>();
  return pairs.flatMap(({ schedulerId, projectId }): RequiredScope[] => {
    const scope = `queue:cancel-task:${schedulerId}/*`;
    if (seen.has(`${scope} ${projectId}`)) return [];
    seen.add(`${scope} ${projectId}`);
    const anyOf = [scope, `queue:cancel-task-in-project:${projectId}`];
    return [{ scope, reason: 'cancel', kinds: ['cancel'], anyOf, expression: { AnyOf: [...anyOf, { AllOf: ['queue:cancel-task', `assume:scheduler-id:${schedulerId}/*`] }] } }];
  });
}

/** What one required scope is checked as: the service's expression. */
export function scopeExpressionOf(entry: RequiredScope): ScopeExpression {
  return entry.expression ?? (entry.anyOf ? { AnyOf: entry.anyOf } : entry.scope);
}

/** Which of these required scopes a scope set lacks (taskcluster-lib-scopes decides). */
export function checkScopes(required: readonly RequiredScope[], given: string[]): GrantsCheck {
  const missing = required.filter((entry) => !scopes.satisfiesExpression(given, scopeExpressionOf(entry)));
  return { satisfied: missing.length === 0, missing };
}

/** The scopes holding and releasing need, one per configured script × environment (no wildcard: only configured holds). */
export function holdGrants(config: Config): RequiredScope[] {
  const { trustDomain, project } = config.taskcluster;
  return config.scripts.flatMap((script) => Object.keys(config.environments).map((env): RequiredScope => ({ scope: `index:insert-task:${trustDomain}.v2.${project}.hold.${script}.${env}`, reason: 'hold', kinds: ['rollback', 'hold', 'release'] })));
}

/** Which hold scopes a scope set lacks (taskcluster-lib-scopes decides). */
export function checkHoldGrants(grants: Pick<Grants, 'hold'>, given: string[]): GrantsCheck {
  return checkScopes(grants.hold, given);
}

/** The create-task scopes that satisfy a task of this priority: its own and every higher one. */
export function createTaskScopes(priority: string, taskQueueId: string): string[] {
  const index = priorityLevels.indexOf(priority as Priority);
  const levels = index < 0 ? [priority] : priorityLevels.slice(0, index + 1);
  return levels.map((level) => `queue:create-task:${level}:${taskQueueId}`);
}

/** The Queue's createTask scope expression for one task definition. */
export function createTaskExpression(task: { scopes?: string[]; routes?: string[]; projectId?: string; schedulerId?: string; priority?: string; taskQueueId?: string; provisionerId?: string; workerType?: string }): ScopeExpression {
  const taskQueueId = task.taskQueueId ?? `${task.provisionerId}/${task.workerType}`;
  return {
    AllOf: [
      ...(task.scopes ?? []),
      ...(task.routes ?? []).map((route) => `queue:route:${route}`),
      `queue:create-task:project:${task.projectId ?? 'none'}`,
      `queue:scheduler-id:${task.schedulerId ?? '-'}`,
      { AnyOf: createTaskScopes(task.priority ?? 'lowest', taskQueueId) },
    ],
  };
}

/** Cut a value at the first per-graph part and put a `*` there. */
function generalise(value: string, variable: string[]): string {
  let cut = -1;
  for (const part of variable) {
    const at = value.indexOf(part);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut < 0 ? value : `${value.slice(0, cut)}*`;
}

/** Every scope the creator of any graph the configuration can produce needs. */
export function requiredGrants(config: Config, nowMs: number = Date.now()): Grants {
  const found = new Map<string, RequiredScope>();
  const add = (scope: string, reason: GrantReason, kind: string, anyOf?: string[]): void => {
    const entry = found.get(scope);
    if (entry) {
      if (!entry.kinds.includes(kind)) entry.kinds.push(kind);
    } else found.set(scope, { scope, reason, kinds: [kind], ...(anyOf && { anyOf }) });
  };
  const today = utcStamp(nowMs);
  const datedRoute = `${today.slice(0, 4)}.${today.slice(4, 6)}.${today.slice(6, 8)}.`;
  let graphs = 0;
  const schedulers: { schedulerId: string; projectId: string }[] = [];
  for (const combination of everyCombination(config, nowMs)) {
    const { revision } = combination;
    const graph: TaskGraph = buildGraph(config, combination.plan(), { nowMs, allowFallback: combination.allowFallback, reason: 'grants', requester: 'grants', branchHead: combination.branchHead });
    graphs++;
    // The graph's stamp too: the failed-promotion index entry ends in it.
    const variable = [...graph.tasks.map((t) => t.taskId), graph.taskGroupId, revision, datedRoute, today];
    for (const { kind, task } of graph.tasks) {
      for (const scope of task.scopes) add(generalise(scope, variable), 'task scope', kind);
      for (const route of task.routes) add(`queue:route:${generalise(route, variable)}`, 'route', kind);
      add(`queue:create-task:project:${task.projectId ?? 'none'}`, 'project', kind);
      add(`queue:scheduler-id:${task.schedulerId}`, 'scheduler', kind);
      schedulers.push({ schedulerId: task.schedulerId, projectId: task.projectId ?? 'none' });
      const pool = createTaskScopes(task.priority, task.taskQueueId);
      add(pool.at(-1)!, 'worker pool', kind, pool);
    }
  }
  // A scope another listed scope already satisfies (`….latest` under `….*`) is not listed twice.
  const all = [...found.values()];
  const listed = all.filter((entry) => !all.some((other) => other !== entry && other.scope !== entry.scope && scopes.patternMatch(other.scope, entry.scope)));
  listed.sort((a, b) => (a.reason === b.reason ? (a.scope < b.scope ? -1 : 1) : reasonOrder.indexOf(a.reason) - reasonOrder.indexOf(b.reason)));
  const expression: ScopeExpression = { AllOf: listed.map((entry) => (entry.anyOf ? { AnyOf: entry.anyOf } : entry.scope)) };
  return { scopes: listed, expression, graphs, hold: holdGrants(config), inFlight: inFlightGrants(config), cancel: cancelGrants(schedulers) };
}

const reasonOrder: GrantReason[] = ['worker pool', 'scheduler', 'project', 'route', 'task scope'];

export interface GrantsCheck {
  satisfied: boolean;
  /** The required scopes the given set does not satisfy. */
  missing: RequiredScope[];
}

/** Which required scopes a scope set lacks, decided by taskcluster-lib-scopes. */
export function checkGrants(grants: Grants, given: string[]): GrantsCheck {
  const missing = grants.scopes.filter((entry) => !scopes.satisfiesExpression(given, scopeExpressionOf(entry)));
  return { satisfied: missing.length === 0 && scopes.satisfiesExpression(given, grants.expression), missing };
}

/** A scope list from JSON or YAML (a list, or `{scopes: [...]}`); every entry must be a scope. */
export function parseScopeList(text: string, source: string, parseYaml: (text: string) => unknown): string[] {
  if (text.trim() === '') throw new UsageError(`${source}: is empty; did the request that wrote it fail? (curl -f says why)`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = parseYaml(text);
    } catch (error) {
      throw new UsageError(`${source}: neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const answer = data as { code?: unknown; message?: unknown } | null;
  if (answer !== null && typeof answer === 'object' && !Array.isArray(answer) && !('scopes' in answer) && typeof answer.code === 'string' && typeof answer.message === 'string') {
    // taskcluster-lib-api's error body: {code, message, requestInfo}.
    const line = answer.message.split('\n').find((l) => l.trim() !== '') ?? '';
    throw new UsageError(`${source}: is an error answer from Taskcluster (${quote(answer.code, 60).slice(1, -1)}: ${quote(line, 200).slice(1, -1)}), not a scope list; check the request that wrote it (consumers/README.md, "Checking a deployment")`);
  }
  const list = data !== null && typeof data === 'object' && !Array.isArray(data) && 'scopes' in data ? (data as { scopes: unknown }).scopes : data;
  if (!Array.isArray(list)) throw new UsageError(`${source}: must be a list of scopes (or an object with a "scopes" list), got ${quote(data, 60)}`);
  for (const [i, scope] of list.entries()) {
    // Scopes are printable ASCII (taskcluster-lib-scopes validScope).
    if (typeof scope !== 'string') {
      const kind = Array.isArray(scope) ? 'a list' : scope === null ? 'null' : typeof scope === 'object' ? 'an object' : `a ${typeof scope}`;
      throw new UsageError(`${source}: /${i}: is ${kind} (${quote(scope, 40)}), not a scope: the file must be a flat list of scope strings`);
    }
    if (!/^[\x20-\x7e]*$/.test(scope)) throw new UsageError(`${source}: /${i}: ${quote(scope)} is not a scope`);
  }
  return list as string[];
}
