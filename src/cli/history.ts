/** `tc-promote history <script>`: the pushlog the registry's archive tags hold. */
import { UsageError } from '../errors.js';
import type { Deploy } from '../history/analyse.js';
import { describeHold } from '../history/hold.js';
import { holdJson, readHolds, releaseCommand, type HoldRead } from '../operations/hold.js';
import { readHistory, type HistoryDeploy, type HistoryReadOptions, type HistoryResult } from '../history/history.js';
import { resolveConnection } from '../taskcluster-api/clients.js';
import { formatAge, formatDuration } from '../util/duration.js';
import { paint } from './colour.js';
import { buildRuntime, globalHelp, parseCommandArgs, positiveInteger, type Io } from './common.js';
import { columnWidths, cut, shortDigest, shortRevision, tableLine, tableWidth } from './table.js';

export const help = `Usage: tc-promote history <script> [--env E] [-n|--limit N] [--wide] [--records | --no-records] [--json]

Reads the archive tags of the script's repository (<env>-<YYYYMMDDHHMMSS>-<revision> and older
forms) as a pushlog, newest first, and marks the deploy the moving tag points at (current),
deploys that were rolled back, promotions (the digest an older deploy had: "promoted from",
also from another environment), rebuilds (an older revision with a new digest: "rebuild of")
and the default rollback target (what plan picks without --to, --skip or --min-live). Tags
that are not deploys are listed as ignored with the reason (with --json).

Digests are looked up for the newest deploys and what the answer needs (one batch of HEAD
requests); older rows link deploys by revision only.

Promotion records: with TASKCLUSTER_ROOT_URL or TASKCLUSTER_PROXY_URL set (or --root-url, or
--records), the newest rows made by a tc-promote promotion show its record from the Taskcluster
index (reason, requester, task group), the promotions that failed or were cancelled (their
fallback task records them: listed under the table, marked on the deploy they targeted), and
the environment's hold (who, why, since when, at which image; the deploy it holds is marked
HELD). A record is shown as a deploy's only when it names that deploy (its archive tag and
digest) and its task was scheduled by the configured scheduler (<trust domain>-level-<level>);
any other entry at the deploy's index path is flagged on its row, with why ("not shown as this
deploy's promotion"), since other roles may write that index. An index that cannot be reached
is a note, not an error (a hold that cannot be read is said as unknown, never as "not held").
Without them history never contacts Taskcluster.

Options:
  --env E        environment (default production)
  -n, --limit N  show the newest N deploys only
  --records      read promotion records from the Taskcluster index (the configuration's root
                 URL unless TASKCLUSTER_ROOT_URL or --root-url says otherwise)
  --no-records   do not, even with TASKCLUSTER_ROOT_URL set
  --wide         whole tags and digests, the date and revision columns (the table fits 120
                 columns otherwise: AGE, the tag with its revision cut to 12 hex, the digest's
                 first 12 hex, LIVE, NOTES naming other deploys by environment and date; ages
                 as 85d, 2h)

Examples:
  tc-promote history signingscript --env production --limit 10

--json: {script, env, repository, movingTag, movingDigest, current, deploys[] (each with held:
true on the deploy a hold keeps, promotion when a record was read, failedPromotions[] that
targeted it), ignored[], warnings[], rollbackTarget, lookedUp, records, failedPromotions[],
hold}; hold is null when not read, else {state: none|held|released|unknown, path, by, reason,
at, image: {tag, digest, revision}, taskGroupId}; a failed promotion is {outcome: failed|
cancelled, time, from, to, digest, revision, reason, requester, taskGroupId, fallback,
promoteTasks[], confirmed, taskId, namespace}.
  TASKCLUSTER_ROOT_URL=https://firefox-ci-tc.services.mozilla.com tc-promote history signingscript --limit 20

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('history', argv, { env: { type: 'string' }, limit: { type: 'string', short: 'n' }, wide: { type: 'boolean' }, records: { type: 'boolean' }, 'no-records': { type: 'boolean' } });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`history: takes one script, got ${positionals.length} arguments`);
  if (values.records && values['no-records']) throw new UsageError('--records and --no-records: give one');
  const runtime = buildRuntime(values, io);
  const limit = positiveInteger(values.limit, '--limit', 10_000_000);
  const options: HistoryReadOptions = limit !== undefined ? { limit } : {};
  const notes: string[] = [];
  // Taskcluster is asked only when the run says where it is: offline and fast otherwise.
  const wanted = !values['no-records'] && (values.records || values['root-url'] !== undefined || Boolean(io.env.TASKCLUSTER_ROOT_URL) || Boolean(io.env.TASKCLUSTER_PROXY_URL));
  if (wanted) {
    try {
      options.records = { connection: resolveConnection(io.env, values['root-url'], runtime.config.taskcluster.rootUrl) };
    } catch (error) {
      notes.push(`promotion records not read: ${(error as Error).message}`);
    }
  }
  const holdRead = options.records ? readHolds({ config: runtime.config, connection: options.records.connection, pairs: [{ script: positionals[0] ?? runtime.config.scripts[0]!, env: values.env ?? 'production' }] }).catch(() => null) : null;
  const result = await readHistory(runtime, positionals[0], values.env, options);
  result.records.notes.unshift(...notes);
  const hold = (await holdRead)?.get(`${result.script} ${result.env}`) ?? null;
  const held = heldTag(result, hold);
  if (held !== null) result.deploys = result.deploys.map((d) => (d.tag === held ? { ...d, held: true } : d));
  if (values.json) writeHistoryJson(io, { ...result, hold: hold ? holdJson(hold) : null });
  else writeHistory(io, result, wanted, { wide: Boolean(values.wide), nowMs: runtime.nowMs, ...(io.width !== undefined && { width: io.width }), hold });
  return 0;
}

/** The archive tag of the deploy a hold keeps: the hold's own tag, else the deploy of its digest. */
function heldTag(result: HistoryResult, hold: HoldRead | null): string | null {
  if (hold?.state !== 'held' || !hold.record.image) return null;
  const image = hold.record.image;
  const deploy = result.deploys.find((d) => (image.tag !== null ? d.tag === image.tag : image.digest !== null && d.digest === image.digest));
  return deploy?.tag ?? null;
}

/** CURRENT, rolled back and how the deploy relates to older ones (plan's current line uses it too). */
export function deployFlags(d: Deploy): string {
  return [d.current && 'CURRENT', d.rolledBack && 'rolled back', deployLink(d)].filter(Boolean).join(', ');
}

/** The older deploy this one repeats: promoted from, rebuild of, or redeploy of it. */
function deployLink(d: Deploy): string | null {
  return d.promotedFrom ? `promoted from ${d.promotedFrom}` : d.rebuildOf ? `rebuild of ${d.rebuildOf}` : d.redeployOf ? `redeploy of ${d.redeployOf}` : null;
}

export function formatLive(d: Pick<Deploy, 'liveSeconds' | 'liveSecondsAtMost'>): string {
  return d.liveSeconds !== null ? formatDuration(d.liveSeconds) : `?≤${formatDuration(d.liveSecondsAtMost ?? 0)}`;
}

function notes(d: HistoryDeploy, result: HistoryResult, wide = true): string {
  // The markers first (CURRENT, rolled back, default rollback target): within 120 columns a long link is what gets cut.
  const link = deployLink(d);
  const parts = [[d.current && 'CURRENT', (d as { held?: boolean }).held && 'HELD', d.rolledBack && 'rolled back'].filter(Boolean).join(', ')];
  if (result.rollbackTarget?.tag === d.tag) parts.push(d.gone ? 'default rollback target (image gone: plan rebuilds it)' : 'default rollback target');
  if (d.failedPromotions?.length) parts.push(`${d.failedPromotions.length === 1 ? 'a promotion' : `${d.failedPromotions.length} promotions`} to it ${d.failedPromotions.every((f) => f.outcome === 'cancelled') ? 'cancelled' : 'failed'} (below)`);
  // Who promoted and why before the link: within the width, the link is what gets cut.
  const p = d.promotion;
  if (p && wide) parts.push(promotionNote(p, true));
  // An index entry that did not pass the checks: visible, with why, never as this deploy's reason.
  if (d.unattributedRecord && wide) parts.push(unattributedNote(d.unattributedRecord));
  if (link) parts.push(link);
  return parts.filter(Boolean).join(', ');
}

/** Who promoted, why, and (wide) the task group: `by relengineer: "signing fails since r12"`. */
function promotionNote(p: NonNullable<HistoryDeploy['promotion']>, wide: boolean): string {
  // mozilla-auth0/ad|Mozilla-LDAP|relengineer: the table names the person; --wide and --json the whole id.
  const requester = p.requester === null ? '?' : wide ? p.requester : p.requester.split(/[|/]/).pop() || p.requester;
  return `promotion by ${requester}: ${p.reason !== null ? JSON.stringify(oneLine(p.reason)) : '(no reason recorded)'}${wide ? `, task group ${p.taskGroupId ?? '?'}` : ''}`;
}

function unattributedNote(u: NonNullable<HistoryDeploy['unattributedRecord']>): string {
  return `index entry of task ${u.taskId} not shown as this deploy's promotion: it ${u.why}`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

