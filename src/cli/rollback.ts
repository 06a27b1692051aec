/**
 * `tc-promote rollback <script>` (and `promote`, the same with --from-env): plan, show exactly
 * what will move, confirm on a terminal, submit, then follow the task group until every task
 * resolves, and end with the outcome, the promotion record and the command that undoes it.
 */
import { loadConfig } from '../config/load.js';
import { ExitCode, UsageError, quote } from '../errors.js';
import { describeCommits } from '../github/commits.js';
import type { TaskGraph } from '../graph/build.js';
import type { Plan } from '../history/plan.js';
import { loadWorkerPools, summaryLines } from '../operations/after-move.js';
import { runPromotion as promote, type AfterMove, type PromotionMode } from '../operations/promotion.js';
import { taskGroupUrl, taskUrl } from '../taskcluster-api/clients.js';
import type { FollowResult, TaskState } from '../taskcluster/follow.js';
import { formatAge, formatDuration, parseDuration } from '../util/duration.js';
import { paint, rewriteLines } from './colour.js';
import { createProgress, type Progress } from '../present/progress.js';
import { defaultCommandTimeoutMs } from './deadline.js';
import { followFlags, globalHelp, positiveInteger, parseCommandArgs, printJson, type Io } from './common.js';

export { followFlags };
import { graphOptions, graphOptionsHelp, graphRequestFrom, requesterFrom, submissionConnection, type GraphValues } from './graph-options.js';
import type { NextSteps } from './plan.js';

export type { PromotionMode };

export const followOptionsHelp = `  -y, --yes        do not ask: submit after printing what will move (needed without a terminal)
  --no-wait        return once the tasks are created (tc-promote follow <script> follows them later)
  --timeout D      how long to follow the task group (default 15m; 90s, 30m, 1h…): past it, exit 1
                   and the tasks go on; it ends a poll the Queue is slow to answer, too (TC_PROMOTE_POLL_INTERVAL_MS: the first poll interval,
                   default 2000, growing to 15 s while nothing changes)
  --no-lease       accept a graph that would force-push without a lease (as submit)
  --no-hold        rollback: do not hold the environment (by default a rollback holds it at the
                   target once confirmed, before anything is created: the next push writes its
                   archive tag but does not move the tag; tc-promote release ends it)
  --release        promote: a held environment is refused unless --release (the hold is released
                   once confirmed, before anything is created)
  --no-verify      do not watch the worker pools after the move
  --verify-timeout D  how long to watch the pools (default 3m): workers whose first claim is
                   after the move, and their tasks completed and failed; "no new workers yet"
                   is an outcome (exit 0); tasks failing on new workers: exit 1
  --worker-pools FILE  the pools per script and environment (default config/worker-pools.json,
                   tc-promote pools writes it from fxci-config's clients.yml)`;

