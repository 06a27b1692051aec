/**
 * Trigger the promotion action the way the Taskcluster UI and Treeherder do: read the
 * decision task's `public/actions.json`, validate the input against the action's schema,
 * render its `hookPayload` with `{taskGroupId, taskId: null, input}` and call
 * `hooks.triggerHook`. The hook creates the action task.
 */
import { Writable } from 'node:stream';
import type { Hooks, Queue } from 'taskcluster-client';
import { RemoteError, UsageError } from '../errors.js';
import { actionName, findHookAction, parseActionsFile } from '../graph/actions.js';
import { renderJsone } from '../graph/taskcluster-yml.js';
import { compileSchema, describeSchemaErrors } from '../util/validate.js';
import type { ActionsFile } from './actions-schema.js';
import { taskclusterError } from './clients.js';

export const actionsArtifact = 'public/actions.json';

export interface TriggerRequest {
  decisionTaskId: string;
  input: unknown;
  /** Default `promote-image`. */
  actionName?: string;
}

export interface TriggerResult {
  taskId: string;
  taskGroupId: string;
  hookGroupId: string;
  hookId: string;
}

export async function readActionsJson(queue: Queue, decisionTaskId: string): Promise<ActionsFile> {
  const { default: taskcluster } = await import('taskcluster-client');
  let chunks: Buffer[] = [];
  try {
    await taskcluster.downloadArtifact({
      taskId: decisionTaskId,
      name: actionsArtifact,
      queue,
      retries: 2,
      streamFactory: () => {
        chunks = [];
        return new Writable({
          write(chunk: Buffer, _encoding, done) {
            chunks.push(chunk);
            done();
          },
        });
      },
    });
  } catch (error) {
    throw taskclusterError(error, `${actionsArtifact} of decision task ${decisionTaskId}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RemoteError(`${actionsArtifact} of decision task ${decisionTaskId}: not JSON`);
  }
  return parseActionsFile(data, `${actionsArtifact} of ${decisionTaskId}`);
}

export async function triggerAction(clients: { queue: Queue; hooks: Hooks }, request: TriggerRequest): Promise<TriggerResult> {
  const { queue, hooks } = clients;
  const name = request.actionName ?? actionName;
  let decision: Record<string, unknown>;
  try {
    decision = await queue.task(request.decisionTaskId);
  } catch (error) {
    throw taskclusterError(error, `--decision-task-id ${request.decisionTaskId}`);
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
  // The UI's context for an action on a task group: no task selected.
  const payload = renderJsone(action.hookPayload, { taskGroupId, taskId: null, input: request.input }, `${actionsArtifact}: ${name}: hookPayload`);
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UsageError(`${actionsArtifact}: ${name}: hookPayload must render to an object`);
  }
  let response: Awaited<ReturnType<Hooks['triggerHook']>>;
  try {
    response = await hooks.triggerHook(action.hookGroupId, action.hookId, payload);
  } catch (error) {
    throw taskclusterError(error, `triggerHook ${action.hookGroupId}/${action.hookId}`);
  }
  const taskId = response?.taskId ?? response?.status?.taskId;
  if (typeof taskId !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(taskId)) throw new RemoteError(`triggerHook ${action.hookGroupId}/${action.hookId}: the hook created no task`);
  return { taskId, taskGroupId, hookGroupId: action.hookGroupId, hookId: action.hookId };
}
