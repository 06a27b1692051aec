/**
 * Trigger the promotion action the way the Taskcluster UI does it from the task group page
 * (taskcluster/taskcluster ui/src/views/Tasks/submitTaskAction.js): read the decision task
 * and its `public/actions.json`, validate the input against the action's schema, render the
 * action's `hookPayload` with the UI's json-e context (`taskGroupId` and `taskId` of the
 * decision task, `task` its definition, `input`, deep-merged with the file's `variables`),
 * refuse unless the decision task's expanded scopes satisfy
 * `in-tree:hook-action:<hookGroupId>/<hookId>` (so a level-1 push cannot lead anyone to fire
 * a level-3 hook), and call `hooks.triggerHook`. The hook creates the action task.
 */
import { Writable } from 'node:stream';
import type { Auth, Hooks, Queue } from 'taskcluster-client';
import { NotFoundError, RemoteError, UsageError, quote } from '../errors.js';
import { actionName, findHookAction, parseActionsFile } from '../graph/actions.js';
import { renderJsone } from '../graph/taskcluster-yml.js';
import { compileSchema, describeSchemaErrors } from '../util/validate.js';
import type { ActionsFile } from '../taskcluster-api/actions-schema.js';
import { missingScopes, taskclusterError } from '../taskcluster-api/clients.js';

export const actionsArtifact = 'public/actions.json';

export interface TriggerRequest {
  decisionTaskId: string;
  input: unknown;
  /** Default `promote-image`. */
  actionName?: string;
  /** Where a push's decision task is found (said when the Queue knows no such task). */
  decisionIndex?: { rootUrl: string; trustDomain: string; project: string };
}

/** How to find a push's decision task: the index path taskgraph's decision task is routed to, by revision, and the UI. */
export function findDecisionTaskHint(where: { rootUrl: string; trustDomain: string; project: string }): string {
  const path = `${where.trustDomain}.v2.${where.project}.revision.<REVISION>.taskgraph.decision`;
  return `a push's decision task is indexed by its revision: ${where.rootUrl}/tasks/index/${path} (REVISION the pushed commit, e.g. git rev-parse origin/HEAD), and it is the first task of the push's task group in the Taskcluster UI`;
}

export interface TriggerResult {
  taskId: string;
  taskGroupId: string;
  hookGroupId: string;
  hookId: string;
}

/** Largest actions.json read: taskgraph's are a few hundred KiB. */
export const maxActionsJsonBytes = 16 * 1024 * 1024;

export async function readActionsJson(queue: Queue, decisionTaskId: string): Promise<ActionsFile> {
  const { default: taskcluster } = await import('taskcluster-client');
  let chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  const where = `${actionsArtifact} of decision task ${decisionTaskId}`;
  try {
    await taskcluster.downloadArtifact({
      taskId: decisionTaskId,
      name: actionsArtifact,
      queue,
      retries: 2,
      streamFactory: () => {
        chunks = [];
        size = 0;
        return new Writable({
          write(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            // An artifact without end is refused at the limit, not read into memory.
            if (size > maxActionsJsonBytes) {
              tooLarge = true;
              done(new Error('too large'));
              return;
            }
            chunks.push(chunk);
            done();
          },
        });
      },
    });
  } catch (error) {
    if (tooLarge) throw new RemoteError(`${where}: larger than the limit of ${maxActionsJsonBytes / (1024 * 1024)} MiB (${maxActionsJsonBytes} bytes); refusing to read it; nothing was triggered`);
    throw taskclusterError(error, where);
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RemoteError(`${actionsArtifact} of decision task ${decisionTaskId}: not JSON`);
  }
  return parseActionsFile(data, `${actionsArtifact} of ${decisionTaskId}`);
}

