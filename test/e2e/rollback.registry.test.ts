// End to end on real parts where they exist: plan a rollback against the real registry,
// submit the graph to the Taskcluster emulator, then run each promote task the way a worker
// would (its payload command and env) against the same registry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { headManifest } from '../support/fixtures.js';
import { makeTempDir, type RunningRegistry } from '../support/registry.js';
import { startSeededStack, type SeededStack } from '../support/stacks.js';
import { P, now, rev, signing, type SeededHistory } from '../support/scenario.js';
import type { TaskclusterEmulator } from '../support/taskcluster-emulator.js';

let stack: SeededStack;
let reg: RunningRegistry;
let tc: TaskclusterEmulator;
let seeded: SeededHistory;

beforeAll(async () => {
  stack = await startSeededStack();
  ({ reg, tc, seeded } = stack);
  tc.addClient('releng', submitterScopes(), 'e2e-secret-token');
});
afterAll(async () => stack?.stop());

const env = () => ({
  TC_PROMOTE_NOW: now,
  DOCKER_CONFIG: reg.dockerConfigDir,
  TASKCLUSTER_ROOT_URL: tc.rootUrl,
  TASKCLUSTER_CLIENT_ID: 'releng',
  TASKCLUSTER_ACCESS_TOKEN: 'e2e-secret-token',
});

/** What a docker-worker would run: the payload's command, with the test registry in place of Docker Hub. */
async function runTaskCommand(task: { payload: { command: string[]; env?: Record<string, string> } }, artifacts: string) {
  const [program, ...args] = task.payload.command;
  expect(program).toBe('tc-promote');
  return runCli([...args, '--registry', reg.url], { ...env(), ...task.payload.env, TC_PROMOTE_ARTIFACTS: artifacts });
}

describe('rollback end to end', () => {
  it('plans, submits, and the promote task points production back at the previous-known-good image', async () => {
    const submitted = await runCli(['submit', 'signingscript', '--registry', reg.url, '--reason', 'signing broke', '--json'], env());
    expect(submitted.stderr).not.toContain('e2e-secret-token');
    expect(submitted.code).toBe(0);
    const created = [...tc.tasks.values()];
    const promote = created.find((t) => (t.task as unknown as { tags: { kind: string } }).tags.kind === 'promote')!;
    expect(promote).toBeDefined();
    const task = promote.task as unknown as { payload: { command: string[]; env: Record<string, string> }; routes: string[]; schedulerId: string };
    expect(task.schedulerId).toBe('scriptworker-level-3');
    expect(task.routes).toContain('index.scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.latest');
    // Compare-and-swap on the digest production had at plan time; the new archive tag records the rollback.
    expect(task.payload.command).toEqual(expect.arrayContaining(['--expect-current', seeded.images.img6!.digest]));
    const archive = task.payload.command[task.payload.command.indexOf('--archive-tag') + 1]!;
    expect(archive).toBe(`production-20210301000000-${rev.r4}`);

    const artifacts = makeTempDir('tcp-artifacts-');
    const ran = await runTaskCommand(task, artifacts);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(seeded.images.img4b!.digest);
    expect((await headManifest(reg, signing, archive))!.digest).toBe(seeded.images.img4b!.digest);
    const record = JSON.parse(readFileSync(join(artifacts, 'promotion.json'), 'utf8'));
    expect(record).toMatchObject({ script: 'signingscript', env: 'production', from: P.P10, to: P.P7, digest: seeded.images.img4b!.digest, revision: rev.r4, reason: 'signing broke', time: '2021-03-01T00:00:00.000Z', outcome: 'written', provenance: { matches: true } });

    // The pushlog now shows the rollback as the newest deploy, and it is current.
    const history = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env())).json();
    expect(history.current.tag).toBe(archive);
    expect(history.current.redeployOf).toBe(P.P7);

    // Running the same task again (a rerun) converges: nothing moves, exit 0.
    const again = await runTaskCommand(task, artifacts);
    expect(again.code).toBe(0);
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(seeded.images.img4b!.digest);

    // A second, stale plan's promote task (expecting the old digest) cannot move it: exit 3.
    const stale = { payload: { ...task.payload, command: task.payload.command.map((a) => (a === archive ? `production-20210301000100-${rev.r4}` : a)).map((a) => (a.endsWith(seeded.images.img4b!.digest) ? a.replace(seeded.images.img4b!.digest, seeded.images.img5!.digest) : a)) } };
    const conflicted = await runTaskCommand(stale, artifacts);
    expect(conflicted.code).toBe(3);
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(seeded.images.img4b!.digest);
  });
});
