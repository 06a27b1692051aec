/**
 * Inside the action task: read what the hook passed (`ACTION_INPUT`, `ACTION_TASK_GROUP_ID`,
 * `ACTION_TASK_ID`, `ACTION_CALLBACK`), validate it, plan, render and submit into the
 * action's task group. Every task without a dependency in the graph depends on the action
 * task itself, so nothing runs unless the whole submission succeeded.
 */
import type { Config } from '../config/load.js';
import { PromoteError, UsageError, quote } from '../errors.js';
import { callbackName, planRequestFromInput, validateActionInput, type ActionInput } from '../graph/actions.js';
import { buildGraph, type GraphOptions, type TaskGraph } from '../graph/build.js';
import type { Plan, PlanRequest } from '../history/plan.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { inFlightIndexPath, markInFlight, type InFlightIndex } from './in-flight.js';
import { SubmitError, submitGraph, type SubmitOptions, type SubmitResult, type TaskCreator } from './submit.js';

export interface ActionEnvironment {
  input: ActionInput;
  /** The task group the action was triggered on (the graph goes there). */
  taskGroupId: string;
  /** The task the action was triggered on, null for a task-group action. */
  targetTaskId: string | null;
  callback: string;
  /** The action task itself (`TASK_ID`). */
  ownTaskId: string;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new UsageError(`${name}: missing; action-callback runs inside an action task created by the hook`);
  return value;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${name}: ${quote(text)} is not JSON`);
  }
}

/**
 * The configuration of an action task read from a checkout (`--config`) is only as trusted as
 * its revision: without `--revision` to check, refuse.
 */
export function requireRevisionPin(values: { config?: string | undefined; revision?: string | undefined; repository?: string | undefined }): void {
  if (values.config !== undefined && values.revision === undefined) {
    throw new UsageError(`--config ${quote(values.config)}: a configuration read from a checkout needs --revision <the checked-out revision> and --repository <its URL>, so that action-callback can check the revision is on the protected branch before planning`);
  }
  if ((values.revision === undefined) !== (values.repository === undefined)) throw new UsageError(`--revision and --repository go together (the revision checked out, and the repository it came from)`);
}

/** Who fired the hook: TC_PROMOTE_REQUESTER (the hook's clientId, set by .taskcluster.yml), else the action task. */
export function actionRequester(env: NodeJS.ProcessEnv, ownTaskId: string): string {
  const given = env.TC_PROMOTE_REQUESTER;
  if (given === undefined || given === '') return `action task ${ownTaskId}`;
  if (given.length > 255 || !/^[\x20-\x7e]+$/.test(given)) throw new UsageError(`TC_PROMOTE_REQUESTER: ${quote(given)} is not a client id (printable ASCII, at most 255 characters)`);
  return given;
}

export function readActionEnvironment(config: Config, env: NodeJS.ProcessEnv): ActionEnvironment {
  const callback = required(env, 'ACTION_CALLBACK');
  if (callback !== callbackName) throw new UsageError(`ACTION_CALLBACK: ${quote(callback)} is not tc-promote's callback ${quote(callbackName)}`);
  const taskGroupId = required(env, 'ACTION_TASK_GROUP_ID');
  if (!isSlugid(taskGroupId)) throw new UsageError(`ACTION_TASK_GROUP_ID: ${quote(taskGroupId)} is not a task group id`);
  const targetTaskId = parseJson(env.ACTION_TASK_ID ?? 'null', 'ACTION_TASK_ID');
  if (targetTaskId !== null && !isSlugid(targetTaskId)) throw new UsageError(`ACTION_TASK_ID: ${quote(env.ACTION_TASK_ID)} is not null or a JSON-encoded task id`);
  const ownTaskId = required(env, 'TASK_ID');
  if (!isSlugid(ownTaskId)) throw new UsageError(`TASK_ID: ${quote(ownTaskId)} is not a task id`);
  const input = validateActionInput(config, parseJson(required(env, 'ACTION_INPUT'), 'ACTION_INPUT'), 'ACTION_INPUT');
  return { input, taskGroupId, targetTaskId, callback, ownTaskId };
}

export interface ActionGraphDeps {
  plan: (request: PlanRequest) => Promise<Plan>;
  /**
   * Checked before planning: the revision whose configuration was read is protected
   * (src/github/protected-revision.ts); it throws to refuse. Required when the configuration
   * comes from a checkout (`--config`): see requireRevisionPin.
   */
  checkRevision?: () => Promise<{ revision: string; how: string }>;
  /** Told how the revision was found protected, before planning. */
  onRevisionChecked?: (checked: { revision: string; how: string }) => void;
  graphOptions?: Omit<GraphOptions, 'taskGroupId' | 'actionTaskId' | 'reason' | 'allowFallback'>;
}