/** deepmerge's semantics, as the UI merges `variables` into the context: objects merge, arrays concatenate, the rest is replaced. */
export function deepMerge(target: unknown, source: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (Array.isArray(target) && Array.isArray(source)) return [...target, ...structuredClone(source)];
  if (!isObject(target) || !isObject(source)) return structuredClone(source);
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(source)) {
    // Like deepmerge, never through the prototype.
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    out[key] = Object.hasOwn(target, key) ? deepMerge(target[key], value) : structuredClone(value);
  }
  return out;
}

/** The UI's json-e context for an action of the task group (its decision task selected). */
export function uiActionContext(decisionTaskId: string, decision: Record<string, unknown>, input: unknown, variables: Record<string, unknown>): Record<string, unknown> {
  const taskGroupId = typeof decision.taskGroupId === 'string' ? decision.taskGroupId : decisionTaskId;
  return deepMerge({ taskGroupId, taskId: decisionTaskId, task: decision, input }, variables) as Record<string, unknown>;
}

/** The scope the decision task must hold for the UI to fire this hook. */
export function hookActionScope(hookGroupId: string, hookId: string): string {
  return `in-tree:hook-action:${hookGroupId}/${hookId}`;
}

export async function triggerAction(clients: { queue: Queue; hooks: Hooks; auth: Auth }, request: TriggerRequest): Promise<TriggerResult> {
  const { queue, hooks, auth } = clients;
  const name = request.actionName ?? actionName;
  let decision: Record<string, unknown>;
  try {
    decision = await queue.task(request.decisionTaskId);
  } catch (error) {
    const typed = taskclusterError(error, `--decision-task-id ${request.decisionTaskId}`);
    if (typed instanceof NotFoundError && request.decisionIndex) {
      throw new NotFoundError(`--decision-task-id ${request.decisionTaskId}: no such task in ${request.decisionIndex.rootUrl}; ${findDecisionTaskHint(request.decisionIndex)}`, { cause: error });
    }
    throw typed;
  }
  if (decision === null || typeof decision !== 'object' || Array.isArray(decision)) {
    throw new RemoteError(`--decision-task-id ${request.decisionTaskId}: the Queue's answer is not a task definition`);
  }
  const taskGroupId = typeof decision.taskGroupId === 'string' ? decision.taskGroupId : request.decisionTaskId;
  const file = await readActionsJson(queue, request.decisionTaskId);
  const action = findHookAction(file, name, `${actionsArtifact} of ${request.decisionTaskId}`);
  if (action.schema !== undefined) {
    const validate = compileSchema(action.schema);
    if (!validate(request.input)) throw new UsageError(describeSchemaErrors('--input', validate.errors, request.input));
  }
  // The UI lets variables replace the context; one that replaced the input would send what the
  // schema check above never saw. taskgraph writes none of these: refuse rather than guess.
  const shadowing = ['taskGroupId', 'taskId', 'task', 'input'].filter((key) => Object.hasOwn(file.variables, key));
  if (shadowing.length) throw new UsageError(`${actionsArtifact} of ${request.decisionTaskId}: variables ${shadowing.map((k) => quote(k)).join(', ')} would replace the action's context; nothing was triggered`);
  const context = uiActionContext(request.decisionTaskId, decision, request.input, file.variables as Record<string, unknown>);
  const payload = renderJsone(action.hookPayload, context, `${actionsArtifact}: ${name}: hookPayload`);
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UsageError(`${actionsArtifact}: ${name}: hookPayload must render to an object`);
  }
  // The UI's check: the decision task's scopes, expanded by the auth service, must allow this hook.
  const decisionScopes = Array.isArray(decision.scopes) ? decision.scopes.filter((x): x is string => typeof x === 'string') : [];
  const required = hookActionScope(action.hookGroupId, action.hookId);
  let expanded: string[];
  try {
    expanded = (await auth.expandScopes({ scopes: decisionScopes })).scopes;
  } catch (error) {
    throw taskclusterError(error, `expanding the scopes of decision task ${request.decisionTaskId}`);
  }
  const { default: scopes } = await import('taskcluster-lib-scopes');
  if (!Array.isArray(expanded) || !scopes.satisfiesExpression(expanded, required)) {
    throw new UsageError(
      `${actionsArtifact} of ${request.decisionTaskId}: action ${quote(name)} is misconfigured: the decision task's scopes (${decisionScopes.map((x) => quote(x)).join(', ') || 'none'}) do not satisfy ${required}; nothing was triggered. An action of a level-${taskGroupLevel(decision)} push cannot fire this hook: trigger it from a decision task whose push may (e.g. the default branch's newest)`,
    );
  }
  let response: Awaited<ReturnType<Hooks['triggerHook']>>;
  try {
    response = await hooks.triggerHook(action.hookGroupId, action.hookId, payload);
  } catch (error) {
    if ((error as { statusCode?: unknown }).statusCode === 404) {
      throw new NotFoundError(
        `triggerHook ${action.hookGroupId}/${action.hookId}: no such hook. fxci-config generates it for this .taskcluster.yml's hash once its actions.yml gives trust domain ${action.hookGroupId.replace(/^project-/, '')} the ${quote(String((action.extra as { actionPerm?: unknown } | undefined)?.actionPerm ?? 'release-promotion'))} permission and ciadmin has applied it (see tc-promote's consumers/README.md); nothing was triggered`,
        { cause: error },
      );
    }
    throw triggerRefusal(error, action.hookGroupId, action.hookId) ?? taskclusterError(error, `triggerHook ${action.hookGroupId}/${action.hookId}`);
  }
  const taskId = response?.taskId ?? response?.status?.taskId;
  if (typeof taskId !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(taskId)) throw new RemoteError(`triggerHook ${action.hookGroupId}/${action.hookId}: the hook created no task`);
  return { taskId, taskGroupId, hookGroupId: action.hookGroupId, hookId: action.hookId };
}

