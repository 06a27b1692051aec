/**
 * The archive-tag grammar (SPEC section 2). Three eras, all UTC:
 *   current  <env>-<YYYYMMDDHHMMSS>-<40 hex>
 *   gap      <env>-<YYYYMMDDHHMMSS>-            (revision missing, 2020-06/07)
 *   oldest   <env>-<version>-<YYYYMMDDHHMMSS>-<40 hex>
 * Everything else is not a deploy and gets a reason.
 */
import type { Config } from '../config/load.js';

export type Era = 'current' | 'gap' | 'oldest';

export interface ArchiveTag {
  kind: 'archive';
  tag: string;
  env: string;
  era: Era;
  /** ISO 8601 UTC with `Z`. */
  date: string;
  epochMs: number;
  revision: string | null;
  version?: string;
}

export interface IgnoredTag {
  kind: 'ignored';
  tag: string;
  reason: string;
}

const stamp = '(\\d{14})';
const hex40 = '([0-9a-f]{40})';
const version = '(\\d+(?:\\.\\d+){0,3}(?:[a-z]+\\d*)?)';

export function parseTimestamp(text: string): { iso: string; epochMs: number } | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(epochMs);
  // Date.UTC rolls month 13 into next year; an impossible date does not survive the round trip.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return undefined;
  }
  return { iso: date.toISOString().replace('.000Z', 'Z'), epochMs };
}

export interface TagGrammar {
  /** Environment prefixes (`production`, `dev`), the `<env>` of archive tags. */
  prefixes: readonly string[];
  /** Moving tags (`production`, `dev`): named as such when ignored. */
  movingTags: readonly string[];
  /** Tags dated after this are refused (a clock far ahead is not a deploy). */
  notAfterMs?: number;
}

/** The grammar a configuration implies: its environments' archive prefixes and moving tags. */
export function grammarFor(config: Config, nowMs: number): TagGrammar {
  const envs = Object.values(config.environments);
  return {
    prefixes: [...new Set(envs.map((e) => e.archivePrefix))],
    movingTags: [...new Set(envs.map((e) => e.movingTag))],
    // A day of slack for clocks; a tag dated further ahead is not a deploy.
    notAfterMs: nowMs + 86_400_000,
  };
}

export function classifyTag(tag: string, grammar: TagGrammar): ArchiveTag | IgnoredTag {
  const ignored = (reason: string): IgnoredTag => ({ kind: 'ignored', tag, reason });
  if (grammar.movingTags.includes(tag)) return ignored('moving tag, not an archive of a deploy');
  // Longest prefix first so that `dev` does not claim `devel-…`.
  const prefix = [...grammar.prefixes].sort((a, b) => b.length - a.length).find((p) => tag.startsWith(`${p}-`));
  if (!prefix) {
    return ignored(`does not start with an environment prefix (${grammar.prefixes.map((p) => `${p}-`).join(', ')})`);
  }
  const rest = tag.slice(prefix.length + 1);
  let match: RegExpExecArray | null;
  let parsed: { era: Era; stamp: string; revision: string | null; version?: string } | undefined;
  if ((match = new RegExp(`^${stamp}-${hex40}$`).exec(rest))) parsed = { era: 'current', stamp: match[1]!, revision: match[2]! };
  else if ((match = new RegExp(`^${stamp}-$`).exec(rest))) parsed = { era: 'gap', stamp: match[1]!, revision: null };
  else if ((match = new RegExp(`^${version}-${stamp}-${hex40}$`).exec(rest))) parsed = { era: 'oldest', version: match[1]!, stamp: match[2]!, revision: match[3]! };
  if (!parsed) return ignored(explainMismatch(rest));
  const time = parseTimestamp(parsed.stamp);
  if (!time) return ignored(`impossible date ${parsed.stamp} (YYYYMMDDHHMMSS, UTC)`);
  if (grammar.notAfterMs !== undefined && time.epochMs > grammar.notAfterMs) return ignored(`date ${time.iso} is in the future`);
  return {
    kind: 'archive',
    tag,
    env: prefix,
    era: parsed.era,
    date: time.iso,
    epochMs: time.epochMs,
    revision: parsed.revision,
    ...(parsed.version !== undefined && { version: parsed.version }),
  };
}

function explainMismatch(rest: string): string {
  const parts = rest.split('-');
  const stampPart = parts.find((p) => /^\d{14}$/.test(p));
  if (!stampPart) return 'no 14-digit UTC timestamp';
  const last = parts[parts.length - 1] ?? '';
  if (/^[0-9a-fA-F]+$/.test(last) && last !== stampPart) {
    return last.length !== 40 ? `revision ${last} is not 40 hex characters` : `revision ${last} is not lowercase hex`;
  }
  return 'does not match <env>-<YYYYMMDDHHMMSS>-<revision> or <env>-<version>-<YYYYMMDDHHMMSS>-<revision>';
}

/** Newest first; equal timestamps are both kept, ordered by tag name (descending, stable). */
export function compareNewestFirst(a: ArchiveTag, b: ArchiveTag): number {
  return b.epochMs - a.epochMs || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0);
}
