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

/** Quote a user-supplied value for an error message: control characters escaped, long values cut. */
export function quote(value: unknown, max = 120): string {
  if (typeof value !== 'string') {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > max ? `${text.slice(0, max)}…` : text;
  }
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
