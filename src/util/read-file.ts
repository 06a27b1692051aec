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
    throw new UsageError(`${field}: cannot read ${quote(path)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
