/** `tc-promote rerun --script S --revision SHA`: push a revision's image again with its original push task. */
import { loadConfig } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { createClients, resolveConnection, taskGroupUrl, taskUrl } from '../taskcluster-api/clients.js';
import { checkRerunRequest, rerunPushTask, type RerunRequest, type RerunResult } from '../taskcluster/rerun.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { finishPromotionRecord, readPromotionRecord, writePromotionRecord } from './promotion-record.js';
import { table } from './table.js';

export const help = `Usage: tc-promote rerun --script S --revision SHA [--env E] [--task-group-id ID] [--dry-run] [--json]

Finds the decision task of the revision through the index
(<trust domain>.v2.<project>.revision.<SHA>.taskgraph.decision), lists its task group and
picks the task that pushed the script's image for the environment, then:
  - before the task's deadline: reruns it (queue.rerunTask: a new run of the same task);
  - past the deadline: retriggers a clone (a new task id, the same definition and payload,
    created/deadline/expires moved to now keeping their spacing) in the task group given
    (--task-group-id, else ACTION_TASK_GROUP_ID, else TASK_GROUP_ID), or a new group of
    its own;
  - when it is pending or running already: does nothing and says so.

Push tasks are recognised by label (tags.label, else metadata.name), in every form
scriptworker-scripts has used:
  push-image-<script>                  today's push task (also with a -python<N> suffix)
  k8s-image-<script>-python<N>         older (ci/k8s-image): built and pushed in one task,
                                       the revision in SCRIPTWORKER_HEAD_REV
and, where the payload says, only one that pushes (PUSH_DOCKER_IMAGE is not 0) the
environment's moving tag (DOCKER_TAG) for this script and revision. The index keeps one
decision task per revision (the newest push of it, whatever the branch): when that push
ran no push task for the environment, rerun exits 4 and names the way out: a rebuild,
tc-promote submit <script> --to <revision> --route rebuild (rerun itself has no --route).

Today's push task re-pushes the same archive tag when rerun (its date was fixed when the
graph was generated): the registry records no new deploy date; rerun warns about it.

Options:
  --script S          the script whose image to push
  --revision SHA      the full 40-hex revision
  --env E             the environment (default production): its moving tag is what the push task must push
  --task-group-id ID  where a clone goes (default ACTION_TASK_GROUP_ID, TASK_GROUP_ID, or a new group)
  --dry-run           find the task and say what would happen; rerun and create nothing

Credentials: TASKCLUSTER_ROOT_URL with TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, or
TASKCLUSTER_PROXY_URL inside a task. Rerunning needs queue:rerun-task:<schedulerId>/<group>/<task>;
a clone needs the scopes and routes of the original (assume:repo:github.com/<repository>:branch:<branch>).
Inside a task (TC_PROMOTE_PROMOTION and TC_PROMOTE_ARTIFACTS set) it writes promotion.json
first (outcome started: a folder that cannot be written to stops the step before the Queue is
asked anything, exit 1), then with the action, the push task and the clone (failing to write
that last version is a warning: the rerun happened).

Output: a table, or with --json {script, env, revision, indexPath, decisionTaskId,
taskGroupId, decisionBranch, pushTask, action, taskId, clone, dryRun, warnings[]}.

Examples:
  tc-promote rerun --script signingscript --revision 7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89 --dry-run
  tc-promote rerun --script signingscript --env dev --revision 7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89

${globalHelp}`;

