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

/**
 * The programs a printed line may ask a person to paste (tc-promote also by a path, as the
 * drill prints this clone's bin/tc-promote). `tc-promote plan: error: …` is a message, not a
 * command: a program's name followed by a word and a colon is where a message starts. A
 * command shown as run (`$ tc-promote copy …`, the drill's steps) is whole too.
 */
const pasteable = /^(?:\$ )?(?:(?:\S*\/)?tc-promote|kill|mkdir|source|curl|git|export|docker|skopeo|bash|sudo|apt-get) (?![\w-]+: )/;

/** Whether a line (without its indent and label) is a command meant to be pasted: printed whole. */
export function isCommand(text: string): boolean {
  return pasteable.test(text.trimStart());
}

/** Where a command inside prose starts: `tc-promote <command>`, perhaps after `(` or a quote. */
const embedded = /^[(`"']?(?:\S*\/)?tc-promote$/;

/**
 * The words of a line with a tc-promote command inside prose joined into one, so that wrapping
 * never breaks it (`…; tc-promote history signingscript --env production lists its deploys`):
 * the command name, at most two positionals before the first flag, then each flag with its
 * value (a quoted value whole); it ends after a word that ends with `;`, `,`, `)` or a quote.
 */
function gluedWords(words: string[]): string[] {
  const out: string[] = [];
  // A word that ends a sentence's clause: the command ends with it.
  const ends = (w: string): boolean => /[;,)`"]$/.test(w);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const name = words[i + 1];
    if (!embedded.test(word) || name === undefined || !/^(?:[a-z][a-z-]*|--?[a-z][\w-]*)[;,)`"]?$/.test(name)) {
      out.push(word);
      continue;
    }
    let end = i + 1;
    let done = false;
    const take = (): void => {
      done = ends(words[end]!);
      end++;
    };
    if (!name.startsWith('-')) {
      take();
      // Positionals: at most two before the first flag; without a flag after them, one.
      let k = end;
      while (!done && k < words.length && k - end < 2 && !words[k]!.startsWith('-') && !ends(words[k]!)) k++;
      const flagFollows = k < words.length && words[k]!.startsWith('-');
      while (!done && end < words.length && !words[end]!.startsWith('-') && (flagFollows ? end < k : end === i + 2)) take();
    }
    // Flags, each with the value after it (a quoted value to its closing quote).
    while (!done && end < words.length && words[end]!.startsWith('-')) {
      const flag = words[end]!;
      take();
      if (done || flag.includes('=') || end >= words.length || words[end]!.startsWith('-')) continue;
      if (words[end]!.startsWith("'")) {
        // To the word that closes the quote: the opening word's own closing quote, or a later word's.
        const start = end;
        const closes = (at: number): boolean => /'[;,)]?$/.test(at === start ? words[at]!.slice(1) : words[at]!);
        while (end < words.length - 1 && !closes(end)) end++;
        done = /[;,)]$/.test(words[end]!);
        end++;
      } else take();
    }
    out.push(words.slice(i, end).join(' '));
    i = end - 1;
  }
  return out;
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
  const words = gluedWords(line.slice(head.length).split(/ +/));
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
