/** `tc-promote submit <script>`: plan, render and create the promotion's tasks. */
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { formatGraph } from '../graph/format.js';
import { createClients, resolveConnection, taskGroupUrl, taskclusterError } from '../taskcluster-api/clients.js';
import type { TaskGraph } from '../graph/build.js';
import { dryRunSummary, type IdCheck } from '../present/submit-summary.js';
import { defaultConcurrency, submitGraph } from '../taskcluster/submit.js';
import { globalHelp, parseCommandArgs, positiveInteger, printJson, type Io } from './common.js';
import { graphOptions, graphOptionsHelp, planAndBuildGraph, printWarnings, submissionConnection, tasksForcePushingWithoutLease } from './graph-options.js';

export const help = `Usage: tc-promote submit <script> [plan flags] [--reason TEXT] [--fallback] [--dry-run] [--concurrency N]

Plans the promotion, renders and validates its tasks (exactly what render prints) and creates
them with the Queue in dependency order, at most N at a time. If a task cannot be created, the
tasks that depend on it are not, and the error lists them; submitting the same graph again
(same --task-group-id and ids) is safe. Prints the task group's URL.

Credentials: TASKCLUSTER_ROOT_URL with TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, or
TASKCLUSTER_PROXY_URL inside a task. --root-url overrides the root URL.

Options:
  --dry-run        create nothing: a summary (tasks and what each waits for, dependencies,
                   scopes, what would move) and, with credentials, whether the Queue knows any
                   of the task ids already; with --json the definitions (as render --format json)
  --concurrency N  most createTask calls in flight (default ${defaultConcurrency})
  --no-lease       submit a graph that would force-push the deploy branch without a lease (its
                   head could not be read at plan time); refused without this flag
${graphOptionsHelp}

Examples:
  tc-promote submit signingscript --reason "signing fails with the new image" --fallback
  tc-promote submit beetmoverscript --from-env dev --reason "promote dev" --dry-run

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('submit', argv, { ...graphOptions, 'dry-run': { type: 'boolean' }, concurrency: { type: 'string' }, 'no-lease': { type: 'boolean' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`submit: takes one script, got ${positionals.length} arguments`);
  const concurrency = positiveInteger(values.concurrency, '--concurrency', 500) ?? defaultConcurrency;
  if (values.offline && !values['dry-run'] && values.route !== 'rebuild' && values.route !== 'rerun' && values['moving-digest'] === undefined) {
    throw new UsageError('--offline: submitting a retag needs --moving-digest DIGEST (or none), the compare-and-swap the promote task relies on');
  }
  // Credentials first: without them nothing is planned (no registry, no DNS of the deployment).
  const connection = values['dry-run'] ? undefined : submissionConnection(io, values, loadConfig(values.config), 'submit');
  const { plan, graph } = await planAndBuildGraph(values, positionals[0], io);
  printWarnings(io, plan, graph);
  if (values['dry-run']) {
    if (values.json) io.stdout(formatGraph(graph, 'json'));
    else io.stdout(dryRunSummary(plan, graph, await existingTaskIds(io, values, graph)));
    return 0;
  }
  const leaseless = tasksForcePushingWithoutLease(graph);
  if (leaseless.length && !values['no-lease']) {
    throw new UsageError(
      `submit: ${leaseless.join(', ')} would force-push the deploy branch without a lease (its head was not read at plan time; see the warning above): set GITHUB_TOKEN (or GITHUB_API_URL for a public repository) so that plan reads it, or give --no-lease to submit it anyway; nothing was created`,
    );
  }
  const { queue } = await createClients(connection!);
  const result = await submitGraph(queue, graph, {
    concurrency,
    ...(io.signal && { signal: io.signal }),
    onCreated: (t) => {
      if (io.isTty || values.debug) io.stderr(`created ${t.label} ${t.taskId}\n`);
    },
  });
  const url = taskGroupUrl(connection!.rootUrl, graph.taskGroupId);
  if (values.json) printJson(io, { ...result, url });
  else io.stdout(`${result.created.map((t) => `created ${t.label} ${t.taskId}`).join('\n')}\ntask group: ${url}\n`);
  return 0;
}

/** With credentials (or a task's proxy), which of the graph's task ids the Queue knows already; without, why it was not asked. */
async function existingTaskIds(io: Io, values: { config?: string; 'root-url'?: string }, graph: TaskGraph): Promise<IdCheck> {
  const connection = resolveConnection(io.env, values['root-url'], loadConfig(values.config).taskcluster.rootUrl);
  if (!connection.credentials && !connection.viaProxy) return { asked: false, why: 'no credentials (TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN)' };
  const { queue } = await createClients(connection);
  const known = await Promise.all(
    graph.tasks.map(async (t) => {
      try {
        await queue.status(t.taskId);
        return t.label;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return null;
        throw taskclusterError(error, `queue.status ${t.taskId}`);
      }
    }),
  );
  return { asked: true, rootUrl: connection.rootUrl, existing: known.filter((l): l is string => l !== null) };
}
