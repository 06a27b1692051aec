/** `tc-promote release <script> --env E`: end a hold (a thin layer over operations/hold). */
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { releaseEnvironment } from '../operations/hold.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { requesterFrom, submissionConnection } from './graph-options.js';

export const help = `Usage: tc-promote release <script> [--env E] [--reason TEXT] [--json]

Releases the hold of a script's environment (tc-promote hold, or a rollback's): the next push
moves the moving tag again. A push that ran while held wrote only its archive tag; rerun it
(its task's URL is in its log) to deploy it. The index entry keeps who held it and why, and
adds who released it and when. Not held: exit 4, nothing written.

Options:
  --env E          the environment (default production)
  --reason TEXT    why it is released (recorded)

Examples:
  tc-promote release signingscript
  tc-promote release beetmoverscript --env dev --reason "fixed in 7995c5b"

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('release', argv, { env: { type: 'string' }, reason: { type: 'string' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length !== 1) throw new UsageError(`release: takes one script, got ${positionals.length}`);
  const config = loadConfig(values.config);
  const connection = submissionConnection(io, values, config, 'release');
  const env = values.env ?? 'production';
  const { before, after } = await releaseEnvironment({ config, connection, script: positionals[0]!, env, by: requesterFrom(io.env), nowMs: clock(io.env), ...(values.reason !== undefined && { reason: values.reason }), ...(io.signal && { signal: io.signal }) });
  if (values.json) printJson(io, { released: after.record, path: after.path });
  else io.stdout(`${positionals[0]} ${env}: released (held since ${before.record.at} by ${before.record.by}: ${before.record.reason.replace(/\s+/g, ' ')}); the next push moves the moving tag\n`);
  return 0;
}