export interface ActionCallbackDeps extends ActionGraphDeps {
  queue: TaskCreator;
  submitOptions?: SubmitOptions;
  /** Called with the graph before anything is created (e.g. to publish it as an artifact). */
  beforeSubmit?: (graph: TaskGraph) => void;
  /**
   * The Index (through the action task's proxy) the in-flight entry is written to once the
   * graph exists, as rollback and promote write it from the command line, so that `follow
   * <script>`, `cancel <script>` and `status` find a promotion started from the UI.
   */
  index?: InFlightIndex;
}

export interface ActionCallbackResult {
  plan: Plan;
  graph: TaskGraph;
  result: SubmitResult;
  /**
   * The in-flight entry: its path once written, else why not (a convenience, not a gate: the
   * graph exists and runs either way, found by its task group). null without an index.
   */
  inFlight: { path: string; error: null } | { path: null; error: string } | null;
}

/** Plan and render the action's graph, in the action's group, rooted at the action task. */
export async function planActionGraph(config: Config, action: ActionEnvironment, deps: ActionGraphDeps): Promise<{ plan: Plan; graph: TaskGraph }> {
  if (deps.checkRevision) deps.onRevisionChecked?.(await deps.checkRevision());
  const plan = await deps.plan(planRequestFromInput(config, action.input));
  const graph = buildGraph(config, plan, {
    ...deps.graphOptions,
    taskGroupId: action.taskGroupId,
    actionTaskId: action.ownTaskId,
    reason: action.input.reason,
    allowFallback: action.input.fallback ?? false,
    requester: deps.graphOptions?.requester ?? `action task ${action.ownTaskId}`,
  });
  return { plan, graph };
}

export async function runActionCallback(config: Config, action: ActionEnvironment, deps: ActionCallbackDeps): Promise<ActionCallbackResult> {
  const { plan, graph } = await planActionGraph(config, action, deps);
  deps.beforeSubmit?.(graph);
  try {
    const result = await submitGraph(deps.queue, graph, deps.submitOptions);
    const inFlight = deps.index ? await writeInFlight(config, action, plan, graph, deps.index, deps.graphOptions?.requester ?? `action task ${action.ownTaskId}`) : null;
    return { plan, graph, result, inFlight };
  } catch (error) {
    throw error instanceof SubmitError ? withActionRole(config, error) : error;
  }
}

/** The in-flight entry, as the command line's promotion writes it (the mode: promote from an environment, else rollback). Never throws. */
async function writeInFlight(config: Config, action: ActionEnvironment, plan: Plan, graph: TaskGraph, index: InFlightIndex, by: string): Promise<ActionCallbackResult['inFlight']> {
  const key = { trustDomain: config.taskcluster.trustDomain, project: config.taskcluster.project, script: plan.script, env: plan.env };
  try {
    const deadlines = graph.tasks.map((t) => Date.parse(String(t.task.deadline))).filter(Number.isFinite);
    const at = Date.now();
    const mode = Object.hasOwn(config.environments, action.input.target ?? 'previous') ? 'promote' : 'rollback';
    const path = await markInFlight(
      index,
      key,
      { mode, script: plan.script, env: plan.env, taskGroupId: graph.taskGroupId, taskIds: graph.tasks.map((t) => t.taskId), by, at: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), reason: action.input.reason ?? '', from: plan.current?.tag ?? plan.movingDigest, to: plan.target.tag ?? plan.target.digest ?? null },
      deadlines.length ? Math.max(...deadlines) : at + 5 * 86_400_000,
      at,
    );
    return { path, error: null };
  } catch (error) {
    const message = (error as Error).message;
    return { path: null, error: message.includes(inFlightIndexPath(key)) ? message : `${inFlightIndexPath(key)}: ${message}` };
  }
}

/**
 * A refusal for missing scopes names where they belong: the action task holds exactly its
 * role's scopes (the hook creates it with `assume:repo:<repository>:action:release-promotion`),
 * so the missing scopes are that role's to hold, granted in fxci-config (what `tc-promote grants`
 * lists). The Queue's own answer stays above, with the scopes it says are missing.
 */
function withActionRole(config: Config, error: SubmitError): PromoteError {
  const missing = [...new Set(error.result.failed.flatMap((f) => (/InsufficientScopes/.test(f.error) ? [...f.error.matchAll(/missing the following scopes:\s*([^()]+)/g)].flatMap((m) => m[1]!.split(/[\s,]+/).filter(Boolean)) : [])))];
  if (!missing.length) return error;
  const role = `repo:github.com/${config.github.repository}:action:release-promotion`;
  return new PromoteError(`${error.message}\nthe action task holds the scopes of the role ${role}: that role should hold ${missing.join(', ')} (fxci-config grants.d; \`tc-promote grants\` lists what it needs)`, error.exitCode, { cause: error });
}
