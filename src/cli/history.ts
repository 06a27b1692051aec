/** `tc-promote history <script>`: the pushlog the registry's archive tags hold. */
import { UsageError } from '../errors.js';
import type { Deploy } from '../history/analyse.js';
import { readHistory, type HistoryResult } from '../history/history.js';
import { formatDuration } from '../util/duration.js';
import { buildRuntime, globalHelp, parseCommandArgs, positiveInteger, printJson, type Io } from './common.js';
import { shortDigest, shortRevision, table } from './table.js';

export const help = `Usage: tc-promote history <script> [--env E] [--limit N] [--json]

Reads the archive tags of the script's repository (<env>-<YYYYMMDDHHMMSS>-<revision> and older
forms) as a pushlog, newest first, and marks the deploy the moving tag points at (current),
deploys that were rolled back, and redeploys of an earlier revision. Tags that are not deploys
are listed as ignored with the reason (with --json).

Options:
  --env E        environment (default production)
  --limit N      show the newest N deploys only

Example:
  tc-promote history signingscript --env production --limit 10

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('history', argv, { env: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`history: takes one script, got ${positionals.length} arguments`);
  const runtime = buildRuntime(values, io);
  const limit = positiveInteger(values.limit, '--limit');
  const result = await readHistory(runtime, positionals[0], values.env, limit !== undefined ? { limit } : {});
  if (values.json) printJson(io, result);
  else io.stdout(renderHistory(result));
  return 0;
}

export function deployFlags(d: Deploy): string {
  return [d.current && 'CURRENT', d.rolledBack && 'rolled-back', d.redeployOf && `redeploy of ${d.redeployOf}`].filter(Boolean).join(', ');
}

export function renderHistory(result: HistoryResult): string {
  const lines = [
    `${result.script} ${result.env}: ${result.repository}:${result.movingTag} -> ${result.movingDigest ?? '(missing)'}`,
    '',
    table(
      ['DATE (UTC)', 'REVISION', 'DIGEST', 'LIVE', 'TAG', 'NOTES'],
      result.deploys.map((d) => [d.date, shortRevision(d.revision), shortDigest(d.digest), formatDuration(d.liveSeconds), d.tag, deployFlags(d)]),
    ),
  ];
  if (result.ignored.length) lines.push('', `${result.ignored.length} tag(s) ignored (not deploys); --json lists them with reasons`);
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
