/** `tc-promote trigger`: trigger the promotion action's hook the way the Taskcluster UI does. */
import { loadConfig } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { actionName } from '../graph/actions.js';
import { createClients, resolveConnection, taskUrl } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { triggerAction } from '../taskcluster/trigger.js';
import { readInputFile } from '../util/read-file.js';
import { globalHelp, parseCommandArgs, printJson, type Io } from './common.js';

export const help = `Usage: tc-promote trigger --decision-task-id ID --input JSON|@FILE [--action NAME] [--json]

Does what the Taskcluster UI does for an action of a task group (submitTaskAction.js): reads
the decision task and its public/actions.json, validates the input against the action's
schema, renders the action's hookPayload with the UI's context (taskGroupId and taskId of the
decision task, task: its definition, input, deep-merged with the file's variables), checks
that the decision task's scopes (expanded by the auth service) satisfy
in-tree:hook-action:<hookGroupId>/<hookId> (exit 2 naming the scope otherwise: a level-1
push cannot fire a level-3 hook), and calls hooks.triggerHook. Prints the id of the action
task the hook created; that task plans, renders and submits the promotion
(tc-promote action-callback).

Credentials: TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (e.g.
from taskcluster signin), holding hooks:trigger-hook:<hookGroupId>/<hookId>; fxci-config grants
hooks:trigger-hook:project-<trust domain>/in-tree-action-<level>-release-promotion/* to those
who may roll production back. Exit 2: bad input, or a decision task that may not fire the
hook; 4: no such decision task, actions.json or hook (fxci-config has not generated it);
1: Taskcluster refused (your scopes, or the hook's role), with the scope that is missing.

Input fields: script, environment, reason (required); target (previous, an archive tag, a
revision, sha256:DIGEST or another environment), route (auto, retag, rebuild, rerun),
fallback (true/false), min-live (e.g. 3d).

Options:
  --decision-task-id ID   the decision task that published the actions.json
  --input JSON|@FILE      the action input, as JSON or a file holding it
  --action NAME           the action (default ${actionName})

Example:
  tc-promote trigger --decision-task-id fXsd8WIzR9y1QRJTQNMn9A \\
    --input '{"script": "signingscript", "environment": "production", "reason": "bad deploy"}'

${globalHelp}`;

function readInput(text: string): unknown {
  let json = text;
  if (text.startsWith('@')) json = readInputFile(text.slice(1), '--input', 1024 * 1024);
  try {
    return JSON.parse(json);
  } catch {
    throw new UsageError(`--input: ${quote(json)} is not JSON`);
  }
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('trigger', argv, { 'decision-task-id': { type: 'string' }, input: { type: 'string' }, action: { type: 'string' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  const decisionTaskId = values['decision-task-id'];
  if (decisionTaskId === undefined) throw new UsageError('--decision-task-id: missing; see tc-promote trigger --help');
  if (!isSlugid(decisionTaskId)) throw new UsageError(`--decision-task-id: ${quote(decisionTaskId)} is not a task id`);
  if (values.input === undefined) throw new UsageError('--input: missing; see tc-promote trigger --help');
  const input = readInput(values.input);
  const config = loadConfig(values.config);
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  const clients = await createClients(connection);
  const decisionIndex = { rootUrl: connection.rootUrl, trustDomain: config.taskcluster.trustDomain, project: config.taskcluster.project };
  const result = await triggerAction(clients, { decisionTaskId, input, decisionIndex, ...(values.action !== undefined && { actionName: values.action }) });
  const url = taskUrl(connection.rootUrl, result.taskId);
  if (values.json) printJson(io, { ...result, url });
  else io.stdout(`${result.taskId}\n${url}\n`);
  return 0;
}