/**
 * triggerHook's scope refusals, with the way out: the caller lacks the trigger scope (or gave
 * no credentials), or the hook fired but its role may not create the rendered task (the
 * hooks service's "The role `hook-id:…` does not have sufficient scopes" answer).
 */
function triggerRefusal(error: unknown, hookGroupId: string, hookId: string): RemoteError | undefined {
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (e?.statusCode !== 403 || e.code !== 'InsufficientScopes' || typeof e.message !== 'string') return undefined;
  const where = `triggerHook ${hookGroupId}/${hookId}`;
  const missing = missingScopes(e.message);
  // The grant covers every hash of the hook: each .taskcluster.yml change makes a new hook id.
  const grant = `hooks:trigger-hook:${hookGroupId}/${hookId.replace(/\/[^/]*$/, '/*')}`;
  const role = /^The role `hook-id:([^`]+)`/.exec(e.message)?.[1];
  if (role !== undefined) {
    return new RemoteError(
      `${where}: the hook's role hook-id:${role} lacks ${missing ?? 'scopes'} to create the action task; fxci-config's in-tree action role and the grants of the repository's action roles decide it (tc-promote grants --check compares a role with what the graph needs; see tc-promote's consumers/README.md); the action task was not created`,
      { cause: error },
    );
  }
  if (e.message.startsWith('This request requires Taskcluster credentials')) {
    return new RemoteError(`${where}: no Taskcluster credentials: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (e.g. from taskcluster signin) of someone holding ${grant}; nothing was triggered`, { cause: error });
  }
  const client = /^Client ID (\S+) does not have sufficient scopes/.exec(e.message)?.[1] ?? 'the client';
  return new RemoteError(
    `${where}: client ${client} lacks ${missing ?? grant}; fxci-config grants ${grant} to the group that may roll production back (tc-promote's consumers/README.md): ask for it, or trigger with credentials that hold it; nothing was triggered`,
    { cause: error },
  );
}

/** The level a decision task ran at, from its schedulerId (`<trust domain>-level-<n>`), or "?". */
function taskGroupLevel(decision: Record<string, unknown>): string {
  return /-level-(\d+)$/.exec(String(decision.schedulerId ?? ''))?.[1] ?? '?';
}
