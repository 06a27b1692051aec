/** `tc-promote hold <script> --env E --reason TEXT`: keep an environment where it is (a thin layer over operations/hold). */
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { describeHold } from '../history/hold.js';
import { holdEnvironment } from '../operations/hold.js';
import { buildRuntime, clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { requesterFrom, submissionConnection } from './graph-options.js';

export const help = `Usage: tc-promote hold <script> [--env E] --reason TEXT [--json]

Holds a script's environment at what it runs now, as Argo CD's auto-sync off or a Kargo stage
hold: the image pipeline's next push (scriptworker-scripts' push_image.sh, with
consumers/scriptworker-scripts/push-image-hold.patch) still writes its archive tag, but does not
move the moving tag, and its log says who held it, why, and how to release. rollback holds by
default. The hold is an entry in the Taskcluster index (<trust domain>.v2.<project>.hold.<script>.<env>:
who, why, when, which image); see docs/decisions.md (Holds).

Needs Taskcluster credentials with index:insert-task:<that path>. status and history show it;
promote refuses a held environment unless --release.

Options:
  --env E          the environment (default production)
  --reason TEXT    why (required: the push task's log shows it)

Examples:
  tc-promote hold signingscript --reason "investigating the signing failures"
  tc-promote release signingscript

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('hold', argv, { env: { type: 'string' }, reason: { type: 'string' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length !== 1) throw new UsageError(`hold: takes one script, got ${positionals.length}`);
  if (values.reason === undefined) throw new UsageError('--reason: missing; a hold says why (the push task prints it): --reason "…"');
  const config = loadConfig(values.config);
  const connection = submissionConnection(io, values, config, 'hold');
  const env = values.env ?? 'production';
  const nowMs = clock(io.env);
  const result = await holdEnvironment({ config, connection, script: positionals[0]!, env, reason: values.reason, by: requesterFrom(io.env), nowMs, runtime: buildRuntime(values, io, config), ...(io.signal && { signal: io.signal }) });
  if (values.json) printJson(io, { hold: result.after.record, path: result.after.path, before: result.before.state, release: result.releaseCommand });
  else io.stdout(`${positionals[0]} ${env}: ${describeHold(result.after, nowMs, result.releaseCommand)}\n  index ${result.after.path}${result.before.state === 'held' ? `\n  (replaced the hold by ${result.before.record.by} since ${result.before.record.at})` : ''}\n`);
  return 0;
}
