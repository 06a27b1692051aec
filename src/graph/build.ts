/**
 * plan → context → json-e template → validated task → graph. Which tasks a route needs is
 * data (`routeTasks`); what each task is, is its template. Every rendered task is checked
 * against the project's task schema and the Queue's rules before anything is submitted.
 */
import type { ValidateFunction } from 'ajv';
import { loadConfig, type Config } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Plan } from '../history/plan.js';
import { keyedSlugid, niceSlugid } from '../taskcluster-api/slugid.js';
import { taskDefinitionSchema, type TaskDefinition } from '../taskcluster-api/task-schema.js';
import { util } from '../util/builtins.js';
import { validatorFor } from '../util/precompiled.js';
import { describeSchemaErrors } from '../util/validate.js';
import { buildContext, templatesSourceUrl, version, type GraphContext, type TaskContext, type TaskKind } from './context.js';
import { defaultTemplatesDir, displayPath, loadTemplate, renderTemplate, templateFile } from './templates.js';

const { isDeepStrictEqual } = util;

export interface GraphTask {
  label: string;
  kind: TaskKind;
  taskId: string;
  task: TaskDefinition;
}

export interface TaskGraph {
  taskGroupId: string;
  /** In dependency order: every task after the tasks it depends on. */
  tasks: GraphTask[];
  warnings: string[];
}

export interface GraphOptions {
  /** Default: a new slugid (a fresh group); the action's group inside an action task. */
  taskGroupId?: string;
  /** The one clock for created/deadline/expires and the archive tag; default now. */
  nowMs?: number;
  reason?: string;
  requester?: string;
  /** The action input `fallback`: the fallback task may force-push when promotion failed. */
  allowFallback?: boolean;
  /** Inside an action task: tasks with no dependency in the graph depend on it. */
  actionTaskId?: string;
  /** The deploy branch head seen at plan time: force-push lease. */
  branchHead?: string;
  /** False renders promote tasks without compare-and-swap (offline, digest unknown). */
  compareAndSwap?: boolean;
  templatesDir?: string;
  /** Pass the configuration to the tasks; default: when it differs from the embedded one. */
  inlineConfig?: boolean;
  owner?: string;
  rootUrl?: string;
  /** Task id source (tests make it deterministic). */
  newTaskId?: () => string;
  /**
   * Which attempt at a promotion from the same state this is (default 1). Promote tasks that
   * compare-and-swap get ids keyed on (destination, expected digest, attempt), so that the
   * Queue refuses a second graph moving the same tag from the same state (exit 3); a new
   * attempt after a failed one says so explicitly.
   */
  attempt?: number;
  /**
   * What the person confirmed (from, to, hold, next push: the lines the confirmation showed),
   * kept in the promotion record as `confirmed`, so that a later reader sees what was agreed to.
   */
  confirmed?: Record<string, string>;
}

/**
 * The key of a compare-and-swap promote task's id: the destination, the digest it must still
 * have, the archive tag of the deploy it runs (every completed promotion writes a new one, so
 * roll back, undo, roll back again are three keys, no --attempt needed) and the attempt. Two
 * graphs planned from the same state share it: the Queue lets the first through (exit 3 for the
 * other), and a retry of the same graph is the same createTask (idempotent).
 */
export function promoteTaskKey(reference: string, expectCurrent: string, currentTag: string | null, attempt: number): string {
  return currentTag === null ? `promote ${reference} from ${expectCurrent} attempt ${attempt}` : `promote ${reference} from ${expectCurrent} at ${currentTag} attempt ${attempt}`;
}

interface TaskSpec {
  kind: TaskKind;
  /** One task per destination (promote), or one. */
  perDestination?: boolean;
  /** Kinds (earlier in the list) this task depends on. */
  after?: TaskKind[];
}

