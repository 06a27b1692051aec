/** Durations as release engineers type them: `90s`, `30m`, `12h`, `3d`, `2w`. */
import { UsageError, quote } from '../errors.js';

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export function parseDuration(text: string, field: string): number {
  const match = /^(\d{1,9})([smhdw])$/.exec(text.trim());
  if (!match) throw new UsageError(`${field}: ${quote(text)} is not a duration; use a number and a unit s, m, h, d or w (e.g. 90s, 30m, 12h, 3d, 2w)`);
  return Number(match[1]) * unitSeconds[match[2]!]!;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60) || ''}${seconds % 3600 >= 60 ? 'm' : ''}`;
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  return hours ? `${days}d${hours}h` : `${days}d`;
}

/**
 * An age in one unit, as tables show it: `45s`, `12m`, `2h`, `85d`. Whole seconds first,
 * rounded as live times are (history/analyse.ts): a current deploy's AGE and LIVE agree.
 */
export function formatAge(exact: number): string {
  const seconds = Math.max(0, Math.round(exact));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
