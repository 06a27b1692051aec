/**
 * `tc-promote cancel [TASK_GROUP | <script> --env E]`: cancel what a promotion has not run yet
 * and say what already ran and what the environment runs now (a thin layer over
 * operations/follow).
 */
import { loadConfig } from '../config/load.js';
import { ExitCode, UsageError } from '../errors.js';
import { describeHold } from '../history/hold.js';
import { cancelPromotion, type CancelPlan, type CancelResult } from '../operations/follow.js';
import { releaseCommand } from '../operations/hold.js';
import { resolveConnection, taskGroupUrl } from '../taskcluster-api/clients.js';
import { globalHelp, parseCommandArgs, printJson, runtimeOptions, type Io } from './common.js';
import { followFlags } from './rollback.js';
import { locatedLine, promotionTarget, undoOf } from './follow.js';

export const help = `Usage: tc-promote cancel (TASK_GROUP | <script> [--env E]) [--yes] [--dry-run] [--json]

Cancels the tasks of a promotion that have not resolved yet, as argo rollouts abort does
(queue.cancelTask; a running task is stopped by its worker), then says what already ran
(a promote task that completed has moved the tag already; cancelling does not move it back),
what the moving tag points at now (read from the registry), and the hold. Dependents are
cancelled first: the fallback before the promote task it waits on, so that a cancelled
promote task cannot set the fallback off to force-push the deploy branch.

The hold a rollback placed stays (tc-promote release ends it): the environment is held at the
rollback's target whether or not the tag moved. To undo what moved: the undo line printed.

Lists what it would cancel and asks on a terminal; without a terminal it refuses unless
--yes (exit 2, nothing cancelled). --dry-run lists and cancels nothing.

Exit codes: 0 cancelled, or nothing left to cancel (every task had resolved); 1 a cancel the
Queue refused (named), or not confirmed; 2 bad input; 4 no such task group, none of
tc-promote's tasks in it, or nothing on record for the script.

Credentials: TASKCLUSTER_ROOT_URL with TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, whose
scopes hold queue:cancel-task:<scheduler>/<task group>/<task> (checked before anything is read).

Options:
  --env E          the environment (default production), with <script>
  -y, --yes        do not ask
  --dry-run        list what would be cancelled; cancel nothing

Examples:
  tc-promote cancel signingscript --dry-run
  tc-promote cancel signingscript --yes
  tc-promote cancel fQ3cdd3sTZyWbG6YkSPN1A

${globalHelp}`;

const options = {
  env: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
} as const;

function listPlan(plan: CancelPlan, verb: string): string {
  const lines: string[] = [];
  if (plan.toCancel.length) lines.push(`${verb}: ${plan.toCancel.map((t) => `${t.label} (${t.state})`).join(', ')}`);
  lines.push(...ranLines(plan.ran, plan.located.group.target.tag ?? plan.located.group.target.digest ?? '?'));
  return `${lines.join('\n')}\n`;
}

function ranLines(ran: CancelPlan['ran'], to: string): string[] {
  if (!ran.length) return ['already ran: nothing (no task had resolved)'];
  return ran.map((t) => `already ran: ${t.label} ${t.state}${t.kind === 'promote' && t.state === 'completed' ? ` (the tag moved to ${to} already; cancelling does not move it back)` : ''}`);
}

