/**
 * `tc-promote follow [TASK_GROUP | <script> --env E]`: re-attach to a promotion in flight and
 * follow it to its end with rollback's outcome lines (a thin layer over operations/follow).
 */
import { loadConfig, type Config } from '../config/load.js';
import { ExitCode, UsageError, quote } from '../errors.js';
import { loadWorkerPools } from '../operations/after-move.js';
import { followPromotion, type Located } from '../operations/follow.js';
import { resolveConnection, taskGroupUrl } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import type { PromotionGroup } from '../taskcluster/in-flight.js';
import { formatAge, formatDuration, parseDuration } from '../util/duration.js';
import { shellQuote } from '../util/shell.js';
import { globalHelp, parseCommandArgs, positiveInteger, printJson, runtimeOptions, type Io } from './common.js';
import { defaultCommandTimeoutMs } from './deadline.js';
import { followFlags, judge, pollErrorNotes, progressOn, type JudgedPlan } from './rollback.js';

export const help = `Usage: tc-promote follow (TASK_GROUP | <script> [--env E]) [--timeout D] [--no-verify] [--verify-timeout D] [--json]

Re-attaches to a promotion already submitted, as kubectl rollout status does: a rollback
or promote run with --no-wait, one whose terminal was closed or stopped (Ctrl-C leaves the
tasks going), or the UI action's (give its task group). Follows every task to its end with
live progress on stderr (a terminal: the task states and elapsed times, rewritten in place;
a pipe or a file: one line per change), then prints what rollback prints at its end: the
outcome, the record, what the environment runs now (read from the registry) and since when,
what it ran before, the hold, the workers, what the next push will do, the undo. A promotion
that has ended already is reported at once.

<script> --env E finds the task group the last rollback or promote of that environment
submitted (the Taskcluster index entry <trust domain>.v2.<project>.in-flight.<script>.<env>,
else the task group its hold names); tc-promote status lists the promotions in flight.

Exit codes as rollback's: 0 completed; 1 a task failed or ended in exception (a cancelled
task too), the timeout passed, or tasks failed on new workers; 3 a conflict; 2 bad input;
4 no such task group, none of tc-promote's tasks in it, or nothing on record for the script.

Reads only: TASKCLUSTER_ROOT_URL (or --root-url) with a client that may list the task group,
or none where anonymous may (Firefox-CI); the registry for the moving tag.

Options:
  --env E          the environment (default production), with <script>
  --timeout D      how long to follow (default 15m): past it, exit 1 and the tasks go on
  --no-verify      do not watch the worker pools after the move
  --verify-timeout D  how long to watch them (default 3m)
  --worker-pools FILE  the pools per script and environment (default config/worker-pools.json)

Examples:
  tc-promote follow signingscript
  tc-promote follow beetmoverscript --env dev --no-verify
  tc-promote follow fQ3cdd3sTZyWbG6YkSPN1A --json

${globalHelp}`;

const options = {
  env: { type: 'string' },
  timeout: { type: 'string' },
  'no-verify': { type: 'boolean' },
  'verify-timeout': { type: 'string' },
  'worker-pools': { type: 'string' },
} as const;

/** TASK_GROUP or <script>: a configured script's name, else a task group id; anything else is refused. */
export function promotionTarget(command: string, positionals: string[], env: string | undefined, config: Config): { taskGroupId?: string; script?: string; env?: string } {
  if (positionals.length !== 1) throw new UsageError(`${command}: takes a task group id or one script, got ${positionals.length} arguments`);
  const [arg] = positionals as [string];
  if (config.scripts.includes(arg)) return { script: arg, env: env ?? 'production' };
  if (isSlugid(arg)) {
    if (env !== undefined) throw new UsageError(`--env: ${quote(env)} with a task group id; the group says its environment (drop --env, or give a script)`);
    return { taskGroupId: arg };
  }
  throw new UsageError(`${command}: ${quote(arg)} is neither a configured script (${config.scripts.join(', ')}) nor a task group id (22 characters of slugid)`);
}

/** Where it was found, in one line. */
export function locatedLine(command: string, located: Located, nowMs: number): string {
  const g = located.group;
  const how = located.foundBy === 'task group' ? '' : located.foundBy === 'hold' ? ` (the task group its hold names)` : ` (submitted ${located.entry ? `${located.entry.at}, ${formatAge((nowMs - Date.parse(located.entry.at)) / 1000)} ago, by ${located.entry.by}` : ''})`;
  const others = g.others.length ? `; the group holds ${g.others.length} other promotion(s) (action tasks ${g.others.join(', ')}): this is the newest` : '';
  return `${command} ${g.script} ${g.env}: ${located.entry?.mode ?? 'promotion'} to ${g.target.tag ?? g.target.digest ?? '?'}, task group ${g.taskGroupId}${how}${others}\n`;
}

