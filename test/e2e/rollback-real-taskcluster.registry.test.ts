// `tc-promote rollback`, `promote` and `submit` against the REAL Taskcluster services (issue 17;
// these cases were on the Taskcluster emulator in rollback-follow, rollback-interrupt and
// rollback.registry.test.ts): the graph created in the real Queue with a client of the real Auth
// holding exactly what `tc-promote grants` lists, its dependencies resolved by the queue's own
// resolver, the promote and fallback tasks claimed and run by a worker of the real Queue API
// (./support/real-worker.ts; the deploy secret read from the real Secrets service through the
// task's proxy), the hold written into the real Index; followed to the end, `--no-wait`,
// `--timeout`, Ctrl-C (SIGINT to the real process) while it follows, a second graph from the
// same state refused by the real Queue (its own 409).
//
// What stands in: GitHub's API (the GitHub emulator over a real git repository; no GitHub here).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runCli } from '../support/cli.js';
import { realTaskclusterSkipped } from '../support/real-taskcluster.js';
import { startRealRollbackWorld, type RealRollbackWorld } from '../support/real-rollback-world.js';
import { client, listGroup } from '../support/real-worker.js';
import { stamp } from '../support/rollback-world.js';

const skipped = realTaskclusterSkipped();
const scripts = ['rr-ok', 'rr-promote', 'rr-submit', 'rr-nowait', 'rr-timeout', 'rr-sigint'];
const day = 86_400_000;
let w: RealRollbackWorld;

beforeAll(async () => {
  if (skipped) return;
  // Polls every 200 ms: the real Queue, not an in-process map.
  w = await startRealRollbackWorld({ scripts, label: 'rollback-real', env: { TC_PROMOTE_POLL_INTERVAL_MS: '200' } });
}, 300_000);

afterAll(async () => w?.stop());

const groupOf = (stdout: string): string => {
  const url = /(?:submitted \d+ task\(s\)|task group): (\S+)/.exec(stdout)?.[1];
  if (!url) throw new Error(`no task group in:\n${stdout}`);
  return url.split('/').at(-1)!;
};
const anonymousQueue = () => client('Queue', w.tc.rootUrl);

