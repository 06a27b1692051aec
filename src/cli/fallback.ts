/** `tc-promote fallback`: the retag route's last task; force-pushes the target revision when promotion failed. */
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { githubClientFromEnvironment } from '../github/client.js';
import { githubSecretKey } from '../github/credentials.js';
import { createClients, resolveConnection } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { recordFailedPromotion } from '../history/failed-promotions.js';
import { PromotionFailedError, checkFallbackRequest, runFallback, type FallbackRequest, type FallbackResult } from '../taskcluster/fallback.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { githubTransport } from './github-options.js';
import { finishPromotionRecord, readPromotionRecord, writePromotionRecord } from './promotion-record.js';
import { forcePushTable, undoHint } from './force-push.js';
import { table } from './table.js';

export const help = `Usage: tc-promote fallback --script S --env E --branch B [--revision SHA] [--expect SHA]
                           [--allow-force-push] [--failure-index NS] [--dry-run]
                           --promote-task ID [--promote-task ID]… [--json]

The retag route's last task (requires: all-resolved on every promote task). Reads the state of
each promote task from the Queue:
  - all completed: does nothing and says so (exit 0);
  - one failed or ended in exception, with --allow-force-push: force-pushes --revision to
    --branch (the script's deploy branch in --env, nothing else) with the lease --expect (the
    head seen at plan time; exit 3 and the branch untouched when it moved), keeping the old
    head as a backup ref; the branch push rebuilds and deploys that revision (exit 0);
  - one failed, without --allow-force-push: exits 1 saying the promotion failed and no
    fallback was allowed.
A promote task not resolved yet decides nothing: exit 1, nothing pushed.

Options:
  --script S           the script promoted
  --env E              the environment promoted to
  --branch B           the script's deploy branch in E (production-<script>, dev-<script>)
  --revision SHA       the target revision (required with --allow-force-push)
  --expect SHA         the lease: the branch head recorded at plan time
  --allow-force-push   the action input allowed a fallback
  --promote-task ID    a promote task this fallback depends on (repeat)
  --failure-index NS   when a promote task did not complete, record the promotion in the
                       Taskcluster index at NS (the task's scope index:insert-task:NS; inside a
                       task only, TASK_ID names the entry): a failed task is not indexed by its
                       routes, so without this history would not show the promotion; outcome
                       cancelled when every promote task that did not complete was cancelled,
                       else failed. Failing to write it is a warning.
  --dry-run            read everything, push nothing, say what would happen

Taskcluster: TASKCLUSTER_PROXY_URL inside the task (the task's scopes: queue:status:<id>), or
TASKCLUSTER_ROOT_URL (anonymous reads are enough). GitHub, only when a push is due:
GITHUB_TOKEN, or the field ${githubSecretKey} of the configured secret through the proxy;
GITHUB_API_URL for another API base.
Inside a task (TC_PROMOTE_PROMOTION and TC_PROMOTE_ARTIFACTS set) it writes promotion.json:
the graph's record with time, outcome (not-needed, force-pushed, already-there,
not-allowed, force-push-failed), promoteTasks, and the branch, oldHead and backupRef.

Output: a table, or with --json {script, env, branch, revision, outcome, promoteTasks[],
failed[], forcePush, warnings[]}.

Example (what the fallback task runs):
  tc-promote fallback --script signingscript --env production --branch production-signingscript \\
      --revision 7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89 --expect 0123456789abcdef0123456789abcdef01234567 \\
      --allow-force-push --promote-task fHxGk2mXQ4qQjW1a0bq8Zg

${globalHelp}`;

