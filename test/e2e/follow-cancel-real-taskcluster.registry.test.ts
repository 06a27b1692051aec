// follow, cancel and status's promotions in flight on the REAL Taskcluster services (the
// shared fixture of test/support/real-taskcluster.ts): `rollback --no-wait` creates the graph
// in the real Queue and writes the in-flight entry and the hold in the real Index, with a
// client holding exactly what a submitter holds (test/support/clients.ts: `tc-promote grants`'
// scopes, the hold's, the in-flight entry's and cancel's); `follow <script>` finds the group
// by that entry and follows it while a real-Queue worker (test/support/real-worker.ts: claimWork,
// the task's proxy with its claim's credentials) runs the promote and fallback tasks against
// the real registry; `cancel --yes` cancels a group no worker has claimed, in the real Queue.
// What the real services cannot do here (a Queue whose answers take seconds) is in
// follow-cancel.registry.test.ts on the emulator.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { realTaskclusterSkipped, sharedRealTaskcluster, type RealTaskcluster } from '../support/real-taskcluster.js';
import { client, listGroup, RealWorker } from '../support/real-worker.js';
import { deploySecret, startRollbackWorld, type RollbackWorld } from '../support/rollback-world.js';

const skipped = realTaskclusterSkipped();
const scripts = ['rt-follow', 'rt-cancel'];
let tc: RealTaskcluster;
let w: RollbackWorld;
let configPath: string;
let releng: { clientId: string; accessToken: string };
let worker: RealWorker | undefined;

