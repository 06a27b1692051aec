/**
 * Colour for a terminal, without escape codes in the text commands build: a command marks
 * words with private-use characters (`paint.current('CURRENT')`), and the CLI edge turns the
 * marks into SGR codes after every printed text was cleaned (control characters escaped),
 * or drops them when the output is not a colour terminal or NO_COLOR is set. A marked word
 * is one character wider per mark only until then: tables pad their cells before painting.
 */
const reset = '\uE000';
const marks = {
  current: '\uE001',
  rolledBack: '\uE002',
  warning: '\uE003',
  ok: '\uE004',
  failed: '\uE005',
  dim: '\uE006',
} as const;

const sgr: Record<string, string> = {
  [reset]: '\u001b[0m',
  [marks.current]: '\u001b[1;32m',
  [marks.rolledBack]: '\u001b[33m',
  [marks.warning]: '\u001b[1;33m',
  [marks.ok]: '\u001b[32m',
  [marks.failed]: '\u001b[1;31m',
  [marks.dim]: '\u001b[2m',
};

export type Paint = keyof typeof marks;

export const paint = Object.fromEntries(Object.entries(marks).map(([name, mark]) => [name, (text: string): string => (text ? `${mark}${text}${reset}` : text)])) as Record<Paint, (text: string) => string>;

const anyMark = /[\uE000-\uE006]/g;

/** The marks as SGR codes (colour on) or removed (off). `warning:` at a line's start is painted too. */
export function renderColour(text: string, on: boolean): string {
  if (!on) return text.replace(anyMark, '');
  return text.replace(/^warning:/gm, `${marks.warning}warning:${reset}`).replace(anyMark, (m) => sgr[m]!);
}

/** Whether colour is wanted: a terminal that is not "dumb", and NO_COLOR not set (https://no-color.org). */
export function colourWanted(isTerminal: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTerminal && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}