describe.skipIf(skipped)('on the real Taskcluster services: rollback, promote, submit followed to the end', () => {
  it('rollback succeeds: the real Queue runs promote then fallback, followed to the end; exit 0, the record, the undo, the hold in the real Index', async () => {
    const { A, B } = w.seeded.get('rr-ok')!;
    const r = await w.whileWorking(runCli(w.rollback('rr-ok', '--yes', '--fallback', '--no-verify'), w.env()));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    // What will move, with the commits undone, before anything was created.
    const host = w.reg.host;
    expect(r.stdout).toContain(`rollback rr-ok production (${host}/mozilla/releng-rr-ok:production)`);
    expect(r.stdout).toContain(`  from  ${B.tag}\n        revision ${w.repo.commits[3]}, deployed 2d ago`);
    expect(r.stdout).toContain(`  to    ${A.tag}\n        revision ${w.repo.commits[1]}, deployed 30d ago`);
    expect(r.stdout).toContain(`        ${host}/mozilla/releng-rr-ok:production: ${B.digest} -> ${A.digest} (only if still at the first)`);
    expect(r.stdout).toMatch(new RegExp(`        new archive tag production-\\d{14}-${w.repo.commits[1]}\\n`));
    expect(r.stdout).toContain(`  2 commit(s) undone:\n    ${w.repo.commits[3]!.slice(0, 12)} Commit 3 (Release Engineer)\n    ${w.repo.commits[2]!.slice(0, 12)} Commit 2 (Release Engineer)\n    ${w.gh.url}/mozilla-releng/scriptworker-scripts/compare/${w.repo.commits[1]}...${w.repo.commits[3]}`);
    expect(r.stdout.indexOf('commit(s) undone')).toBeLessThan(r.stdout.indexOf('submitted 2 task(s)'));
    expect(r.stdout).toContain(`submitted 2 task(s): ${w.tc.rootUrl}/tasks/groups/`);
    expect(r.stderr).toMatch(/created promote-rr-ok-production \S+\n/);
    expect(r.stderr).toMatch(/promote-rr-ok-production: (pending|running) -> completed\n/);
    expect(r.stderr).toMatch(/fallback-rr-ok-production: .*-> completed\n/);
    expect(r.stdout).toContain(`rollback completed: ${w.reg.host}/mozilla/releng-rr-ok:production now points at ${A.digest} (${A.tag})`);
    expect(r.stdout).toContain('fallback: the fallback had nothing to do');
    expect(r.stdout).toMatch(new RegExp(`record: from ${B.tag}, to ${A.tag}, digest ${A.digest}, revision ${w.repo.commits[1]}, reason roll rr-ok back, requester \\S+, outcome written, archive tag production-\\d{14}-${w.repo.commits[1]}`));
    expect(r.stdout).toContain(`undo: tc-promote rollback rr-ok --env production --to ${B.tag} --reason 'undo: WHY' --config ${w.configPath}`);
    expect(await w.digestOf('rr-ok')).toBe(A.digest);
    // The tasks as the real Queue holds them: on this world's queue, completed, the fallback after the promote.
    const tasks = await listGroup(anonymousQueue(), groupOf(r.stdout));
    expect(tasks.map((t) => [(t.task.tags as Record<string, string>).kind, t.task.taskQueueId, t.status.state]).sort()).toEqual([
      ['fallback', w.workerPool, 'completed'],
      ['promote', w.workerPool, 'completed'],
    ]);
    // Each ran once, under the claim's temporary credentials (the worker's proxy signed with them).
    const ran = w.worker.runs.filter((run) => run.label.endsWith('-rr-ok-production'));
    expect(ran.map((run) => [run.label, run.state, run.runId])).toEqual([
      ['promote-rr-ok-production', 'completed', 0],
      ['fallback-rr-ok-production', 'completed', 0],
    ]);
    // The hold, written by rollback into the real Index.
    const hold = await client('Index', w.tc.rootUrl).findTask('scriptworker.v2.scriptworker-scripts.hold.rr-ok.production');
    expect(hold.taskId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(r.stdout + r.stderr).not.toContain(w.releng.accessToken);
    expect(r.stdout + r.stderr).not.toContain(w.gh.token);
  }, 180_000);

  it('promote: what dev runs goes to production, followed to the end on the real Queue', async () => {
    await w.push('rr-promote', w.repo.commits[5]!, ['dev', `dev-${stamp(Date.now() - 3 * day)}-${w.repo.commits[5]}`], Date.now() - 3 * day);
    const devDigest = await w.digestOf('rr-promote', 'dev');
    const r = await w.whileWorking(runCli(['promote', 'rr-promote', '--from-env', 'dev', '--config', w.configPath, '--reason', 'dev ran it for days', '--yes', '--no-verify'], w.env()));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('promote completed:');
    expect(await w.digestOf('rr-promote')).toBe(devDigest);
    expect(r.stdout).toContain(`undo: tc-promote rollback rr-promote --env production --to ${w.seeded.get('rr-promote')!.B.tag}`);
  }, 180_000);

  it('submit creates the graph in the real Queue; the same graph from the same state again is refused by the real Queue (409): exit 3, nothing created', async () => {
    const { A } = w.seeded.get('rr-submit')!;
    const submit = ['submit', 'rr-submit', '--to', A.tag, '--config', w.configPath, '--reason', 'submitted by hand'];
    const first = await runCli(submit, w.env());
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    const group = groupOf(first.stdout);
    const created = await listGroup(anonymousQueue(), group);
    expect(created.map((t) => (t.task.tags as Record<string, string>).kind).sort()).toEqual(['fallback', 'promote']);
    expect(created.flatMap((t) => t.task.scopes as string[])).toContain(`secrets:get:${w.secretName}`);
    // Another graph (a new group) from the same state: the promote task's id is keyed on it.
    const second = await runCli(submit, w.env());
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(3);
    expect(second.stderr).toMatch(/409 RequestConflict/);
    expect(second.stderr).toContain('another promotion of this tag from the same digest was submitted first');
    const runs = await w.worker.runTaskGroup(group, { timeoutMs: 120_000 });
    expect(runs.map((run) => [run.label, run.state]), runs.map((run) => run.log).join('\n')).toEqual([
      ['promote-rr-submit-production', 'completed'],
      ['fallback-rr-submit-production', 'completed'],
    ]);
    expect(await w.digestOf('rr-submit')).toBe(A.digest);
  }, 180_000);

  it('--no-wait returns once the tasks exist in the real Queue, and says where to follow; the worker runs them after', async () => {
    const r = await runCli(w.rollback('rr-nowait', '--yes', '--no-wait'), w.env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`submitted 2 task\\(s\\): ${w.tc.rootUrl}/tasks/groups/\\S+\\n`));
    expect(r.stdout).toMatch(/not following \(--no-wait\): watch \S+, or follow it here:\n  tc-promote follow \S{22} --config \S+\n  \(tc-promote cancel \S{22} --config \S+ cancels what has not run\)\nundo: tc-promote rollback rr-nowait/);
    expect(r.stderr).not.toMatch(/-> /);
    const group = groupOf(r.stdout);
    expect((await listGroup(anonymousQueue(), group)).map((t) => t.status.state).sort()).toEqual(['pending', 'unscheduled']);
    expect(await w.digestOf('rr-nowait')).toBe(w.seeded.get('rr-nowait')!.B.digest);
    await w.worker.runTaskGroup(group, { timeoutMs: 120_000 });
    expect(await w.digestOf('rr-nowait')).toBe(w.seeded.get('rr-nowait')!.A.digest);
  }, 180_000);

  it('--timeout: no worker takes the tasks; exit 1 naming what the real Queue says is still open; the tasks go on', async () => {
    const started = Date.now();
    const r = await runCli(w.rollback('rr-timeout', '--yes', '--timeout', '2s'), w.env());
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/not finished within 2s: promote-rr-timeout-production pending, fallback-rr-timeout-production unscheduled; the tasks go on: follow \S+\/tasks\/groups\//);
    expect(r.stdout).toContain(`if it completes, undo: tc-promote rollback rr-timeout --env production --to ${w.seeded.get('rr-timeout')!.B.tag} --reason 'undo: WHY' --config ${w.configPath}\n`);
    await w.worker.runTaskGroup(groupOf(r.stdout), { timeoutMs: 120_000 });
    expect(await w.digestOf('rr-timeout')).toBe(w.seeded.get('rr-timeout')!.A.digest);
  }, 180_000);

  it('Ctrl-C while it follows the real task group: stops at once, says the tasks exist and go on and where; nothing cancelled', async () => {
    const child = spawn(process.execPath, [binPath, ...w.rollback('rr-sigint', '--yes')], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, COLUMNS: '9999', ...w.env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = performance.now() + 60_000;
    while (!/promote-rr-sigint-production: pending/.test(stderr) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(stderr).toContain('promote-rr-sigint-production: pending');
    await new Promise((r) => setTimeout(r, 300));
    const sent = performance.now();
    child.kill('SIGINT');
    const code = await closed;
    expect(performance.now() - sent).toBeLessThan(5_000);
    expect(code, `${stdout}\n${stderr}`).toBe(1);
    const group = groupOf(stdout);
    expect(stdout).toContain(`stopped: SIGINT received, while following the task group: the 2 task(s) were created and go on in Taskcluster (promote-rr-sigint-production pending, fallback-rr-sigint-production unscheduled); nothing was cancelled: follow ${w.tc.rootUrl}/tasks/groups/${group}\n`);
    expect(stderr).not.toContain('before it could say where it stopped');
    // The real Queue still holds them, uncancelled; a worker takes them and production moves.
    expect((await listGroup(anonymousQueue(), group)).map((t) => t.status.state).sort()).toEqual(['pending', 'unscheduled']);
    await w.worker.runTaskGroup(group, { timeoutMs: 120_000 });
    expect(await w.digestOf('rr-sigint')).toBe(w.seeded.get('rr-sigint')!.A.digest);
  }, 180_000);
});
