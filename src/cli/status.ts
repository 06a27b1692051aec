/** `tc-promote status`: every configured script × environment in one table. */
import { UsageError } from '../errors.js';
import { describeHold } from '../history/hold.js';
import { holdJson, readHolds, releaseCommand, type HoldRead } from '../operations/hold.js';
import { defaultStatusConcurrency, readStatus, type StatusDeploy, type StatusFlag, type StatusRow } from '../history/status.js';
import type { Config } from '../config/load.js';
import type { InFlightRow } from '../operations/follow.js';
import { resolveConnection } from '../taskcluster-api/clients.js';
import { formatAge } from '../util/duration.js';
import { githubAccess } from './branch-check.js';
import { paint } from './colour.js';
import { buildRuntime, followFlags, globalHelp, parseCommandArgs, positiveInteger, printJson, type Io } from './common.js';
import { fitTable, shortRevision } from './table.js';

export const help = `Usage: tc-promote status [--env E]… [--script S]… [--wide] [--holds | --no-holds] [--json]

Every configured script in every environment, in one table: the current deploy (revision,
age, digest), the previous-known-good (what rollback picks without flags), how the
environments of a script differ (DRIFT: "dev +3" means dev runs a revision 3 commits ahead of
this row's, "dev -2" behind, "dev +3/-2" both (diverged); "dev =" the same revision; "dev ≠"
another one, not counted (GitHub not asked); "dev ?" unknown (either side has no known
revision); "-" no other environment), and FLAGS:
  no archive tag       the moving tag points at an image no archive tag records (current unknown)
  rolled back          the current deploy undid the one before it (or the tag was moved back)
  nothing deployed     the moving tag does not exist
  repository missing   the repository does not exist (listed, not fatal)
  unreadable           the registry could not be read (the note says why; exit 1)
  held                 the environment is held (tc-promote hold, or a rollback): the next push
                       writes its archive tag but does not move the moving tag; a line under the
                       table says who held it, why, since when, at which image, and how to release
  hold unknown         the hold could not be read from the Taskcluster index (the line says why)
With TASKCLUSTER_ROOT_URL set (or TASKCLUSTER_PROXY_URL, or --root-url), the promotions still
in flight follow the table (a rollback's or promote's in-flight index entry whose task group
the Queue lists unresolved tasks for), each with the tc-promote follow line to paste.
Pairs are read concurrently (at most N at a time); environments sharing a repository list its
tags once. Commit counts come from GitHub's compare when GitHub is configured (GITHUB_TOKEN,
or GITHUB_API_URL=https://api.github.com for a public repository); unreachable is a note.
Holds are read from the Taskcluster index (<trust domain>.v2.<project>.hold.<script>.<env>,
anonymous reads) when TASKCLUSTER_ROOT_URL or TASKCLUSTER_PROXY_URL is set, or --root-url or
--holds is given; otherwise a note says they were not read.

Options:
  --env E           only this environment (repeat for more; default every configured one)
  --script S        only this script (repeat for more; default every configured one)
  --wide            whole tags and digests, every column (otherwise the table fits the width:
                    COLUMNS, else 120; under 100 columns AGE and DIGEST are left out and
                    PREVIOUS-KNOWN-GOOD is headed PREV-GOOD)
  --concurrency N   pairs read at once (default ${defaultStatusConcurrency})
  --no-commits      do not ask GitHub for commit counts
  --holds           read the holds from the configuration's Taskcluster (taskcluster.rootUrl)
  --no-holds        do not read the holds, even with TASKCLUSTER_ROOT_URL set

Output: the table, or with --json {rows: [{script, env, repository, movingTag, movingDigest,
current, previousKnownGood, drift[], flags[], warnings[], error, hold}], notes[], inFlight: [{script,
env, entry, open[]}] or null (Taskcluster not configured)}; hold is null when not read, else
{state: none|held|released|unknown, path, by, reason, at, image: {tag, digest, revision},
taskGroupId, (released) releasedBy, releasedAt, (unknown) error}.

Examples:
  tc-promote status
  tc-promote status --env production --wide
  tc-promote status --script signingscript --script beetmoverscript --json

${globalHelp}`;

