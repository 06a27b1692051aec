/**
 * Replace a file whole or not at all: a temporary file beside it, created new (never through a
 * link left under its name), renamed over it. A full disk or a read-only folder leaves the old
 * file as it was, never empty or cut short.
 */
import path from 'node:path';
import { UsageError, quote } from '../errors.js';
import { fs } from './builtins.js';
import { describeFileCode } from './read-file.js';
import { shellQuote } from './shell.js';

const { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } = fs;

/** Why a file a user named (--output FILE) could not be written, said: a folder that does not exist is named, with the command that makes it. */
export function writeFileError(file: string, field: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  if (code === 'ENOENT' && !existsSync(dir)) return new UsageError(`${field}: cannot write ${quote(file)}: its folder ${quote(dir)} does not exist (mkdir -p ${shellQuote(dir)} makes it)`);
  return new UsageError(`${field}: cannot write ${quote(file)}: ${describeFileCode(code) ?? String(error)}`);
}

export function writeFileWhole(file: string, text: string, options: { makeFolder?: boolean } = {}): void {
  const dir = path.dirname(file);
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    if (options.makeFolder) mkdirSync(dir, { recursive: true });
    rmSync(temporary, { force: true });
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // nothing to clean, or a folder that cannot be written to
    }
    throw error;
  }
}