const chunk = 2000;

/**
 * `history --json`, written as it is built: the envelope pretty-printed, each deploy and
 * ignored tag as one line, in chunks, so a repository of 200,000 tags is never one string.
 */
export function writeHistoryJson(io: Pick<Io, 'stdout'>, result: HistoryResult & { hold?: unknown }): void {
  const entries = Object.entries(result);
  io.stdout('{\n');
  entries.forEach(([key, value], i) => {
    const end = i === entries.length - 1 ? '\n' : ',\n';
    if ((key === 'deploys' || key === 'ignored') && Array.isArray(value)) {
      if (value.length === 0) return io.stdout(`  ${JSON.stringify(key)}: []${end}`);
      io.stdout(`  ${JSON.stringify(key)}: [\n`);
      for (let start = 0; start < value.length; start += chunk) {
        const last = start + chunk >= value.length;
        // One native stringify per chunk, then a line per item: every item is an object whose first key is "tag",
        // and inside a JSON string a quote is escaped, so `},{"tag"` only ever joins two items.
        const text = JSON.stringify(value.slice(start, start + chunk));
        io.stdout(`    ${text.slice(1, -1).replace(/\},\{"tag"/g, '},\n    {"tag"')}${last ? '\n' : ',\n'}`);
      }
      io.stdout(`  ]${end}`);
    } else {
      io.stdout(`  ${JSON.stringify(key)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}${end}`);
    }
  });
  io.stdout('}\n');
}