const options = {
  env: { type: 'string', multiple: true },
  script: { type: 'string', multiple: true },
  wide: { type: 'boolean' },
  concurrency: { type: 'string' },
  'no-commits': { type: 'boolean' },
  holds: { type: 'boolean' },
  'no-holds': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('status', argv, options);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError(`status: takes no arguments (got ${positionals.length}); --script S names a script`);
  if (values.holds && values['no-holds']) throw new UsageError('--holds and --no-holds: give one');
  const concurrency = positiveInteger(values.concurrency, '--concurrency', 256) ?? defaultStatusConcurrency;
  // Many repositories at once: more connections than one history needs.
  const runtime = buildRuntime(values, io, undefined, { connections: 64 });
  const access = githubAccess(io, runtime.config, values);
  const github = !values['no-commits'] && access.listsCommits ? access.client : undefined;
  const result = await readStatus(runtime, {
    ...(values.script && { scripts: values.script }),
    ...(values.env && { envs: values.env }),
    concurrency,
    ...(github && {
      compare: async (base: string, head: string) => {
        const { aheadBy, behindBy } = await (await github()).compare(base, head);
        return { aheadBy, behindBy };
      },
    }),
  });
  // Holds, from the Taskcluster index, when the run says where it is (offline and fast otherwise).
  const wanted = !values['no-holds'] && (values.holds || values['root-url'] !== undefined || Boolean(io.env.TASKCLUSTER_ROOT_URL) || Boolean(io.env.TASKCLUSTER_PROXY_URL));
  let holds: Map<string, HoldRead> | null = null;
  if (wanted) {
    const connection = resolveConnection(io.env, values['root-url'], runtime.config.taskcluster.rootUrl);
    holds = await readHolds({ config: runtime.config, connection, pairs: result.rows.map((r) => ({ script: r.script, env: r.env })) });
  } else if (!values['no-holds']) {
    result.notes.push('holds not read (set TASKCLUSTER_ROOT_URL, or pass --holds): a held environment does not move on the next push');
  }
  const flying = await promotionsInFlight(values, io, runtime.config, result.rows);
  const rows = result.rows.map((r) => withHold(r, holds?.get(`${r.script} ${r.env}`) ?? null));
  if (values.json) printJson(io, { rows: rows.map((r) => ({ ...r, hold: r.hold ? holdJson(r.hold) : null })), notes: result.notes, inFlight: flying?.rows ?? null });
  else io.stdout(renderStatus(rows, [...result.notes, ...(flying?.notes ?? [])], Boolean(values.wide), io.width, runtime.nowMs) + inFlightText(flying?.rows ?? [], values));
  return result.rows.some((r) => r.exitCode !== null) ? Math.max(...result.rows.map((r) => r.exitCode ?? 0)) : 0;
}

/** With Taskcluster configured (TASKCLUSTER_ROOT_URL, the proxy, or --root-url): the promotions in flight, from the in-flight index entries and the Queue. */
async function promotionsInFlight(values: { 'root-url'?: string | undefined }, io: Io, config: Config, rows: readonly StatusRow[]): Promise<{ rows: InFlightRow[]; notes: string[] } | null> {
  if (values['root-url'] === undefined && !io.env.TASKCLUSTER_ROOT_URL && !io.env.TASKCLUSTER_PROXY_URL) return null;
  try {
    const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
    const { inFlightPromotions } = await import('../operations/follow.js');
    return await inFlightPromotions({ config, connection, pairs: rows.map((r) => ({ script: r.script, env: r.env })) });
  } catch (error) {
    return { rows: [], notes: [`promotions in flight not read: ${(error as Error).message.split('\n')[0]}`] };
  }
}

function inFlightText(rows: readonly InFlightRow[], values: { config?: string | undefined; registry?: string | undefined; 'root-url'?: string | undefined }): string {
  if (!rows.length) return '';
  const lines = ['', `${rows.length} promotion(s) in flight:`];
  for (const r of rows) {
    lines.push(`  ${r.script} ${r.env}: ${r.entry.mode} to ${r.entry.to ?? '?'} submitted ${r.entry.at} by ${r.entry.by} (${r.open.map((t) => `${t.label} ${t.state}`).join(', ')})`);
    lines.push(`    tc-promote follow ${r.entry.taskGroupId}${followFlags(values)}`);
  }
  return `${lines.join('\n')}\n`;
}

