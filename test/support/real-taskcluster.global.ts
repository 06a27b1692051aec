// vitest's global setup for the real Taskcluster services (test/support/real-taskcluster.ts):
// a folder for the run's shared fixture and a watchdog on this (vitest's main) process. The
// fixture itself starts only when a test file asks for it (sharedRealTaskcluster()); the
// teardown stops it, and the watchdog does when vitest is killed.
import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { realTaskclusterSkipped, recordedGroups, startWatchdog, stopRecorded } from './real-taskcluster.js';

export default function setup(): () => Promise<void> {
  const skipped = realTaskclusterSkipped();
  if (skipped) process.stderr.write(`\n*** ${skipped} (unset it to run them; CI refuses it) ***\n\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tc-promote-realtc-shared-'));
  chmodSync(dir, 0o755);
  const watchdog = startWatchdog(dir);
  process.env.TC_PROMOTE_REAL_TC_SHARED = dir;
  return async () => {
    const started = recordedGroups(dir).length > 0;
    await stopRecorded(dir);
    watchdog.release();
    if (started) process.stderr.write('[real taskcluster] stopped\n');
  };
}