function runsNow(r: CancelResult): string {
  const g = r.located.group;
  const ref = `${g.repository}:${g.movingTag}`;
  if (r.readError !== undefined) return `now:     ${ref} could not be read (${r.readError.split('\n')[0]})`;
  if (r.readDigest === undefined) return `now:     route ${g.route}: no tag is moved by this promotion; tc-promote status --script ${g.script}`;
  if (r.readDigest === null) return `now:     ${ref} does not exist`;
  if (r.readDigest === g.target.digest) return `now:     ${ref} points at ${r.readDigest} (${g.target.tag ?? 'the target'}): the promotion's target; it moved before the cancel`;
  if (r.readDigest === g.movingDigest) return `now:     ${ref} points at ${r.readDigest} (${g.current?.tag ?? 'what it had at plan time'}): nothing moved`;
  return `now:     ${ref} points at ${r.readDigest}: neither the target nor what it had at plan time (another push or promotion?); tc-promote history ${g.script} --env ${g.env}`;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('cancel', argv, options);
  if (values.help) return io.stdout(help + '\n'), 0;
  const config = loadConfig(values.config);
  const target = promotionTarget('cancel', positionals, values.env, config);
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  if (!values['dry-run'] && !connection.viaProxy && !connection.credentials) {
    throw new UsageError(`TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN: not set; cancel cancels tasks in ${connection.rootUrl} and needs credentials (--dry-run lists without); nothing was cancelled`);
  }
  const result = await cancelPromotion({
    config,
    connection,
    ...target,
    runtime: runtimeOptions(values, io, config),
    dryRun: Boolean(values['dry-run']),
    yes: Boolean(values.yes),
    onLocated: (located) => {
      if (!values.json) io.stdout(locatedLine('cancel', located, Date.now()));
    },
    confirm: async (plan) => {
      const text = listPlan(plan, 'will cancel');
      if (!io.confirm) throw new UsageError(`cancel: no terminal to confirm on; pass --yes to cancel without asking (--dry-run lists what would be cancelled); nothing was cancelled`);
      (values.json ? io.stderr : io.stdout)(text);
      return io.confirm(`Cancel ${plan.toCancel.length} task(s) of ${plan.located.group.script} ${plan.located.group.env}? [y/N] `);
    },
  });
  const g = result.located.group;
  const failed = result.cancelled.filter((c) => c.error !== null);
  const exit = result.outcome === 'not-confirmed' || failed.length ? ExitCode.operational : ExitCode.ok;
  if (values.json) {
    printJson(io, { outcome: result.outcome, taskGroupId: g.taskGroupId, script: g.script, env: g.env, toCancel: result.toCancel.map((t) => ({ label: t.label, taskId: t.taskId, state: t.state })), ran: result.ran.map((t) => ({ label: t.label, taskId: t.taskId, state: t.state })), cancelled: result.cancelled, after: result.after?.tasks.map((t) => ({ label: t.label, taskId: t.taskId, state: t.state })) ?? null, readDigest: result.readDigest ?? null, hold: result.hold, undo: undoOf(g, values) });
    return exit;
  }
  const lines: string[] = [];
  if (result.outcome === 'nothing-to-cancel') lines.push(`nothing to cancel: every task of ${g.taskGroupId} has resolved`, ...ranLines(result.ran, g.target.tag ?? '?'));
  else if (result.outcome === 'dry-run') lines.push(listPlan(result, 'would cancel (--dry-run)').trimEnd(), 'nothing was cancelled (--dry-run)');
  else if (result.outcome === 'not-confirmed') lines.push('not confirmed; nothing was cancelled');
  else {
    for (const c of result.cancelled) lines.push(c.error ? `not cancelled: ${c.label}: ${c.error}` : `cancelled: ${c.label}${c.state ? ` (now ${c.state})` : ''}`);
    lines.push(...ranLines(result.ran, g.target.tag ?? g.target.digest ?? '?'));
    const late = (result.after?.tasks ?? []).filter((t) => t.state === 'completed' && !result.ran.some((r) => r.taskId === t.taskId));
    for (const t of late) lines.push(`ran meanwhile: ${t.label} completed before its cancel took`);
  }
  lines.push(runsNow(result));
  const release = releaseCommand(g.script, g.env);
  lines.push(result.hold.state === 'unknown' ? `hold:    unknown (${result.hold.error})` : `hold:    ${describeHold(result.hold, Date.now(), release)}`);
  const moved = result.readDigest !== undefined && result.readDigest !== null && result.readDigest === g.target.digest && g.target.digest !== g.movingDigest;
  if (moved) lines.push(`undo: ${undoOf(g, values)[0] ?? 'see tc-promote plan'}`);
  lines.push(`task group: ${taskGroupUrl(connection.rootUrl, g.taskGroupId)}`);
  if (result.outcome === 'dry-run') lines.push(`to cancel: tc-promote cancel ${g.taskGroupId}${followFlags(values)} --yes`);
  io.stdout(`${lines.join('\n')}\n`);
  return exit;
}