const options = {
  script: { type: 'string' },
  env: { type: 'string' },
  revision: { type: 'string' },
  'task-group-id': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('rerun', argv, options, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError('rerun: takes no positional arguments; see tc-promote rerun --help');
  const config = loadConfig(values.config);
  // Where a clone goes: the flag, else the action's group, else this task's group; an
  // environment value is checked here so that its error names the variable, not the flag.
  const fromEnv = (['ACTION_TASK_GROUP_ID', 'TASK_GROUP_ID'] as const).find((name) => io.env[name] !== undefined && io.env[name] !== '');
  if (values['task-group-id'] === undefined && fromEnv !== undefined && !isSlugid(io.env[fromEnv])) {
    throw new UsageError(`${fromEnv}: ${quote(io.env[fromEnv])} is not a task group id (a 22-character slugid)`);
  }
  const taskGroupId = values['task-group-id'] ?? (fromEnv !== undefined ? io.env[fromEnv] : undefined);
  const request: RerunRequest = {
    config,
    script: values.script,
    env: values.env,
    revision: values.revision,
    ...(taskGroupId !== undefined && { taskGroupId }),
    dryRun: values['dry-run'] ?? false,
    nowMs: clock(io.env),
  };
  checkRerunRequest(request);
  readPromotionRecord(io);
  // Inside the rerun route's task the folder must take the record before the Queue is asked to do anything.
  if (!request.dryRun) writePromotionRecord(io, { outcome: 'started' }, request.nowMs);
  const verbose = io.isTty || values.debug === true;
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  const { queue, index } = await createClients(connection);
  const result = await rerunPushTask(
    {
      queue,
      index,
      onProgress: (message) => {
        if (verbose) io.stderr(`${message}\n`);
      },
    },
    request,
  ).catch((error: unknown) => {
    // The record says how the step ended (best effort: the error is what matters).
    if (!request.dryRun && error instanceof Error) finishPromotionRecord(io, { outcome: 'failed', error: error.message }, request.nowMs, 'the rerun failed');
    throw error;
  });
  if (!result.dryRun) {
    // The Queue acted: failing to record it is a warning, not a failed step.
    const done = result.action === 'none' ? `${result.pushTask.taskId} is ${result.pushTask.state} already` : `${result.action === 'rerun' ? 'reran' : 'retriggered'} ${result.pushTask.taskId}`;
    finishPromotionRecord(io, { outcome: result.action, pushTask: { taskId: result.pushTask.taskId, label: result.pushTask.label, archiveTag: result.pushTask.archiveTag }, taskId: result.taskId, clone: result.clone, decisionTaskId: result.decisionTaskId, warnings: result.warnings }, request.nowMs, done);
  }
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (values.json) printJson(io, result);
  else io.stdout(renderRerun(result, connection.rootUrl));
  return 0;
}

export function renderRerun(result: RerunResult, rootUrl: string): string {
  const what = {
    rerun: result.dryRun ? `would rerun ${result.pushTask.taskId}` : `reran ${result.pushTask.taskId}`,
    retrigger: result.dryRun ? `would retrigger ${result.pushTask.taskId} as ${result.taskId}` : `retriggered ${result.pushTask.taskId} as ${result.taskId}`,
    none: `${result.pushTask.taskId} is ${result.pushTask.state} already; nothing done`,
  }[result.action];
  const rows: [string, string][] = [
    ['revision', result.revision],
    ['decision task', `${result.decisionTaskId}${result.decisionBranch ? ` (push to ${result.decisionBranch})` : ''}`],
    ['push task', `${result.pushTask.taskId} ${result.pushTask.label} (${result.pushTask.state})`],
    ['deadline', result.pushTask.deadline],
    ['archive tag', result.pushTask.archiveTag ?? '-'],
    ['action', result.action],
  ];
  if (result.clone) {
    rows.push(['clone', result.clone.taskId], ['clone group', result.clone.taskGroupId], ['clone deadline', result.clone.deadline]);
  }
  const lines = [`rerun: ${result.script} ${result.env}: ${what}`, '', table(['FIELD', 'VALUE'], rows), ''];
  if (!result.dryRun && result.action !== 'none') {
    lines.push(`task: ${taskUrl(rootUrl, result.taskId)}`);
    if (result.clone) lines.push(`task group: ${taskGroupUrl(rootUrl, result.clone.taskGroupId)}`);
  }
  return lines.join('\n') + '\n';
}
