/**
 * Typed errors. Every error the tool raises on purpose carries the exit code the CLI
 * should end with; only the CLI edge turns them into messages and exit codes.
 */
export const ExitCode = {
  ok: 0,
  operational: 1,
  usage: 2,
  conflict: 3,
  notFound: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class PromoteError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad input: a flag, a configuration field, an action input, a tag or branch name. */
export class UsageError extends PromoteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

/** A registry, Taskcluster or GitHub request failed for good, or a response was malformed. */
export class RemoteError extends PromoteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.operational, options);
  }
}

/** Something moved since the plan (compare-and-swap lost, branch lease broken). */
export class ConflictError extends PromoteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.conflict, options);
  }
}

/** A repository, tag, revision or task that was asked for does not exist. */
export class NotFoundError extends PromoteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.notFound, options);
  }
}

/**
 * Characters a terminal acts on or hides: C0 controls, DEL and C1 controls, and the invisible
 * format characters that make look-alikes (zero-width, bidirectional overrides and marks with
 * the Arabic letter mark, line and paragraph separators, BOM, interlinear annotations, and the
 * tag characters that carry invisible text). Values never reach a message with one of these raw.
 */
const unsafeCharacters = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;

/** Each UTF-16 unit as \\uXXXX: a tag character (U+E0000–U+E007F, invisible text) as its surrogate pair, valid in JSON too. */
function escapeCharacter(c: string): string {
  return [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
}

/** Quote a user-supplied value for an error message: unsafe characters escaped, long values cut. */
export function quote(value: unknown, max = 120): string {
  if (typeof value !== 'string') {
    const text = stringifyBounded(value) ?? String(value);
    return (text.length > max ? `${text.slice(0, max)}…` : text).replace(unsafeCharacters, escapeCharacter);
  }
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value).replace(unsafeCharacters, escapeCharacter);
}

/**
 * JSON text of a value for a message; a value nested too deep for JSON.stringify (a list
 * 30,000 levels deep overflows the stack) is shown by its outermost levels instead.
 */
function stringifyBounded(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    let text = '';
    let current: unknown = value;
    let depth = 0;
    while (current !== null && typeof current === 'object' && depth < 200) {
      const entries = Array.isArray(current) ? current : Object.values(current);
      text += Array.isArray(current) ? '[' : `{${JSON.stringify(Object.keys(current)[0] ?? '')}:`;
      current = entries[0];
      depth++;
    }
    return `${text}… (nested deeper than ${depth} levels)`;
  }
}

/**
 * The last guard at the CLI edge: text about to be printed keeps its newlines and tabs, and
 * any other unsafe character (from a remote answer, say) is shown escaped, never raw.
 */
export function escapeUnsafeCharacters(text: string): string {
  return text.replace(unsafeCharacters, (c) => (c === '\n' || c === '\t' ? c : escapeCharacter(c)));
}

/** Quote a URL someone typed: a password in its userinfo is masked, never echoed. */
export function quoteUrl(text: string): string {
  const masked = text.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/?#@:]*):[^/?#@]*@/i, '$1:***@');
  return quote(masked);
}
