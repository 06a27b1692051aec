/**
 * Text that fits the terminal (issue 22): every line at most the width (`COLUMNS`, else the
 * terminal's, else 120), prose wrapped with a hanging indent, and a command meant to be pasted
 * printed whole on its own line, never broken. Below the CLI: the commands' presentation uses
 * it, it imports nothing of the project.
 */

/** The default width when neither COLUMNS nor a terminal says: what tables were cut to before. */
export const defaultWidth = 120;
/** Narrower than this, nothing reads well: 40 is the floor. */
const narrowest = 40;

/** The width to fit: `COLUMNS` (a whole number), else the terminal's columns, else 120. */
export function terminalWidth(env: NodeJS.ProcessEnv, terminalColumns?: number): number {
  const text = env.COLUMNS;
  if (text !== undefined && /^\d{1,4}$/.test(text) && Number(text) > 0) return Math.max(narrowest, Number(text));
  if (terminalColumns !== undefined && terminalColumns > 0) return Math.max(narrowest, terminalColumns);
  return defaultWidth;
}

/** Characters a line shows: colour marks (private-use characters, see cli/colour.ts) take no room. */
export function visibleLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xe000 && c <= 0xf8ff) n--;
  }
  return n;
}

/** The programs a printed line may ask a person to paste. */
const pasteable = /^(?:tc-promote|kill|mkdir|source|curl|git|export|docker|skopeo|bash|sudo|apt-get) /;

/** Whether a line (without its indent and label) is a command meant to be pasted: printed whole. */
export function isCommand(text: string): boolean {
  return pasteable.test(text.trimStart());
}

/**
 * A label at the start of a line that the wrapped lines hang under: `  current:   `,
 * `warning: `, `note: `, `default rollback target: ` (a few words, then a colon and blanks).
 */
const labelled = /^(\s*(?:[\w-]+(?: [\w()-]+){0,3}):\s+)(?=\S)/;

/**
 * One line fitted to `width`: as it is when it fits; a pasteable command after a label goes
 * whole to the next line; prose is wrapped at blanks, continuation lines indented under the
 * label (or the line's own indent, plus two). A word longer than a line stays whole.
 */
export function fitLine(line: string, width: number): string[] {
  if (visibleLength(line) <= width) return [line];
  const indent = /^\s*/.exec(line)![0];
  if (isCommand(line)) return [line];
  const found = labelled.exec(line)?.[1];
  if (found !== undefined && isCommand(line.slice(found.length))) return [found.trimEnd(), `${indent}  ${line.slice(found.length)}`];
  // A label hangs the lines under it when it is short; a long one is prose like the rest.
  const label = found !== undefined && found.length <= width / 2 ? found : undefined;
  const hang = label !== undefined ? ' '.repeat(label.length) : `${indent}  `;
  // The label stays as written (its blanks align the values under it); the rest wraps at blanks.
  const head = label ?? indent;
  const words = line.slice(head.length).split(/ +/);
  const lines: string[] = [];
  let current = head;
  for (const word of words) {
    const start = current.trim() === '';
    const fits = visibleLength(current) + (start || current === head ? 0 : 1) + visibleLength(word) <= width;
    if (!start && !fits) {
      lines.push(current.trimEnd());
      // A long value (a digest, a reference) moves left rather than past the width.
      current = ' '.repeat(Math.max(0, Math.min(hang.length, width - visibleLength(word)))) + word;
    } else current = start || current === head ? current + word : `${current} ${word}`;
  }
  if (current.trim() !== '') lines.push(current);
  return lines;
}

/** Every line of a text fitted (see fitLine); a trailing newline kept. */
export function fitText(text: string, width: number): string {
  if (!text.includes('\n') && visibleLength(text) <= width) return text;
  return text
    .split('\n')
    .map((line) => fitLine(line, width).join('\n'))
    .join('\n');
}

/** The widest line of a text, and the widest that is not a command (what tests hold to the width). */
export function widest(text: string): { any: number; prose: number } {
  let any = 0;
  let prose = 0;
  for (const line of text.split('\n')) {
    any = Math.max(any, visibleLength(line));
    const label = labelled.exec(line)?.[1];
    // A command, or one value alone on its line (a reference, a digest): printed whole to be pasted.
    const whole = isCommand(line) || (label !== undefined && isCommand(line.slice(label.length))) || /^\s*\S+$/.test(line);
    if (!whole) prose = Math.max(prose, visibleLength(line));
  }
  return { any, prose };
}
