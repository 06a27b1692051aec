/**
 * The archive-tag grammar (docs/contract.md, Archive tags). Three eras, all UTC:
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

const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** YYYYMMDDHHMMSS (UTC) as ISO 8601 and epoch ms; undefined for anything that is not a real time. */
export function parseTimestamp(text: string): { iso: string; epochMs: number } | undefined {
  if (text.length !== 14 || !/^\d{14}$/.test(text)) return undefined;
  const digit = (i: number): number => text.charCodeAt(i) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(4) * 10 + digit(5);
  const day = digit(6) * 10 + digit(7);
  const hour = digit(8) * 10 + digit(9);
  const minute = digit(10) * 10 + digit(11);
  const second = digit(12) * 10 + digit(13);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  // Years before 100 are not a date Date.UTC keeps (it maps them to 19xx).
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth[month - 1]! + (month === 2 && leap ? 1 : 0) || hour > 23 || minute > 59 || second > 59) return undefined;
  const iso = `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(8, 10)}:${text.slice(10, 12)}:${text.slice(12, 14)}Z`;
  return { iso, epochMs: Date.UTC(year, month - 1, day, hour, minute, second) };
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

interface CompiledGrammar {
  movingTags: ReadonlySet<string>;
  /** Longest first, so that `dev` does not claim `devel-…`. */
  prefixes: readonly string[];
  prefixList: string;
}

const compiled = new WeakMap<TagGrammar, CompiledGrammar>();
const currentForm = new RegExp(`^${stamp}-${hex40}$`);
const gapForm = new RegExp(`^${stamp}-$`);
const oldestForm = new RegExp(`^${version}-${stamp}-${hex40}$`);

/** The grammar's sets and sorted prefixes, built once per grammar (history classifies every tag of a repository). */
function compile(grammar: TagGrammar): CompiledGrammar {
  let c = compiled.get(grammar);
  if (!c) {
    c = {
      movingTags: new Set(grammar.movingTags),
      prefixes: [...grammar.prefixes].sort((a, b) => b.length - a.length),
      prefixList: grammar.prefixes.map((p) => `${p}-`).join(', '),
    };
    compiled.set(grammar, c);
  }
  return c;
}

const currentShape = /\d{14}-[0-9a-f]{40}$/y;

/**
 * The common form, <env>-<YYYYMMDDHHMMSS>-<40 hex>, read from the tag's characters without
 * intermediate strings: history classifies every tag of a repository (200,000 in a test).
 * Anything else, or an impossible date, falls through to the general path and its reasons.
 */
function currentEra(tag: string, prefix: string, grammar: TagGrammar): ArchiveTag | undefined {
  const p = prefix.length + 1;
  // A regular expression, not a loop over characters: it runs as native code in a cold process.
  currentShape.lastIndex = p;
  if (tag.length !== p + 55 || !currentShape.test(tag)) return undefined;
  const y0 = tag.charCodeAt(p), y1 = tag.charCodeAt(p + 1), y2 = tag.charCodeAt(p + 2), y3 = tag.charCodeAt(p + 3);
  const mo0 = tag.charCodeAt(p + 4), mo1 = tag.charCodeAt(p + 5), d0 = tag.charCodeAt(p + 6), d1 = tag.charCodeAt(p + 7);
  const h0 = tag.charCodeAt(p + 8), h1 = tag.charCodeAt(p + 9), mi0 = tag.charCodeAt(p + 10), mi1 = tag.charCodeAt(p + 11);
  const s0 = tag.charCodeAt(p + 12), s1 = tag.charCodeAt(p + 13);
  const year = (y0 - 48) * 1000 + (y1 - 48) * 100 + (y2 - 48) * 10 + (y3 - 48);
  const month = (mo0 - 48) * 10 + (mo1 - 48);
  const day = (d0 - 48) * 10 + (d1 - 48);
  const hour = (h0 - 48) * 10 + (h1 - 48);
  const minute = (mi0 - 48) * 10 + (mi1 - 48);
  const second = (s0 - 48) * 10 + (s1 - 48);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth[month - 1]! + (month === 2 && leap ? 1 : 0) || hour > 23 || minute > 59 || second > 59) return undefined;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second);
  if (grammar.notAfterMs !== undefined && epochMs > grammar.notAfterMs) return undefined;
  // YYYY-MM-DDTHH:MM:SSZ in one string.
  const date = String.fromCharCode(y0, y1, y2, y3, 45, mo0, mo1, 45, d0, d1, 84, h0, h1, 58, mi0, mi1, 58, s0, s1, 90);
  return { kind: 'archive', tag, env: prefix, era: 'current', date, epochMs, revision: tag.slice(p + 15) };
}

function ignored(tag: string, reason: string): IgnoredTag {
  return { kind: 'ignored', tag, reason };
}

export function classifyTag(tag: string, grammar: TagGrammar): ArchiveTag | IgnoredTag {
  const g = compile(grammar);
  if (g.movingTags.has(tag)) return ignored(tag, 'moving tag, not an archive of a deploy');
  let prefix: string | undefined;
  for (const p of g.prefixes) {
    if (tag.length > p.length && tag.charCodeAt(p.length) === 45 /* - */ && tag.startsWith(p)) {
      prefix = p;
      break;
    }
  }
  if (!prefix) return ignored(tag, `does not start with an environment prefix (${g.prefixList})`);
  const fast = currentEra(tag, prefix, grammar);
  if (fast) return fast;
  const rest = tag.slice(prefix.length + 1);
  let match: RegExpExecArray | null;
  let parsed: { era: Era; stamp: string; revision: string | null; version?: string } | undefined;
  if ((match = currentForm.exec(rest))) parsed = { era: 'current', stamp: match[1]!, revision: match[2]! };
  else if ((match = gapForm.exec(rest))) parsed = { era: 'gap', stamp: match[1]!, revision: null };
  else if ((match = oldestForm.exec(rest))) parsed = { era: 'oldest', version: match[1]!, stamp: match[2]!, revision: match[3]! };
  if (!parsed) return ignored(tag, explainMismatch(rest));
  const time = parseTimestamp(parsed.stamp);
  if (!time) return ignored(tag, `impossible date ${parsed.stamp} (YYYYMMDDHHMMSS, UTC)`);
  if (grammar.notAfterMs !== undefined && time.epochMs > grammar.notAfterMs) return ignored(tag, `date ${time.iso} is in the future`);
  const archive: ArchiveTag = { kind: 'archive', tag, env: prefix, era: parsed.era, date: time.iso, epochMs: time.epochMs, revision: parsed.revision };
  if (parsed.version !== undefined) archive.version = parsed.version;
  return archive;
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
