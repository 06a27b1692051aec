/**
 * Replace a file whole or not at all: a temporary file beside it, created new (never through a
 * link left under its name), renamed over it. A full disk or a read-only folder leaves the old
 * file as it was, never empty or cut short.
 */
import path from 'node:path';
import { fs } from './builtins.js';

const { mkdirSync, renameSync, rmSync, writeFileSync } = fs;

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
