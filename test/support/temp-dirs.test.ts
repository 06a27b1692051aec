// Tests clean up what they make, also when they fail: every temporary folder comes from the
// harness's makeTempDir (removed by its owner, at process exit, or by the next test process when
// its owner was killed). A folder made straight in the OS temp directory is left behind by any
// test that fails before its own cleanup (a full run used to leave two dozen `tcp-*` folders).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const testRoot = fileURLToPath(new URL('..', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('temporary folders', () => {
  it('are made only through the harness (test/support/registry.ts makeTempDir)', () => {
    const harness = path.join(testRoot, 'support', 'registry.ts');
    // The real Taskcluster fixture's state folders are the exception: PostgreSQL and RabbitMQ run
    // in them as their own users, in the OS temp directory rather than the harness's /dev/shm, and
    // they are removed by the fixture's stop and, when the owner is killed, by its watchdog
    // (test/support/real-taskcluster.test.ts checks both).
    const ownCleanup = ['real-taskcluster.ts', 'real-taskcluster.global.ts', 'real-taskcluster.test.ts'].map((f) => path.join(testRoot, 'support', f));
    const offenders = files(testRoot)
      .filter((f) => f !== harness && !ownCleanup.includes(f) && f !== fileURLToPath(import.meta.url))
      .filter((f) => /\btmpdir\(\)|mkdtemp(Sync)?\([^)]*(tmpdir|\/tmp)/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(testRoot, f));
    expect(offenders).toEqual([]);
  });
});