/** The tasks each route needs; the templates say what each one does. */
export const routeTasks: Record<Plan['route'], TaskSpec[]> = {
  retag: [{ kind: 'promote', perDestination: true }, { kind: 'fallback', after: ['promote'] }],
  rebuild: [{ kind: 'force-push' }],
  rerun: [{ kind: 'rerun' }],
};

let compiledTaskValidator: ValidateFunction<TaskDefinition> | undefined;
/** The project's task schema, precompiled at build time or compiled on first use. */
export function taskValidator(): ValidateFunction<TaskDefinition> {
  compiledTaskValidator ??= validatorFor<TaskDefinition>('task', taskDefinitionSchema);
  return compiledTaskValidator;
}

let embedded: Config | undefined;
// Loaded configurations are not modified afterwards: compare each one once.
const comparedWithEmbedded = new WeakMap<Config, boolean>();
function isEmbeddedConfig(config: Config): boolean {
  let same = comparedWithEmbedded.get(config);
  if (same === undefined) {
    embedded ??= loadConfig();
    same = isDeepStrictEqual(config, embedded);
    comparedWithEmbedded.set(config, same);
  }
  return same;
}

export function buildGraph(config: Config, plan: Plan, options: GraphOptions = {}): TaskGraph {
  const newTaskId = options.newTaskId ?? niceSlugid;
  const taskGroupId = options.taskGroupId ?? newTaskId();
  const nowMs = options.nowMs ?? Date.now();
  const warnings: string[] = [];
  const requester = options.requester ?? 'unknown';
  const context = buildContext(
    config,
    plan,
    {
      nowMs,
      taskGroupId,
      reason: options.reason ?? `promotion requested by ${requester}`,
      requester,
      allowFallback: options.allowFallback ?? false,
      actionTaskId: options.actionTaskId ?? null,
      // The lease: given, or the deploy branch head plan read.
      branchHead: options.branchHead ?? plan.deployBranch?.head ?? null,
      compareAndSwap: options.compareAndSwap ?? true,
      inlineConfig: options.inlineConfig ?? !isEmbeddedConfig(config),
      ...(options.owner !== undefined && { owner: options.owner }),
      ...(options.rootUrl !== undefined && { rootUrl: options.rootUrl }),
      ...(options.confirmed !== undefined && { confirmed: options.confirmed }),
    },
    warnings,
  );
  const templatesDir = options.templatesDir ?? defaultTemplatesDir;
  const tasks: GraphTask[] = [];
  const idsByKind = new Map<TaskKind, string[]>();
  for (const spec of routeTasks[plan.route]) {
    const destinations = spec.perDestination ? context.promotion.destinations : [null];
    for (const [i, destination] of destinations.entries()) {
      const label = [spec.kind, plan.script, plan.env, ...(destinations.length > 1 ? [String(i + 1)] : [])].join('-');
      const inGraph = (spec.after ?? []).flatMap((kind) => idsByKind.get(kind) ?? []);
      const dependencies = inGraph.length ? inGraph : options.actionTaskId ? [options.actionTaskId] : [];
      const taskContext: TaskContext = {
        label,
        kind: spec.kind,
        taskId: destination?.expectCurrent ? keyedSlugid(promoteTaskKey(destination.reference, destination.expectCurrent, plan.current?.tag ?? null, options.attempt ?? 1)) : newTaskId(),
        dependencies,
        destination,
        promoteTaskIds: idsByKind.get('promote') ?? [],
      };
      const task = renderTask(templatesDir, context, taskContext);
      tasks.push({ label, kind: spec.kind, taskId: taskContext.taskId, task });
      idsByKind.set(spec.kind, [...(idsByKind.get(spec.kind) ?? []), taskContext.taskId]);
    }
  }
  const graph = { taskGroupId, tasks, warnings };
  const problems = checkGraphRules(graph, options.actionTaskId ? [options.actionTaskId] : []);
  if (problems.length) throw new InvalidTaskError('graph', "the rendered graph breaks the Queue's rules", problems);
  return graph;
}