const wideHeaders = ['DATE (UTC)', 'REVISION', 'DIGEST', 'LIVE', 'TAG', 'NOTES'];
const headers = ['AGE', 'TAG', 'DIGEST', 'LIVE', 'NOTES'];

/** An archive tag with its revision cut to 12 hex (`production-20210929025643-7995c5bb123b`): the table's form; --wide and --json have it whole. */
export function shortTag(tag: string): string {
  return tag.replace(/^([a-z][\w.-]*?-(?:\d+(?:\.\d+){0,3}[a-z]*\d*-)?\d{14}-)([0-9a-f]{12})[0-9a-f]{28}$/, '$1$2');
}

/** Every archive tag a note names, by its environment and date only (`promoted from production-20210110060000`): the row it names is in the table. */
function shortTags(text: string): string {
  return text.replace(/\b([a-z][\w.-]*?-(?:\d+(?:\.\d+){0,3}[a-z]*\d*-)?\d{14})-[0-9a-f]{40}\b/g, '$1');
}

export interface HistoryTableOptions {
  /** Whole tags and digests, every column (default: fit 120 columns). */
  wide?: boolean;
  /** The run's clock, for ages (default now). */
  nowMs?: number;
  /** The width the table fits (default 120); under 100 the DIGEST column goes (--wide keeps everything). */
  width?: number;
  /** The environment's hold, when it was read (a line under the header). */
  hold?: HoldRead | null;
}

export function renderHistory(result: HistoryResult, recordsAsked = true, options: HistoryTableOptions = {}): string {
  let out = '';
  writeHistory({ stdout: (text) => void (out += text) }, result, recordsAsked, options);
  return out;
}

const paintNotes = (text: string): string => text.replace(/^CURRENT/, paint.current('CURRENT')).replace(/\bHELD\b/, paint.warning('HELD')).replace(/rolled back/, paint.rolledBack('rolled back'));