const options = {
  script: { type: 'string' },
  env: { type: 'string' },
  branch: { type: 'string' },
  revision: { type: 'string' },
  expect: { type: 'string' },
  'allow-force-push': { type: 'boolean' },
  'promote-task': { type: 'string', multiple: true },
  'failure-index': { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('fallback', argv, options, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError('fallback: takes no positional arguments; see tc-promote fallback --help');
  const config = loadConfig(values.config);
  const nowMs = clock(io.env);
  const request: FallbackRequest = {
    config,
    script: values.script,
    env: values.env,
    branch: values.branch,
    ...(values.revision !== undefined && { revision: values.revision }),
    ...(values.expect !== undefined && { expect: values.expect }),
    allowForcePush: values['allow-force-push'] ?? false,
    promoteTaskIds: values['promote-task'] ?? [],
    dryRun: values['dry-run'] ?? false,
    nowMs,
  };
  // Every flag and the record are checked before any request.
  checkFallbackRequest(request);
  const failureIndex = values['failure-index'];
  if (failureIndex !== undefined && !/^[\w-]+(\.[\w-]+)*$/.test(failureIndex)) throw new UsageError(`--failure-index: ${JSON.stringify(failureIndex)} is not an index namespace (dot-separated words)`);
  const graphRecord = readPromotionRecord(io);
  // The folder must take the record before a force-push can happen.
  if (!request.dryRun) writePromotionRecord(io, { outcome: 'started' }, nowMs);
  const verbose = io.isTty || values.debug === true;
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  const { queue, index } = await createClients(connection);
  const result = await runFallback(
    {
      queue,
      github: () => githubClientFromEnvironment(io.env, config, { requireToken: !request.dryRun, transport: githubTransport(io, verbose), ...(io.redactor && { redactor: io.redactor }) }),
      onProgress: (message) => {
        if (verbose) io.stderr(`${message}\n`);
      },
    },
    request,
  ).catch((error: unknown) => {
    // The record says how the step ended (best effort: the error is what matters).
    if (!request.dryRun && error instanceof Error) finishPromotionRecord(io, { outcome: 'failed', error: error.message }, nowMs, 'the fallback failed');
    throw error;
  });
  if (!request.dryRun) finishPromotionRecord(io, recordFields(result), nowMs, `the fallback ended ${result.outcome}`);
  // A promotion that did not complete: recorded in the index, since a failed promote task is not indexed.
  const ownTaskId = io.env.TASK_ID;
  if (!request.dryRun && failureIndex !== undefined && result.failed.length && ownTaskId !== undefined && isSlugid(ownTaskId)) {
    const cancelled = result.failed.every((t) => t.reasonResolved === 'canceled');
    const record = { ...(graphRecord ?? { script: result.script, env: result.env }), time: new Date(nowMs).toISOString(), outcome: cancelled ? 'cancelled' : 'failed', fallback: result.outcome, promoteTasks: result.promoteTasks.map(({ taskId, state, reasonResolved }) => ({ taskId, state, reasonResolved: reasonResolved ?? null })) };
    try {
      await recordFailedPromotion(index as never, { namespace: failureIndex, taskId: ownTaskId, nowMs, record });
      if (verbose) io.stderr(`recorded the ${record.outcome} promotion in the index at ${failureIndex}\n`);
    } catch (error) {
      const e = error as { statusCode?: number; message?: string };
      io.stderr(`warning: the ${record.outcome} promotion could not be recorded in the index at ${failureIndex} (${e.statusCode === 403 ? `needs index:insert-task:${failureIndex}; ` : ''}${String(e?.message ?? error).split('\n')[0]}): history will not show it; public/promotion.json of this task says how it ended\n`);
    }
  }
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  if (result.error) throw result.error;
  if (values.json) printJson(io, jsonOf(result));
  else io.stdout(renderFallback(result));
  if (result.outcome === 'not-allowed') throw new PromotionFailedError(result);
  return 0;
}

function recordFields(result: FallbackResult): Record<string, unknown> {
  return {
    outcome: result.outcome,
    promoteTasks: result.promoteTasks.map(({ taskId, state, reasonResolved }) => ({ taskId, state, reasonResolved })),
    branch: result.branch,
    oldHead: result.forcePush?.oldHead ?? null,
    backupRef: result.forcePush?.backupRef ?? null,
    moved: result.forcePush?.moved ?? false,
    ...(result.error && { error: result.error.message }),
    ...(result.warnings.length && { warnings: result.warnings }),
  };
}

function jsonOf(result: FallbackResult): Record<string, unknown> {
  const { script, env, branch, revision, outcome, promoteTasks, failed, forcePush, warnings } = result;
  return { script, env, branch, revision, outcome, promoteTasks, failed, forcePush, warnings };
}

export function renderFallback(result: FallbackResult): string {
  const said: Record<FallbackResult['outcome'], string> = {
    'not-needed': `every promote task completed; nothing to do`,
    'force-pushed': `promotion failed; force-pushed ${result.revision} to ${result.branch}`,
    'already-there': `promotion failed; ${result.branch} is already at ${result.revision}, nothing was pushed`,
    'would-force-push': `promotion failed; would force-push ${result.revision} to ${result.branch} (dry run)`,
    'not-allowed': `promotion failed; no fallback was allowed, nothing was pushed`,
    'force-push-failed': `promotion failed; the force-push failed`,
  };
  const lines = [
    `fallback: ${result.script} ${result.env}: ${said[result.outcome]}`,
    '',
    table(
      ['PROMOTE TASK', 'STATE', 'RUNS'],
      result.promoteTasks.map((t) => [t.taskId, t.state + (t.reasonResolved && t.reasonResolved !== t.state ? ` (${t.reasonResolved})` : ''), String(t.runs)]),
    ),
  ];
  const push = result.forcePush;
  if (push) {
    lines.push('', forcePushTable(push));
    if (push.moved) lines.push('', undoHint(push));
  }
  return lines.join('\n') + '\n';
}