/** A rendered task (or graph) is not valid; `problems` are `path: message` lines. */
export class InvalidTaskError extends UsageError {
  constructor(
    readonly where: string,
    summary: string,
    readonly problems: string[],
  ) {
    super(`${where}: ${summary}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function renderTask(templatesDir: string, context: GraphContext, task: TaskContext): TaskDefinition {
  const file = templateFile(templatesDir, task.kind);
  const template = loadTemplate(templatesDir, task.kind);
  const rendered = renderTemplate(template, { ...context, source: `${templatesSourceUrl}/v${version}/taskcluster/${task.kind}.yml`, task }, file);
  const validateTask = taskValidator();
  if (!validateTask(rendered)) {
    const problems = describeSchemaErrors('', validateTask.errors, rendered)
      .split('\n')
      .map((line) => line.replace(/^: /, ''));
    throw new InvalidTaskError(displayPath(file), `${task.label} does not match the task schema`, problems);
  }
  return rendered;
}

const fiveDaysMs = 5 * 86_400_000;

/**
 * What the Queue checks across a graph: one schedulerId and taskGroupId, dependencies that
 * exist (in the graph, in dependency order, or outside it as allowed), deadline within
 * five days of created and expires not before the deadline.
 */
export function checkGraphRules(graph: Pick<TaskGraph, 'taskGroupId' | 'tasks'>, external: readonly string[] = []): string[] {
  const problems: string[] = [];
  const seen = new Set<string>(external);
  const schedulers = new Set(graph.tasks.map((t) => t.task.schedulerId));
  if (schedulers.size > 1) problems.push(`schedulerId: one per task group, got ${[...schedulers].join(', ')}`);
  const ids = new Set<string>();
  for (const { label, taskId, task } of graph.tasks) {
    if (ids.has(taskId)) problems.push(`${label}: taskId ${taskId} is used twice`);
    ids.add(taskId);
    if (task.taskGroupId !== graph.taskGroupId) problems.push(`${label}: /taskGroupId: ${task.taskGroupId} is not the graph's ${graph.taskGroupId}`);
    for (const dependency of task.dependencies) {
      if (!seen.has(dependency)) problems.push(`${label}: /dependencies: ${dependency} is not created before it`);
    }
    const created = Date.parse(task.created);
    const deadline = Date.parse(task.deadline);
    const expires = Date.parse(task.expires);
    if (deadline <= created) problems.push(`${label}: /deadline: ${task.deadline} is not after created ${task.created}`);
    if (deadline - created > fiveDaysMs) problems.push(`${label}: /deadline: ${task.deadline} is more than 5 days after created ${task.created}`);
    if (expires < deadline) problems.push(`${label}: /expires: ${task.expires} is before the deadline ${task.deadline}`);
    seen.add(taskId);
  }
  return problems;
}

/** Longest chain of dependencies inside the graph (a graph of independent tasks has depth 0). */
export function graphDepth(graph: Pick<TaskGraph, 'tasks'>): number {
  const depth = new Map<string, number>();
  for (const { taskId, task } of graph.tasks) {
    depth.set(taskId, Math.max(-1, ...task.dependencies.map((d) => depth.get(d) ?? -1)) + 1);
  }
  return Math.max(0, ...depth.values());
}

/** What `plan` lists: each task's label, kind, name and in-graph dependencies by label. */
export function describeTasks(graph: TaskGraph): { label: string; kind: TaskKind; name: string; dependencies: string[]; command: string[] }[] {
  const labels = new Map(graph.tasks.map((t) => [t.taskId, t.label]));
  return graph.tasks.map((t) => ({
    label: t.label,
    kind: t.kind,
    name: t.task.metadata.name,
    dependencies: t.task.dependencies.map((d) => labels.get(d) ?? d),
    command: t.task.payload.command,
  }));
}
