/** `tc-promote action-callback`: inside the action task, plan, render and submit the promotion. */
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { TaskGraph } from '../graph/build.js';
import { formatGraph } from '../graph/format.js';
import { planPromotion, type PlanRequest } from '../history/plan.js';
import type { InFlightIndex } from '../taskcluster/in-flight.js';
import { actionRequester, planActionGraph, readActionEnvironment, requireRevisionPin, runActionCallback } from '../taskcluster/action-callback.js';
import { createClients, resolveConnection, taskGroupUrl } from '../taskcluster-api/clients.js';
import { fs } from '../util/builtins.js';
import { branchCheckHelp, branchCheckOptions, deployBranchChecker, githubClientOnce } from './branch-check.js';
import { buildRuntime, clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';

const { mkdirSync, writeFileSync } = fs;

export const help = `Usage: tc-promote action-callback [--revision REV --repository URL] [--dry-run] [--json]

Runs inside the action task that the promotion hook creates. Reads ACTION_INPUT (JSON),
ACTION_TASK_GROUP_ID, ACTION_TASK_ID (JSON: null for a task-group action), ACTION_CALLBACK and
TASK_ID (the action task itself), validates the input against the action's schema, plans,
renders and submits the graph into the action's task group. Every task with no dependency in
the graph depends on the action task, so nothing runs unless the whole graph was created.
Taskcluster calls go through TASKCLUSTER_PROXY_URL with the action task's scopes. With
TC_PROMOTE_ARTIFACTS set, the graph is written there as task-graph.json before submission.
TC_PROMOTE_REQUESTER (the hook's clientId: who fired it) is the requester of the tasks
(metadata.owner) and of the promotion record.

With --config (a configuration read from a checkout), --revision and --repository name that
checkout, and before planning the revision must be protected: on the repository's default
branch (GitHub's compare) or the head of a shared or deploy branch. Otherwise it refuses
(exit 2) and plans nothing.

Options:
  --revision REV     the checked-out revision (40 hex) whose configuration is used
  --repository URL   the repository it was fetched from (https://github.com/<owner>/<repo>)
  --dry-run   plan and render, print the graph, submit nothing
${branchCheckHelp}

Example (what the action task runs):
  ACTION_CALLBACK=promote_image ACTION_TASK_GROUP_ID=… ACTION_TASK_ID=null TASK_ID=… \\
  ACTION_INPUT='{"script":"signingscript","environment":"production","reason":"bad deploy"}' \\
  tc-promote action-callback

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('action-callback', argv, { 'dry-run': { type: 'boolean' }, revision: { type: 'string' }, repository: { type: 'string' }, ...branchCheckOptions }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  requireRevisionPin(values);
  const config = loadConfig(values.config);
  const action = readActionEnvironment(config, io.env);
  const requester = actionRequester(io.env, action.ownTaskId);
  const runtime = buildRuntime(values, io, config);
  // Inside the action task (TASKCLUSTER_PROXY_URL) the deploy branch is read with the GitHub secret: its head is the lease.
  const checker = deployBranchChecker(io, config, values);
  if (checker) runtime.checkDeployBranch = checker;
  const { revision, repository } = values;
  const deps = {
    plan: (request: PlanRequest) => planPromotion(runtime, request),
    graphOptions: { nowMs: clock(io.env), requester },
    ...(revision !== undefined &&
      repository !== undefined && {
        checkRevision: async () => {
          const { checkProtectedRevision } = await import('../github/protected-revision.js');
          return checkProtectedRevision(await githubClientOnce(io, config, values)(), config, revision, repository);
        },
        onRevisionChecked: (c: { revision: string; how: string }) => io.stderr(`revision ${c.revision}: ${c.how}\n`),
      }),
  };
  if (values['dry-run']) {
    const { plan, graph } = await planActionGraph(config, action, deps);
    for (const w of [...plan.warnings, ...graph.warnings]) io.stderr(`warning: ${w}\n`);
    io.stdout(formatGraph(graph, 'json'));
    return 0;
  }
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  const { queue, index } = await createClients(connection);
  const artifacts = io.env.TC_PROMOTE_ARTIFACTS;
  const { plan, graph, result, inFlight } = await runActionCallback(config, action, {
    ...deps,
    queue,
    index: index as unknown as InFlightIndex,
    ...(io.signal && { submitOptions: { signal: io.signal } }),
    beforeSubmit: (g: TaskGraph) => {
      for (const w of g.warnings) io.stderr(`warning: ${w}\n`);
      if (!artifacts) return;
      try {
        // Created when missing, as the steps' promotion.json folders are.
        mkdirSync(artifacts, { recursive: true });
        writeFileSync(path.join(artifacts, 'task-graph.json'), formatGraph(g, 'json'));
      } catch (error) {
        throw new UsageError(`TC_PROMOTE_ARTIFACTS: cannot write task-graph.json in ${artifacts}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; nothing was submitted`);
      }
    },
  });
  for (const w of plan.warnings) io.stderr(`warning: ${w}\n`);
  const url = taskGroupUrl(connection.rootUrl, graph.taskGroupId);
  // The in-flight entry is a convenience: not written, the promotion goes on, and the output says so (as rollback's does).
  const follow = `tc-promote follow ${plan.script} --env ${plan.env}`;
  if (inFlight?.error) io.stderr(`note: the in-flight entry was not written: ${inFlight.error}; follow and cancel find this promotion by its task group only (tc-promote follow ${graph.taskGroupId})\n`);
  if (values.json) printJson(io, { ...result, url, inFlight });
  else io.stdout(`${result.created.map((t) => `created ${t.label} ${t.taskId}`).join('\n')}\ntask group: ${url}\n${inFlight?.path ? `in flight: ${inFlight.path} (${follow} finds it)\n` : ''}`);
  return 0;
}
