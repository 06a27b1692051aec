/**
 * The rules for an archive tag about to be written: the pushlog entry of a deploy happening
 * now. It is in the current form (`<env>-<YYYYMMDDHHMMSS>-<40 hex>`), names the destination
 * environment, and is dated now: not in the future beyond a small clock skew, and no older
 * than a promote task may run after its graph was rendered (its deadline, one day). Anything
 * else would put a deploy into history that did not happen when it says.
 */
import type { Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { isValidTag } from '../registry/reference.js';
import { classifyTag, grammarFor, type ArchiveTag } from './tags.js';

/** Clocks of the renderer and the worker may differ by this much. */
export const clockSkewMs = 5 * 60_000;
/** A promote task runs at most this long after its graph was rendered (its deadline). */
export const promoteDeadlineMs = 24 * 60 * 60_000;

export interface NewArchiveTagRules {
  config: Config;
  nowMs: number;
  /** The archive prefixes the destination allows (its environments'). */
  prefixes: readonly string[];
  field: string;
}

export function checkNewArchiveTag(tag: string, rules: NewArchiveTagRules): ArchiveTag & { revision: string } {
  const { field } = rules;
  if (!isValidTag(tag)) {
    throw new UsageError(`${field}: ${quote(tag)} is not a valid tag (letters, digits, _ . -, at most 128 characters${tag.length > 128 ? `; it has ${tag.length}` : ''})`);
  }
  const parsed = classifyTag(tag, { ...grammarFor(rules.config, rules.nowMs), notAfterMs: undefined });
  if (parsed.kind !== 'archive') throw new UsageError(`${field}: ${quote(tag)} is not an archive tag (${parsed.reason})`);
  if (parsed.era !== 'current' || parsed.revision === null) {
    throw new UsageError(`${field}: ${quote(tag)} is an archive tag of an old form; a new one is <env>-<YYYYMMDDHHMMSS>-<40-hex revision>`);
  }
  if (!rules.prefixes.includes(parsed.env)) {
    throw new UsageError(`${field}: ${quote(tag)} records a deploy of ${quote(parsed.env)}, but the destination belongs to ${rules.prefixes.map((p) => quote(p)).join(' or ')}: its archive tags start with ${rules.prefixes.map((p) => `${p}-`).join(' or ')}`);
  }
  const nowIso = new Date(Math.floor(rules.nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  if (parsed.epochMs > rules.nowMs + clockSkewMs) {
    throw new UsageError(`${field}: ${quote(tag)} is dated ${parsed.date}, in the future (now is ${nowIso}; archive tag times are UTC); an archive tag records when the deploy happens`);
  }
  if (parsed.epochMs < rules.nowMs - promoteDeadlineMs - clockSkewMs) {
    throw new UsageError(
      `${field}: ${quote(tag)} is dated ${parsed.date}, more than a day before now (${nowIso}): older than any promote task may run after its plan; an archive tag records when the deploy happens, so make a new one dated now`,
    );
  }
  return { ...parsed, revision: parsed.revision };
}