function digestCell(d: StatusDeploy | null, wide: boolean): string {
  if (!d?.digest) return '-';
  return wide ? d.digest : d.digest.replace(/^sha256:/, '').slice(0, 12);
}

function deployCell(d: StatusDeploy | null, wide: boolean): string {
  if (!d) return '-';
  return wide ? d.tag : shortRevision(d.revision) === '-' ? cutTag(d.tag) : shortRevision(d.revision);
}

function cutTag(tag: string): string {
  return tag.length > 24 ? `${tag.slice(0, 23)}…` : tag;
}

function driftCell(row: StatusRow): string {
  return row.drift
    .map((d) => {
      if (d.state === 'same') return `${d.env} =`;
      if (d.state === 'unknown') return `${d.env} ?`;
      if (d.aheadBy === null || d.behindBy === null) return `${d.env} ≠`;
      return `${d.env} ${[d.aheadBy && `+${d.aheadBy}`, d.behindBy && `-${d.behindBy}`].filter(Boolean).join('/') || '='}`;
    })
    .join(', ');
}

/** The row with its hold: FLAGS says held (or hold unknown). */
function withHold(row: StatusRow, hold: HoldRead | null): StatusRow & { hold: HoldRead | null } {
  const flag: StatusFlag | null = hold?.state === 'held' ? 'held' : hold?.state === 'unknown' ? 'hold unknown' : null;
  return { ...row, flags: flag ? [...row.flags, flag] : [...row.flags], hold };
}

export function renderStatus(rows: readonly (StatusRow & { hold?: HoldRead | null })[], notes: readonly string[], wide = false, width = 120, nowMs = Date.now()): string {
  // Under 100 columns: AGE and DIGEST go (CURRENT's revision names the deploy), a shorter header.
  const narrow = !wide && width < 100;
  const keep = <T,>(cells: T[]): T[] => (narrow ? cells.filter((_, i) => i !== 3 && i !== 4) : cells);
  const headers = keep(['SCRIPT', 'ENV', 'CURRENT', 'AGE', 'DIGEST', narrow ? 'PREV-GOOD' : 'PREVIOUS-KNOWN-GOOD', 'DRIFT', 'FLAGS']);
  const last = headers.length - 1;
  const drift = headers.indexOf('DRIFT');
  const cells = rows.map((r) => keep([
    r.script,
    r.env,
    deployCell(r.current, wide),
    r.current ? formatAge(r.current.ageSeconds) : '-',
    digestCell(r.current, wide),
    deployCell(r.previousKnownGood, wide),
    driftCell(r) || '-',
    r.flags.join(', '),
  ]));
  const table = fitTable(headers, cells, {
    wide,
    width,
    maxWidths: headers.map((_, i) => (i === drift ? 24 : undefined)),
    // FLAGS are what a 3 a.m. reader must see whole: DRIFT gives up its room first.
    shrink: [drift],
    paint: (column, cell) => (column === last ? cell.replace(/rolled back/, paint.rolledBack('rolled back')).replace(/(no archive tag|repository missing|unreadable|nothing deployed|hold unknown|\bheld\b)/, (m) => paint.warning(m)) : cell),
  });
  const lines = [table, ''];
  for (const r of rows) {
    if (r.error) lines.push(`${r.script} ${r.env}: ${r.error}`);
    for (const w of r.warnings) lines.push(`warning: ${r.script} ${r.env}: ${w}`);
  }
  for (const r of rows) {
    if (r.hold?.state === 'held') lines.push(`${r.script} ${r.env}: ${describeHold(r.hold, nowMs, releaseCommand(r.script, r.env))}`);
    else if (r.hold?.state === 'unknown') lines.push(`${r.script} ${r.env}: hold unknown: ${r.hold.error}`);
  }
  for (const n of notes) lines.push(`note: ${n}`);
  return `${lines.join('\n').trimEnd()}\n`;
}