export function judgedPlan(g: PromotionGroup): JudgedPlan {
  return { script: g.script, env: g.env, route: g.route, repository: g.repository, movingTag: g.movingTag, movingDigest: g.movingDigest, target: g.target, current: g.current };
}

/** The undo of a followed promotion: the moving tag back to what it pointed at when it was planned. */
export function undoOf(g: PromotionGroup, values: { config?: string; registry?: string; 'root-url'?: string }): string[] {
  if (g.route !== 'retag') return [];
  if (g.movingDigest === null) return [`${g.movingTag} did not exist before: to undo, delete ${g.repository}:${g.movingTag} in the registry (tc-promote never deletes tags)`];
  return [`tc-promote rollback ${g.script} --env ${g.env} --to ${shellQuote(g.current?.tag ?? g.movingDigest)} --reason 'undo: WHY'${followFlags(values)}`];
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('follow', argv, options);
  if (values.help) return io.stdout(help + '\n'), 0;
  const config = loadConfig(values.config);
  const target = promotionTarget('follow', positionals, values.env, config);
  const commandTimeout = io.env.TC_PROMOTE_COMMAND_TIMEOUT_MS !== undefined ? Number(io.env.TC_PROMOTE_COMMAND_TIMEOUT_MS) : defaultCommandTimeoutMs;
  const timeoutMs = (values.timeout !== undefined ? parseDuration(values.timeout, '--timeout') : 15 * 60) * 1000;
  if (timeoutMs === 0) throw new UsageError(`--timeout: ${quote(values.timeout)} is no time to follow; give at least 1s`);
  if (timeoutMs > commandTimeout - 30_000) throw new UsageError(`--timeout: ${values.timeout ?? '15m'} is longer than the command deadline allows (${formatDuration(commandTimeout / 1000)} less 30s; TC_PROMOTE_COMMAND_TIMEOUT_MS raises it)`);
  const verifyTimeoutMs = (values['verify-timeout'] !== undefined ? parseDuration(values['verify-timeout'], '--verify-timeout') : 180) * 1000;
  const intervalMs = positiveInteger(io.env.TC_PROMOTE_POLL_INTERVAL_MS, 'TC_PROMOTE_POLL_INTERVAL_MS', 600_000) ?? 2_000;
  const pools = values['no-verify'] ? null : loadWorkerPools(values['worker-pools']);
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  const progress = progressOn(io);
  let started = Date.now();
  const result = await followPromotion({
    config,
    connection,
    ...target,
    runtime: runtimeOptions(values, io, config),
    timeoutMs,
    intervalMs,
    ...(io.signal && { signal: io.signal }),
    verify: pools ? { pools, timeoutMs: verifyTimeoutMs, ...(io.env.TC_PROMOTE_VERIFY_INTERVAL_MS !== undefined && { intervalMs: positiveInteger(io.env.TC_PROMOTE_VERIFY_INTERVAL_MS, 'TC_PROMOTE_VERIFY_INTERVAL_MS', 600_000)! }) } : null,
    onLocated: (located) => {
      if (!values.json) io.stdout(locatedLine('following', located, Date.now()));
      started = Date.now();
      progress.start(located.group.tasks);
    },
    onChange: (change) => progress.change(change),
    onPollError: pollErrorNotes(progress),
    onFollowed: () => progress.end(),
    onVerifyProgress: (reports) => io.stderr(`workers +${formatAge((Date.now() - started) / 1000)}: ${reports.map((r) => `${r.pool.replace(/^scriptworker-k8s\//, '')} ${r.newWorkers.length} new, ${r.completed} completed, ${r.failed} failed`).join('; ')}\n`),
  }).finally(() => progress.end());
  const { located, followed, records, after } = result;
  const g = located.group;
  const mode = located.entry?.mode ?? 'promotion';
  const report = judge(judgedPlan(g), g, followed, records, { undo: undoOf(g, values) }, mode, connection.rootUrl, timeoutMs, after, verifyTimeoutMs, followFlags(values));
  if (values.json) {
    printJson(io, { outcome: report.outcome, taskGroupId: g.taskGroupId, url: taskGroupUrl(connection.rootUrl, g.taskGroupId), foundBy: located.foundBy, inFlight: located.entry, script: g.script, env: g.env, route: g.route, target: g.target, current: g.current, tasks: g.tasks.map((t) => ({ label: t.label, taskId: t.taskId, state: followed.states.get(t.taskId) ?? null, record: records.get(t.taskId) ?? null })), record: report.record, after: after ?? null, undo: undoOf(g, values) });
  } else {
    io.stdout(report.text);
  }
  return report.exitCode === ExitCode.ok ? ExitCode.ok : report.exitCode;
}
