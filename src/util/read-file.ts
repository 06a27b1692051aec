/**
 * Read a small text file a user named (a configuration, an input, an actions.json): a regular
 * file of bounded size, so `/dev/zero`, a FIFO or a huge file is refused instead of hanging or
 * exhausting memory. Errors name the flag and the path.
 */
import { UsageError, quote } from '../errors.js';
import { fs } from './builtins.js';

const { readFileSync, statSync } = fs;

export const maxInputFileBytes = 4 * 1024 * 1024;

export function readInputFile(path: string, field: string, maxBytes = maxInputFileBytes): string {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UsageError(`${field}: ${quote(path)} is not a regular file`);
    if (stat.size > maxBytes) throw new UsageError(`${field}: ${quote(path)} is larger than ${maxBytes} bytes`);
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${field}: ${quote(path)} does not exist (ENOENT)`);
    throw new UsageError(`${field}: cannot read ${quote(path)}: ${describeFileCode(code) ?? String(error)}`);
  }
}

/** An errno code, said: what a person can act on (the code kept, to search for). */
export function describeFileCode(code: string | undefined): string | undefined {
  const said: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a folder',
    ENOTDIR: 'a part of the path is not a folder',
    ENOSPC: 'the disk is full',
    EROFS: 'the file system is read-only',
  };
  return code === undefined ? undefined : said[code] ? `${said[code]} (${code})` : code;
}
