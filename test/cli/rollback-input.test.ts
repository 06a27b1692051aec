// rollback and promote refuse input that could never succeed before anything is read or
// created (exit 2): a --timeout of zero submitted the graph and reported it unfinished at once.
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('rollback --timeout', () => {
  it('of zero is bad input, refused before anything is planned or created', async () => {
    for (const [command, ...extra] of [['rollback'], ['promote', '--from-env', 'dev']] as const) {
      const r = await runCli([command, 'signingscript', '--timeout', '0s', '--yes', ...extra], {
        TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9',
        TASKCLUSTER_CLIENT_ID: 'x',
        TASKCLUSTER_ACCESS_TOKEN: 'y',
      });
      expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `tc-promote ${command}: error: --timeout: "0s" is no time to follow the task group; give at least 1s, or --no-wait to return once the tasks exist\n`]);
    }
  });
});
