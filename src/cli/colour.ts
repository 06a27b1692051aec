/**
 * Colour for a terminal, without escape codes in the text commands build: a command marks
 * words with private-use characters (`paint.current('CURRENT')`), and the CLI edge turns the
 * marks into SGR codes after every printed text was cleaned (control characters escaped),
 * or drops them when the output is not a colour terminal or NO_COLOR is set. A marked word
 * is wider only until then: tables pad their cells before painting.
 *
 * A mark is one of the characters U+E000–U+E006 followed by this process's key (four random
 * private-use characters, never printed): remote text (a commit title, a task's record, a
 * registry's error) may hold the mark characters themselves, and those must not become
 * colour. A mark character without the key is printed escaped (`\ue005`), as control
 * characters are.
 */
const key = Array.from({ length: 4 }, () => String.fromCharCode(0xe100 + Math.floor(Math.random() * 0x1700))).join('');
const reset = `\uE000${key}`;
const marks = {
  current: `\uE001${key}`,
  rolledBack: `\uE002${key}`,
  warning: `\uE003${key}`,
  ok: `\uE004${key}`,
  failed: `\uE005${key}`,
  dim: `\uE006${key}`,
} as const;
/** Cursor movement for live progress on a terminal: the line above, cleared; this line, cleared. */
const cursorMarks = { upAndClear: `\uE007${key}`, clearLine: `\uE008${key}` } as const;

const sgr: Record<string, string> = {
  [reset]: '\u001b[0m',
  [marks.current]: '\u001b[1;32m',
  [marks.rolledBack]: '\u001b[33m',
  [marks.warning]: '\u001b[1;33m',
  [marks.ok]: '\u001b[32m',
  [marks.failed]: '\u001b[1;31m',
  [marks.dim]: '\u001b[2m',
};
const cursorCodes: Record<string, string> = { [cursorMarks.upAndClear]: '\u001b[1A\u001b[2K', [cursorMarks.clearLine]: '\r\u001b[2K' };

export type Paint = keyof typeof marks;

export const paint = Object.fromEntries(Object.entries(marks).map(([name, mark]) => [name, (text: string): string => (text ? `${mark}${text}${reset}` : text)])) as Record<Paint, (text: string) => string>;

/** Rewrite the `lines` lines just printed (a live progress block): each cleared, from the last up. */
export function rewriteLines(lines: number): string {
  return cursorMarks.clearLine + cursorMarks.upAndClear.repeat(lines);
}

/** Our marks, and mark characters without the key (from remote text). */
const anyMark = new RegExp(`[\\uE000-\\uE008](?:${key})?`, 'g');

/**
 * The marks as SGR codes (colour on) or removed (off); cursor marks as their codes on a
 * terminal (`terminal`, default `on`), else removed; mark characters from elsewhere escaped.
 * `warning:` at a line's start is painted too.
 */
export function renderColour(text: string, on: boolean, terminal = on): string {
  const painted = on ? text.replace(/^warning:/gm, `${marks.warning}warning:${reset}`) : text;
  return painted.replace(anyMark, (m) => (m.length === 1 ? `\\u${m.charCodeAt(0).toString(16)}` : cursorCodes[m] !== undefined ? (terminal ? cursorCodes[m]! : '') : on ? sgr[m]! : ''));
}

/** Whether colour is wanted: a terminal that is not "dumb", and NO_COLOR not set (https://no-color.org). */
export function colourWanted(isTerminal: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTerminal && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}
