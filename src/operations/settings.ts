/**
 * Numbers and times an operation is told through its environment (TC_PROMOTE_*): checked as
 * flags are, so that a typo is a usage error naming the variable, not a network error.
 */
import { UsageError, quote } from '../errors.js';

export function positiveInteger(text: string | undefined, field: string, max = 100_000): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${field}: ${quote(text)} is not a whole number from 1 to ${max}`);
  return Number(text);
}

/** One clock for a run; `TC_PROMOTE_NOW` (ISO 8601) pins it for reproducible output. */
export function clock(env: NodeJS.ProcessEnv): number {
  const pinned = env.TC_PROMOTE_NOW;
  if (pinned === undefined) return Date.now();
  const ms = parseIsoTime(pinned);
  if (ms === undefined) throw new UsageError(`TC_PROMOTE_NOW: ${quote(pinned)} is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS[.sss]Z or ±HH:MM)`);
  return ms;
}

/**
 * An ISO 8601 date-time with a zone, and a real one: Date.parse alone takes other forms
 * ("Feb 30 2021") and rolls impossible dates over (2021-02-30 becomes March 2).
 */
export function parseIsoTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