/** The table, written in chunks of rows: within 120 columns, or whole values with --wide. */
export function writeHistory(io: Pick<Io, 'stdout'>, result: HistoryResult, recordsAsked = true, options: HistoryTableOptions = {}): void {
  const nowMs = options.nowMs ?? Date.now();
  const digestOf = (d: HistoryDeploy): string => (d.gone ? '(image gone)' : options.wide ? shortDigest(d.digest) : d.digest ? d.digest.replace(/^sha256:/, '').slice(0, 12) : '-');
  const live = (d: HistoryDeploy): string => (options.wide ? formatLive(d) : d.liveSeconds !== null ? formatAge(d.liveSeconds) : `?≤${formatAge(d.liveSecondsAtMost ?? 0)}`);
  const fixed = (d: HistoryDeploy): string[] =>
    options.wide ? [d.date, shortRevision(d.revision), digestOf(d), live(d), d.tag] : [formatAge(Math.max(0, (nowMs - Date.parse(d.date)) / 1000)), cut(shortTag(d.tag), 38), digestOf(d), live(d)];
  const width = options.width ?? tableWidth;
  // Narrow: DIGEST goes first (the tag names the deploy), then LIVE.
  const dropped = options.wide ? [] : width < 80 ? [2, 3] : width < 100 ? [2] : [];
  const keep = <T,>(cells: T[]): T[] => cells.filter((_, i) => !dropped.includes(i));
  const names = options.wide ? wideHeaders : keep(headers);
  // NOTES is the last column (never padded): the widths pass skips it.
  const cellsOf = (d: HistoryDeploy): string[] => (options.wide ? fixed(d) : keep(fixed(d)));
  const widths = columnWidths(names, (function* () {
    for (const d of result.deploys) yield cellsOf(d);
  })());
  const room = Math.max(12, width - widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0));
  const row = (d: HistoryDeploy): string => {
    const note = options.wide ? notes(d, result) : cut(shortTags(notes(d, result, false)), room);
    const cells = cellsOf(d).map((c, i) => c.padEnd(widths[i]!)).join('  ');
    const line = note ? `${cells}  ${paintNotes(note)}` : cells.trimEnd();
    // The promotion's requester and reason on a line of their own under the row: never cut away.
    const under = d.promotion ? promotionNote(d.promotion, false) : d.unattributedRecord ? unattributedNote(d.unattributedRecord) : null;
    if (options.wide || under === null) return line;
    const at = Math.min(widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0), 6);
    return `${line}\n${' '.repeat(at)}${cut(under, width - at)}`;
  };
  const moving = result.movingDigest === null ? '(missing)' : options.wide ? result.movingDigest : result.movingDigest.slice(0, 'sha256:'.length + 12);
  const hold = options.hold;
  const holdLine = !hold ? '' : hold.state === 'unknown' ? `hold: unknown (${hold.error})\n` : `hold: ${describeHold(hold, nowMs, releaseCommand(result.script, result.env))}\n`;
  io.stdout(`${result.script} ${result.env}: ${result.repository}:${result.movingTag} -> ${moving}\n${holdLine}\n${tableLine(names, widths)}\n`);
  for (let start = 0; start < result.deploys.length; start += chunk) {
    io.stdout(result.deploys.slice(start, start + chunk).map((d) => `${row(d)}\n`).join(''));
  }
  const lines = [''];
  const target = result.rollbackTarget;
  if (target) {
    const passed = target.passedOver;
    // The target whole (it is what --to takes); what was passed over by the table's short form.
    const name = (tag: string): string => (options.wide ? tag : shortTag(tag));
    lines.push(`default rollback target: ${target.tag}${passed.length ? ` (passed over: ${passed.slice(0, 6).map((p) => `${name(p.tag)} ${p.reason}`).join('; ')}${passed.length > 6 ? `; … ${passed.length - 6} more` : ''})` : ''}`);
  } else {
    lines.push(`default rollback target: none${result.current ? ' (no older deploy qualifies)' : ' (current is unknown)'}`);
  }
  const shown = result.deploys.length;
  if (result.lookedUp < shown) lines.push(`digests looked up for the newest ${result.lookedUp} deploy(s) and what the answer needs; older rows link deploys by revision only`);
  if (result.deploys.some((d) => d.promotedFrom) && result.records.state === 'not-asked' && !recordsAsked) {
    lines.push('promotion records not read (set TASKCLUSTER_ROOT_URL, or pass --records, to show reason and requester from the Taskcluster index)');
  }
  const failed = result.failedPromotions ?? [];
  for (const f of failed.slice(0, 10)) {
    const to = f.to === null ? '?' : options.wide ? f.to : shortTag(f.to);
    const requester = f.requester === null ? '?' : options.wide ? f.requester : f.requester.split(/[|/]/).pop() || f.requester;
    lines.push(`${f.outcome} promotion: ${f.time?.replace(/\.\d{3}Z$/, 'Z') ?? '?'} to ${to}${f.from ? ` (from ${options.wide ? f.from : shortTag(f.from)})` : ''} by ${requester}: ${f.reason !== null ? JSON.stringify(oneLine(f.reason)) : '(no reason recorded)'}; fallback ${f.fallback ?? '?'}; task group ${f.taskGroupId ?? '?'}`);
  }
  if (failed.length > 10) lines.push(`… ${failed.length - 10} more failed promotion(s); --json lists them`);
  for (const n of result.records.notes) lines.push(`note: ${n}`);
  if (result.ignored.length) lines.push(`${result.ignored.length} tag(s) ignored (not deploys); --json lists them with reasons`);
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  io.stdout(lines.join('\n') + '\n');
}