beforeAll(async () => {
  if (skipped) return;
  tc = await sharedRealTaskcluster();
  w = await startRollbackWorld({ scripts, label: 'follow-cancel-real' });
  // The tasks go to a queue of this test file's own: no other file's worker claims them.
  const config = JSON.parse(readFileSync(w.configPath, 'utf8')) as { taskcluster: { workerPool: string; rootUrl: string } };
  config.taskcluster.workerPool = `tc-promote-tests/follow-${process.pid}`;
  config.taskcluster.rootUrl = tc.rootUrl;
  configPath = path.join(path.dirname(w.configPath), 'tc-promote-real.yml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  await client('Secrets', tc.rootUrl, tc.rootCredentials).set(deploySecret, { secret: { github_token: w.gh.token }, expires: new Date(Date.now() + 86_400_000).toISOString() });
  const clientId = `tc-promote-tests/follow-releng-${process.pid}`;
  const made = await client('Auth', tc.rootUrl, tc.rootCredentials).createClient(clientId, { description: 'submits, follows and cancels promotions', expires: new Date(Date.now() + 86_400_000).toISOString(), scopes: submitterScopes(loadConfig(configPath)) });
  releng = { clientId, accessToken: made.accessToken };
}, 300_000);

afterAll(async () => {
  await worker?.cleanup();
  await w?.stop();
});

const env = (extra: Record<string, string> = {}) => ({
  TASKCLUSTER_ROOT_URL: tc.rootUrl,
  TASKCLUSTER_CLIENT_ID: releng.clientId,
  TASKCLUSTER_ACCESS_TOKEN: releng.accessToken,
  GITHUB_API_URL: w.gh.url,
  GITHUB_TOKEN: w.gh.token,
  TC_PROMOTE_RETRY_BASE_MS: '1',
  TC_PROMOTE_POLL_INTERVAL_MS: '200',
  ...extra,
});
const rollback = (script: string, ...args: string[]) => ['rollback', script, '--config', configPath, '--reason', `roll ${script} back`, ...args];
const groupOf = (stdout: string): string => /tc-promote follow (\S{22})/.exec(stdout)?.[1] ?? '';

describe.skipIf(skipped)('on the real Taskcluster services: follow and cancel a promotion in flight', () => {
  it('rollback --no-wait, then follow <script> (found by the in-flight entry in the real Index) while a real-Queue worker runs the tasks', async () => {
    const { A, B } = w.seeded.get('rt-follow')!;
    const submitted = await runCli(rollback('rt-follow', '--yes', '--no-wait', '--no-verify'), env());
    expect(submitted.code, `${submitted.stdout}\n${submitted.stderr}`).toBe(0);
    expect(submitted.stderr).not.toContain('note: could not write the index entry');
    const group = groupOf(submitted.stdout);
    const entry = await client('Index', tc.rootUrl).findTask('scriptworker.v2.scriptworker-scripts.in-flight.rt-follow.production');
    expect(entry.data).toMatchObject({ mode: 'rollback', script: 'rt-follow', env: 'production', taskGroupId: group, by: releng.clientId, reason: 'roll rt-follow back', to: A.tag, from: B.tag });
    // status, anonymous on the Queue and the Index as Firefox-CI's anonymous role allows: the promotion in flight and the line to paste.
    const status = await runCli(['status', '--script', 'rt-follow', '--config', configPath, '--no-commits'], { TASKCLUSTER_ROOT_URL: tc.rootUrl });
    expect(status.stdout, status.stderr).toContain(`  rt-follow production: rollback to ${A.tag} submitted`);
    expect(status.stdout).toContain(`    tc-promote follow ${group} --config ${configPath}\n`);
    worker = await RealWorker.create(tc, { taskQueueId: `tc-promote-tests/follow-${process.pid}`, env: { GITHUB_API_URL: w.gh.url, TC_PROMOTE_RETRY_BASE_MS: '1' } });
    const following = runCli(['follow', 'rt-follow', '--config', configPath, '--no-verify'], env());
    const runs = await worker.runTaskGroup(group, { timeoutMs: 120_000 });
    expect(runs.map((r) => [r.label, r.state]), runs.map((r) => r.log).join('\n')).toEqual([
      ['promote-rt-follow-production', 'completed'],
      ['fallback-rt-follow-production', 'completed'],
    ]);
    const r = await following;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`following rt-follow production: rollback to ${A.tag}, task group ${group} (submitted `);
    expect(r.stderr).toMatch(/promote-rt-follow-production: .*completed\n/);
    expect(r.stdout).toContain(`rollback completed: ${w.host}/mozilla/releng-rt-follow:production now points at ${A.digest} (${A.tag})`);
    expect(r.stdout).toMatch(new RegExp(`\\nnow: +${w.host}/mozilla/releng-rt-follow:production points at ${A.digest} \\(${A.tag}\\), read from the registry; since `));
    expect(r.stdout).toContain(`\nbefore:  ${B.tag} (${B.digest})\n`);
    expect(r.stdout).toMatch(/\nhold: +held at \S+ since .* by tc-promote-tests\/follow-releng-\d+: roll rt-follow back;/);
    expect(r.stdout).toContain(`\nundo: tc-promote rollback rt-follow --env production --to ${B.tag} --reason 'undo: WHY' --config ${configPath}\n`);
    expect(await w.digestOf('rt-follow')).toBe(A.digest);
    // Over: status no longer lists it.
    const after = await runCli(['status', '--script', 'rt-follow', '--config', configPath, '--no-commits'], { TASKCLUSTER_ROOT_URL: tc.rootUrl });
    expect(after.stdout).not.toContain('in flight');
  }, 240_000);

  it('cancel --yes: the real Queue cancels both tasks (fallback first), nothing moved, the hold stays; follow then reports it did not complete', async () => {
    const { B } = w.seeded.get('rt-cancel')!;
    const submitted = await runCli(rollback('rt-cancel', '--yes', '--no-wait', '--no-verify'), env());
    expect(submitted.code, submitted.stderr).toBe(0);
    const group = groupOf(submitted.stdout);
    const dry = await runCli(['cancel', 'rt-cancel', '--config', configPath, '--dry-run'], env());
    expect(dry.stdout, dry.stderr).toContain('would cancel (--dry-run): fallback-rt-cancel-production (unscheduled), promote-rt-cancel-production (pending)');
    const r = await runCli(['cancel', 'rt-cancel', '--config', configPath, '--yes'], env());
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('cancelled: fallback-rt-cancel-production (now exception)\ncancelled: promote-rt-cancel-production (now exception)\nalready ran: nothing (no task had resolved)\n');
    expect(r.stdout).toContain(`points at ${B.digest} (${B.tag}): nothing moved`);
    expect(r.stdout).toMatch(/\nhold: +held at \S+ since /);
    const listed = await listGroup(client('Queue', tc.rootUrl, tc.rootCredentials), group);
    expect(listed.map((t) => [t.status.state, t.status.runs.at(-1)?.reasonResolved]).sort()).toEqual([
      ['exception', 'canceled'],
      ['exception', 'canceled'],
    ]);
    const followed = await runCli(['follow', group, '--config', configPath, '--no-verify'], env());
    expect(followed.code, followed.stderr).toBe(1);
    expect(followed.stdout).toContain('promote-rt-cancel-production exception: ended without a record (cancelled');
    expect(followed.stdout).toContain('rollback did not complete');
    expect(await w.digestOf('rt-cancel')).toBe(B.digest);
  }, 240_000);
});
