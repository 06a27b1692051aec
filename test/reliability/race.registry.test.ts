// Two promotions of the same moving tag started together: exactly one wins, the other exits 3
// and changes nothing, and the pushlog shows one deploy. The Queue's atomic createTask is the
// arbiter: promote task ids are keyed on (tag, digest at plan time, attempt).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { headManifest, listTags } from '../support/fixtures.js';
import { makeTempDir, type RunningRegistry } from '../support/registry.js';
import { submitterScopes } from '../support/clients.js';
import { startSeededStack, type SeededStack } from '../support/stacks.js';
import { P, now, signing, type SeededHistory } from '../support/scenario.js';
import type { TaskclusterEmulator } from '../support/taskcluster-emulator.js';

let stack: SeededStack;
let reg: RunningRegistry;
let tc: TaskclusterEmulator;
let seeded: SeededHistory;

beforeAll(async () => {
  stack = await startSeededStack();
  ({ reg, tc, seeded } = stack);
  tc.addClient('releng', submitterScopes(), 'race-token');
});
afterAll(async () => stack?.stop());

const env = () => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'race-token' });

describe('racing promotions', () => {
  it('lets exactly one of two concurrent promotions of production through', async () => {
    const tagsBefore = (await listTags(reg, signing)).sort();
    // Two release engineers at once: one rolls back to previous-known-good, one to an older deploy.
    const [a, b] = await Promise.all([
      runCli(['submit', 'signingscript', '--registry', reg.url, '--reason', 'engineer A', '--json'], env()),
      runCli(['submit', 'signingscript', '--registry', reg.url, '--to', P.P5, '--reason', 'engineer B', '--json'], env()),
    ]);
    const results = [a, b];
    expect(results.map((r) => r.code).sort()).toEqual([0, 3]);
    const winner = results.find((r) => r.code === 0)!;
    const loser = results.find((r) => r.code === 3)!;
    expect(loser.stderr).toMatch(/promote-signingscript-production/);
    expect(loser.stderr).toMatch(/409|already/i);
    expect(loser.stderr).not.toContain('race-token');
    // The loser created nothing: every task in the emulator belongs to the winner's group.
    const groups = new Set([...tc.tasks.values()].map((t) => (t.task as { taskGroupId: string }).taskGroupId));
    expect(groups).toEqual(new Set([winner.json().taskGroupId]));
    // Nothing in the registry moved yet.
    expect((await listTags(reg, signing)).sort()).toEqual(tagsBefore);

    // The winner's promote task runs, as a worker would run it.
    const promote = [...tc.tasks.values()].map((t) => t.task as unknown as { tags: { kind: string }; payload: { command: string[]; env: Record<string, string> } }).find((t) => t.tags.kind === 'promote')!;
    const [, ...args] = promote.payload.command;
    const ran = await runCli([...args, '--registry', reg.url], { ...env(), ...promote.payload.env, TC_PROMOTE_ARTIFACTS: makeTempDir('tcp-race-') });
    expect(ran.code).toBe(0);
    const wantDigest = a.code === 0 ? seeded.images.img4b!.digest : seeded.images.img4!.digest;
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(wantDigest);

    // The pushlog shows one new deploy.
    const added = (await listTags(reg, signing)).filter((t) => !tagsBefore.includes(t));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^production-20210301000000-/);
    const history = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env())).json();
    expect(history.current.tag).toBe(added[0]);

    // The same race again, now from the new state: still exactly one.
    const [c, d] = await Promise.all([
      runCli(['submit', 'signingscript', '--registry', reg.url, '--to', P.P8, '--json'], env()),
      runCli(['submit', 'signingscript', '--registry', reg.url, '--to', P.P3, '--json'], env()),
    ]);
    expect([c.code, d.code].sort()).toEqual([0, 3]);
  });

  it('a new attempt from the same state is possible when asked for explicitly', async () => {
    const first = await runCli(['submit', 'signingscript', '--registry', reg.url, '--dry-run', '--json'], env());
    const again = await runCli(['submit', 'signingscript', '--registry', reg.url, '--attempt', '2', '--dry-run', '--json'], env());
    const id = (r: typeof first) => r.json().tasks.find((t: { label: string }) => t.label.startsWith('promote')).taskId;
    expect(id(first)).not.toBe(id(again));
    expect(id(first)).toBe(id(await runCli(['submit', 'signingscript', '--registry', reg.url, '--dry-run', '--json'], env())));
  });
});