export const followOptions = {
  ...graphOptions,
  yes: { type: 'boolean', short: 'y' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  'no-lease': { type: 'boolean' },
  'no-hold': { type: 'boolean' },
  release: { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  'verify-timeout': { type: 'string' },
  'worker-pools': { type: 'string' },
} as const;

export const help = `Usage: tc-promote rollback <script> [--env E] [plan flags] --reason TEXT [--fallback] [--yes] [--no-wait] [--timeout D] [--no-hold] [--no-verify] [--verify-timeout D]

Rolls an environment back in one step, as helm rollback --wait does: plans (by default to the
previous-known-good, as tc-promote plan explains), prints what will move (from → to: tags,
revisions, ages, digests, the commits being undone, the tags written, the warnings), asks for
confirmation on a terminal, creates the task graph, then follows it until every task has
resolved: live progress on stderr (on a terminal the task states and elapsed times, rewritten
in place; into a pipe or a file one line per task state change), then the outcome, the
promotion record and the command that undoes it. tc-promote follow re-attaches to it later
(after --no-wait, a closed terminal, Ctrl-C: the tasks go on); tc-promote cancel cancels what
has not run.

Once confirmed, and before anything is created, the environment is held at the target (the
push pipeline writes archive tags but does not move the tag until tc-promote release;
--no-hold skips it). After the tasks, the moving tag is read from the registry (the Queue's
word is not a moved tag), then the environment's worker pools are watched (--verify-timeout,
--no-verify). The last lines: what it runs now and since when, what it ran before, the hold,
the workers, what the next push will do, the undo. A production rollback needs --reason.

Without a terminal it refuses unless --yes (exit 2, nothing created). A target that is what
the moving tag points at already is nothing to do (exit 0, nothing created).

Exit codes: 0 the promotion completed; 1 a task failed or ended in exception (the fallback's
outcome is printed: force-pushed, not allowed, …) or the timeout passed; 3 a conflict (the tag
moved since the plan, or another promotion from the same state was submitted first); 2 bad
input; 4 not found. --no-wait: 0 once the tasks exist.

Credentials: TASKCLUSTER_ROOT_URL with TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (checked
before anything is read), or TASKCLUSTER_PROXY_URL inside a task.

Options:
${followOptionsHelp}
${graphOptionsHelp}

Examples:
  tc-promote rollback signingscript --reason "signing fails with the new image" --fallback
  tc-promote rollback signingscript --to 7995c5bb --reason "back to last week's" --yes
  tc-promote rollback beetmoverscript --env dev --reason "dev is broken" --yes --no-wait

${globalHelp}`;

/** Parse, plan, confirm, submit, follow: the whole of rollback and promote. */
export async function runPromotion(mode: PromotionMode, argv: string[], io: Io, commandHelp: string): Promise<number> {
  const { values, positionals } = parseCommandArgs(mode, argv, followOptions);
  if (values.help) return io.stdout(commandHelp + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`${mode}: takes one script, got ${positionals.length} arguments`);
  if (values.offline) throw new UsageError(`--offline: ${mode} plans against the registry; render --offline shows a graph without one`);
  if (mode === 'promote' && values['from-env'] === undefined) throw new UsageError('--from-env: missing; promote copies the image live in another environment (e.g. --from-env dev); to roll back, use tc-promote rollback');
  if (mode === 'rollback' && values['from-env'] !== undefined) throw new UsageError(`--from-env: rollback goes back in the environment's own history; to promote what ${quote(values['from-env'])} runs, use tc-promote promote --from-env ${values['from-env']}`);
  const commandTimeout = io.env.TC_PROMOTE_COMMAND_TIMEOUT_MS !== undefined ? Number(io.env.TC_PROMOTE_COMMAND_TIMEOUT_MS) : defaultCommandTimeoutMs;
  const timeoutMs = (values.timeout !== undefined ? parseDuration(values.timeout, '--timeout') : 15 * 60) * 1000;
  if (timeoutMs === 0) throw new UsageError(`--timeout: ${quote(values.timeout)} is no time to follow the task group; give at least 1s, or --no-wait to return once the tasks exist`);
  if (timeoutMs > commandTimeout - 30_000) {
    throw new UsageError(`--timeout: ${values.timeout ?? '15m'} is longer than the command deadline allows (${formatDuration(commandTimeout / 1000)} less 30s; TC_PROMOTE_COMMAND_TIMEOUT_MS raises it)`);
  }
  const intervalMs = positiveInteger(io.env.TC_PROMOTE_POLL_INTERVAL_MS, 'TC_PROMOTE_POLL_INTERVAL_MS', 600_000) ?? 2_000;
  if (mode === 'rollback' && values.release) throw new UsageError('--release: promote only; a rollback holds (tc-promote release ends a hold)');
  if (mode === 'promote' && values['no-hold']) throw new UsageError('--no-hold: rollback only; promote does not hold (tc-promote hold does)');
  const verifyTimeoutMs = (values['verify-timeout'] !== undefined ? parseDuration(values['verify-timeout'], '--verify-timeout') : 180) * 1000;
  if (!values['no-verify'] && !values['no-wait'] && timeoutMs + verifyTimeoutMs > commandTimeout - 30_000) {
    throw new UsageError(`--verify-timeout: ${values['verify-timeout'] ?? '3m'} with --timeout ${values.timeout ?? '15m'} is longer than the command deadline allows (${formatDuration(commandTimeout / 1000)} less 30s; TC_PROMOTE_COMMAND_TIMEOUT_MS raises it, --no-verify skips it)`);
  }
  const pools = values['no-verify'] ? null : loadWorkerPools(values['worker-pools']);
  const config = loadConfig(values.config);
  // Credentials before anything is read: a run that cannot submit fails at once.
  const connection = submissionConnection(io, values, config, mode);
  if (mode === 'rollback' && (values.env ?? 'production') === 'production' && values.reason === undefined) {
    throw new UsageError('--reason: a production rollback needs a reason, as the UI action does (the record, the hold and the push task\'s log show it): --reason "signing fails with the new image"; nothing was planned or created');
  }
  const request = await graphRequestFrom({ ...values, config: values.config } as GraphValues, positionals[0], io, config, {}, { listCommits: true });
  let summary = '';
  let started = Date.now();
  const progress = progressOn(io);
  const onPollError = pollErrorNotes(progress);
  const result = await promote({
    mode,
    connection,
    request,
    lines: values,
    yes: Boolean(values.yes),
    wait: !values['no-wait'],
    allowNoLease: Boolean(values['no-lease']),
    timeoutMs,
    intervalMs,
    ...(io.signal && { signal: io.signal }),
    onPlanned: ({ plan, graph, confirmed }) => {
      summary = describePromotion(mode, plan, graph, Date.now(), values.reason, confirmed);
      if (!values.json) io.stdout(summary);
    },
    confirm: async ({ plan }) => {
      if (!io.confirm) throw new UsageError(`${mode}: no terminal to confirm on; pass --yes to submit without asking (${values.json ? `tc-promote plan ${plan.script} --env ${plan.env} --json shows what would move` : 'what would move is printed above'}); nothing was created`);
      // With --json, stdout is the JSON answer: what will move goes to the terminal's stderr, above the question.
      if (values.json) io.stderr(summary);
      return io.confirm(`${mode === 'rollback' ? 'Roll back' : 'Promote'} ${plan.script} ${plan.env} as above? [y/N] `);
    },
    onCreated: (t) => io.stderr(`created ${t.label} ${t.taskId}\n`),
    onSubmitted: (url, created) => {
      if (!values.json) io.stdout(`submitted ${created.length} task(s): ${url}\n`);
      started = Date.now();
      if (!values['no-wait']) progress.start(created.map((t) => ({ taskId: t.taskId, label: t.label })));
    },
    onChange: (change) => progress.change(change),
    onFollowed: () => progress.end(),
    hold: mode === 'rollback' && !values['no-hold'] ? { by: requesterFrom(io.env), reason: values.reason ?? 'no reason recorded' } : null,
    release: mode === 'promote' && values.release ? { by: requesterFrom(io.env) } : null,
    verify: pools ? { pools, timeoutMs: verifyTimeoutMs, ...(io.env.TC_PROMOTE_VERIFY_INTERVAL_MS !== undefined && { intervalMs: positiveInteger(io.env.TC_PROMOTE_VERIFY_INTERVAL_MS, 'TC_PROMOTE_VERIFY_INTERVAL_MS', 600_000)! }) } : null,
    onHold: (message) => io.stderr(`${message}\n`),
    requester: requesterFrom(io.env),
    onInFlight: (_path, error) => {
      if (error) io.stderr(`note: ${error}; follow and cancel find it by its task group only (tc-promote follow <task group>)\n`);
    },
    onVerifyProgress: (reports) => io.stderr(`workers +${formatAge((Date.now() - started) / 1000)}: ${reports.map((r) => `${r.pool.replace(/^scriptworker-k8s\//, '')} ${r.newWorkers.length} new, ${r.completed} completed, ${r.failed} failed`).join('; ')}\n`),
    onPollError,
  }).finally(() => progress.end());
  const { plan, graph, next } = result;
  if (result.outcome === 'nothing-to-do') {
    if (values.json) printJson(io, { outcome: 'nothing-to-do', plan: planJson(plan), taskGroupId: null });
    else io.stdout(`nothing to do: ${plan.movingTag} points at ${plan.target.digest} already; nothing was created\n`);
    return ExitCode.ok;
  }
  if (result.outcome === 'not-confirmed') {
    if (values.json) printJson(io, { outcome: 'not-confirmed', plan: planJson(plan), taskGroupId: null });
    else io.stdout('not confirmed; nothing was created\n');
    return ExitCode.operational;
  }
  const { url } = result;
  if (result.outcome === 'submitted') {
    if (values.json) printJson(io, { outcome: 'submitted', plan: planJson(plan), taskGroupId: graph.taskGroupId, url, tasks: result.created, undo: undoCommands(next, mode) });
    else io.stdout(`not following (--no-wait): watch ${url}, or follow it here:\n  tc-promote follow ${graph.taskGroupId}${followFlags(values)}\n  (tc-promote cancel ${graph.taskGroupId}${followFlags(values)} cancels what has not run)\n${undoText(next, mode)}`);
    return ExitCode.ok;
  }
  const { followed: outcome, records } = result;
  const report = judge(plan, graph, outcome, records, next, mode, connection.rootUrl, timeoutMs, result.after, verifyTimeoutMs, followFlags(values));
  if (values.json) {
    printJson(io, { outcome: report.outcome, plan: planJson(plan), taskGroupId: graph.taskGroupId, url, tasks: graph.tasks.map((t) => ({ label: t.label, taskId: t.taskId, state: outcome.states.get(t.taskId) ?? null, record: records.get(t.taskId) ?? null })), record: report.record, after: result.after ?? null, undo: undoCommands(next, mode) });
  } else {
    io.stdout(report.text);
  }
  return report.exitCode;
}

export async function run(argv: string[], io: Io): Promise<number> {
  return runPromotion('rollback', argv, io, help);
}

function short(tag: string | null): string {
  return tag ?? '(no archive tag)';
}

function deployLine(d: { tag: string | null; revision: string | null; date: string | null; digest?: string; liveSeconds: number | null } | null, nowMs: number): string {
  if (!d) return '(unknown: no archive tag records what the moving tag points at)';
  const age = d.date ? `deployed ${formatAge((nowMs - Date.parse(d.date)) / 1000)} ago` : 'deploy date unknown';
  return `${short(d.tag)}\n        revision ${d.revision ?? '?'}, ${age}${d.liveSeconds !== null ? `, live ${formatAge(d.liveSeconds)}` : ''}\n        digest ${d.digest ?? '?'}`;
}

/** Exactly what will move: from → to, the tags written, the branch a fallback may push, the commits, the warnings. */
export function describePromotion(mode: PromotionMode, plan: Plan, graph: TaskGraph, nowMs = Date.now(), reason?: string, confirmed?: Record<string, string>): string {
  const t = plan.target;
  const lines = [`${mode} ${plan.script} ${plan.env} (${plan.repository}:${plan.movingTag})`, `  from  ${deployLine(plan.current, nowMs)}`, `  to    ${deployLine(t, nowMs)}`];
  const passed = plan.passedOver ?? [];
  const why =
    t.chosenBy === 'previous-known-good'
      ? `previous-known-good${passed.length ? `; passed over ${passed.slice(0, 5).map((p) => `${p.tag} (${p.reason})`).join(', ')}${passed.length > 5 ? `, … ${passed.length - 5} more` : ''}` : ''}`
      : t.chosenBy === 'from-env'
        ? `what ${t.env} runs now (--from-env)`
        : 'asked for (--to)';
  lines.push(`        ${why}`);
  lines.push(`  moves (route ${plan.route}):`);
  for (const { task } of graph.tasks) {
    const extra = task.extra as { tcPromote?: { kind?: string; destination?: { reference?: string; expectCurrent?: string | null; archiveTag?: string | null } } };
    const kind = extra.tcPromote?.kind;
    const d = extra.tcPromote?.destination;
    if (kind === 'promote' && d?.reference) {
      lines.push(`        ${d.reference}: ${d.expectCurrent ?? plan.movingDigest ?? 'none'} -> ${t.digest ?? '?'}${d.expectCurrent ? ' (only if still at the first)' : ''}`);
      if (d.archiveTag) lines.push(`        new archive tag ${d.archiveTag}`);
    }
  }
  for (const { task } of graph.tasks) {
    const name = (task.metadata as { name?: string }).name ?? '';
    if (/^fallback|^force-push|^rerun/.test(name)) lines.push(`        ${name}`);
  }
  lines.push(`  reason  ${reason !== undefined ? reason.replace(/\s+/g, ' ') : 'none given: the record will say "no reason recorded" (--reason TEXT says why)'}`);
  // What the record keeps as confirmed: the hold and the next push, as agreed to here.
  if (confirmed?.hold) lines.push(`  hold  ${confirmed.hold}`);
  if (confirmed?.nextPush) lines.push(`  next push  ${confirmed.nextPush}`);
  if (plan.commits) lines.push(...describeCommits(plan.commits, '  '));
  for (const w of [...plan.warnings, ...graph.warnings]) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/** Live progress on a terminal (stderr), one line per change elsewhere. */
export function progressOn(io: Io, title?: string): Progress {
  return createProgress({
    write: (text) => io.stderr(text),
    live: io.isTty && io.env.TERM !== 'dumb' && io.env.TC_PROMOTE_PROGRESS !== 'lines',
    rewrite: rewriteLines,
    width: io.width ?? 120,
    paintState: (state) => (state === 'completed' ? paint.ok(state) : state === 'failed' || state === 'exception' ? paint.failed(state) : state),
    ...(title !== undefined && { title }),
  });
}

/** A Queue that keeps failing says so once, then every tenth poll, not a line a poll. */
export function pollErrorNotes(progress: Progress): (message: string, inARow: number) => void {
  let last = '';
  return (message, inARow) => {
    if (inARow === 1 || message !== last) progress.note(`note: ${message}; polling again`);
    else if (inARow % 10 === 0) progress.note(`note: the same error ${inARow} polls in a row; still polling (until --timeout, or Ctrl-C)`);
    last = message;
  };
}

export interface Report {
  outcome: 'completed' | 'failed' | 'conflict' | 'timeout' | 'stopped';
  exitCode: number;
  record: Record<string, unknown> | null;
  text: string;
}

/** What judging a followed promotion needs of its plan (a Plan, or what follow reads back from the group's tasks). */
export interface JudgedPlan {
  script: string;
  env: string;
  route: string;
  repository: string;
  movingTag: string;
  movingDigest: string | null;
  target: { tag: string | null; digest?: string; revision: string | null };
  current: { tag: string } | null;
}

export interface JudgedGraph {
  taskGroupId: string;
  tasks: readonly { taskId: string; label: string; kind: string }[];
}

function undoCommands(next: Pick<NextSteps, 'undo'>, mode: string): string[] {
  return next.undo.map((c) => c.replace(/^tc-promote submit /, `tc-promote ${mode === 'rollback' ? mode : 'rollback'} `).replace(/ --route retag/, ''));
}

function undoText(next: Pick<NextSteps, 'undo'>, mode: string): string {
  const undo = undoCommands(next, mode);
  return undo.length ? `undo: ${undo[0]}\n${undo.slice(1).map((c) => `      ${c}\n`).join('')}` : '';
}

/** The outcome lines of a followed promotion (rollback, promote, follow): what ended how, the record, the last lines, the undo. */
export function judge(plan: JudgedPlan, graph: JudgedGraph, outcome: FollowResult, records: Map<string, Record<string, unknown>>, next: Pick<NextSteps, 'undo'>, mode: string, rootUrl: string, timeoutMs: number, after: AfterMove | undefined, verifyTimeoutMs: number, flags = ''): Report {
  type Task = JudgedGraph['tasks'][number];
  const state = (t: Task): TaskState | 'blocked' | undefined => (outcome.blocked.has(t.taskId) ? 'blocked' : outcome.states.get(t.taskId));
  const lines: string[] = [];
  const of = (kind: string): Task[] => graph.tasks.filter((t) => t.kind === kind);
  const main = graph.tasks.filter((t) => t.kind !== 'fallback');
  const promoteRecord = of('promote').map((t) => records.get(t.taskId)).find((r) => r !== undefined) ?? records.get(main[0]?.taskId ?? '') ?? null;
  if (!outcome.settled && outcome.stopped !== undefined) {
    // Ctrl-C (or the command deadline) while following: the tasks exist and go on; nothing was cancelled.
    const seen = graph.tasks.map((t) => `${t.label} ${state(t) ?? 'unknown'}`).join(', ');
    lines.push(`stopped: ${outcome.stopped}, while following the task group: the ${graph.tasks.length} task(s) were created and go on in Taskcluster (${seen}); nothing was cancelled: follow ${taskGroupUrl(rootUrl, graph.taskGroupId)}`);
    lines.push(`follow it again: tc-promote follow ${graph.taskGroupId}${flags}   (cancel what has not run: tc-promote cancel ${graph.taskGroupId}${flags})`);
    lines.push(`if it completes, undo: ${undoCommands(next, mode)[0] ?? 'see tc-promote plan'}`);
    return { outcome: 'stopped', exitCode: ExitCode.operational, record: promoteRecord, text: `${lines.join('\n')}\n` };
  }
  if (!outcome.settled) {
    const open = graph.tasks.filter((t) => !['completed', 'failed', 'exception', 'blocked'].includes(state(t) ?? 'unscheduled'));
    lines.push(`not finished within ${formatDuration(timeoutMs / 1000)}: ${open.map((t) => `${t.label} ${state(t) ?? 'unknown'}`).join(', ')}; the tasks go on: follow ${taskGroupUrl(rootUrl, graph.taskGroupId)}`);
    lines.push(`follow it again: tc-promote follow ${graph.taskGroupId}${flags}   (cancel what has not run: tc-promote cancel ${graph.taskGroupId}${flags})`);
    lines.push(`if it completes, undo: ${undoCommands(next, mode)[0] ?? 'see tc-promote plan'}`);
    return { outcome: 'timeout', exitCode: ExitCode.operational, record: promoteRecord, text: `${lines.join('\n')}\n` };
  }
  const failedMain = main.filter((t) => state(t) !== 'completed');
  const conflict = failedMain.some((t) => {
    const r = records.get(t.taskId);
    // The step's record says how it ended: raced, or its exit code (a compare-and-swap that lost is 3).
    return r?.outcome === 'raced' || r?.exit === ExitCode.conflict;
  });
  // Read from the registry after the tasks, never on the Queue's word.
  const notMoved = failedMain.length === 0 && plan.route === 'retag' && after !== undefined && after.readDigest !== plan.target.digest;
  if (notMoved) {
    lines.push(paint.failed(`${mode} did not take:`) + ` every task completed, but ${plan.repository}:${plan.movingTag} points at ${after!.readDigest ?? '(no such tag)'}, not ${plan.target.digest ?? '?'} (read from the registry): something else moved it, or the step did not write; tc-promote history ${plan.script} --env ${plan.env}`);
  } else if (failedMain.length === 0 && plan.route === 'retag') {
    lines.push(paint.ok(`${mode} completed:`) + ` ${plan.repository}:${plan.movingTag} now points at ${plan.target.digest ?? '?'} (${short(plan.target.tag)})`);
  } else if (failedMain.length === 0) {
    // A rebuild or a rerun: the task did its part; the image pipeline deploys the revision next.
    lines.push(paint.ok(`${mode} completed:`) + ` ${main.map((t) => t.label).join(', ')} done (route ${plan.route}); the image pipeline now builds and deploys ${plan.target.revision ?? '?'}: tc-promote status --script ${plan.script} shows when it is live`);
  } else {
    for (const t of failedMain) {
      const r = records.get(t.taskId);
      const why = typeof r?.error === 'string' ? r.error : state(t) === 'exception' && !r ? 'ended without a record (cancelled, its deadline passed, or its worker failed): see its log' : 'see its log';
      lines.push(`${paint.failed(`${t.label} ${state(t)}`)}: ${why} (${taskUrl(rootUrl, t.taskId)})`);
    }
    lines.push(conflict ? `${mode} did not complete: something moved since the plan (conflict)` : `${mode} did not complete`);
  }
  for (const t of of('fallback')) {
    const r = records.get(t.taskId);
    const said = typeof r?.outcome === 'string' ? r.outcome : state(t);
    const what: Record<string, string> = {
      'not-needed': 'the fallback had nothing to do',
      'force-pushed': `the fallback force-pushed ${String(r?.revision ?? plan.target.revision)} to ${String(r?.branch ?? '?')} (old head ${String(r?.oldHead ?? '?')}, backup ${String(r?.backupRef ?? '?')}): the image pipeline rebuilds and deploys it`,
      'already-there': `the fallback found ${String(r?.branch ?? 'the deploy branch')} at the target already`,
      'not-allowed': 'no fallback was allowed (--fallback): nothing was force-pushed; by hand: tc-promote force-push …, or plan again',
      'force-push-failed': `the fallback could not force-push: ${String(r?.error ?? 'see its log')}`,
    };
    lines.push(`fallback: ${what[String(said)] ?? `${String(said)} (${taskUrl(rootUrl, t.taskId)})`}`);
  }
  if (promoteRecord) {
    const r = promoteRecord;
    const pick = ['from', 'to', 'digest', 'revision', 'reason', 'requester', 'outcome'].filter((k) => r[k] !== undefined && r[k] !== null).map((k) => `${k} ${typeof r[k] === 'string' ? r[k] : JSON.stringify(r[k])}`);
    const archive = (r.archiveTag as { tag?: string; outcome?: string } | null | undefined)?.tag;
    lines.push(`record: ${pick.join(', ')}${archive ? `, archive tag ${archive}` : ''}`);
  }
  lines.push(`task group: ${taskGroupUrl(rootUrl, graph.taskGroupId)}`);
  if (after && !notMoved) {
    lines.push(
      ...summaryLines({
        incomplete: failedMain.length > 0,
        script: plan.script,
        env: plan.env,
        reference: `${plan.repository}:${plan.movingTag}`,
        readDigest: after.readDigest,
        expectedDigest: plan.target.digest ?? null,
        nowTag: plan.target.tag,
        nowSinceMs: after.movedAtMs,
        beforeTag: plan.current?.tag ?? null,
        beforeDigest: plan.movingDigest ?? null,
        hold: after.hold,
        verification: after.verification,
        verifyTimeoutMs,
        undo: null,
        nowMs: Date.now(),
      }),
    );
  }
  if (failedMain.length === 0 && !notMoved) lines.push(undoText(next, mode).trimEnd());
  const failing = after?.verification.outcome === 'failing';
  const exitCode = notMoved || failing ? ExitCode.operational : failedMain.length === 0 ? ExitCode.ok : conflict ? ExitCode.conflict : ExitCode.operational;
  return { outcome: notMoved ? 'failed' : failedMain.length === 0 ? 'completed' : conflict ? 'conflict' : 'failed', exitCode, record: promoteRecord, text: `${lines.filter(Boolean).join('\n')}\n` };
}

function planJson(plan: Plan): Record<string, unknown> {
  return { script: plan.script, env: plan.env, route: plan.route, current: plan.current, target: plan.target, passedOver: plan.passedOver ?? [], warnings: plan.warnings, destinations: plan.destinations, movingDigest: plan.movingDigest, commits: plan.commits ?? null };
}

