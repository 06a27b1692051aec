// The vendored reference data must stay what the shared reference folder holds.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../support/taskcluster-emulator.js';

const vendored = path.join(repositoryRoot, 'test/fixtures/reference');
const shared = path.resolve(repositoryRoot, '../shared/reference');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full).map((f) => path.join(name, f)) : [name];
  });
}

describe('vendored reference data', () => {
  it.runIf(existsSync(shared))('equals ../shared/reference file for file', () => {
    const sharedFiles = files(shared).sort();
    expect(files(vendored).filter((f) => f !== 'NOTICE.md').sort()).toEqual(sharedFiles);
    for (const f of sharedFiles) expect(readFileSync(path.join(vendored, f)).equals(readFileSync(path.join(shared, f))), f).toBe(true);
  });
});
