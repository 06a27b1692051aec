// `tc-promote rollback` from end to end on the Taskcluster emulator, for what the real services
// cannot do for a test: the real registry behind the fault proxy (a registry refusing writes),
// a race (the tag moved between the plan and the promote task, by the local task runner's
// hook), verification on worker pools whose workers' claims the test decides, and a Queue that
// lies (every task "completed" while nothing ran); plus confirmation (a fake terminal and a real
// pseudo-terminal), the hold and the promote refusal into a held environment, and three
// promotions in a row. The plain cases (followed to the end, --no-wait, --timeout, promote, a
// second graph from the same state) run on the real Taskcluster services:
// rollback-real-taskcluster.registry.test.ts. See test/support/README.md.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../support/registry.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { onPseudoTerminal, ptyAvailable } from '../support/pty.js';
import { startRollbackWorld, stamp, type RollbackWorld } from '../support/rollback-world.js';
import { binPath, runCli, type CliResult } from '../support/cli.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import type { GitFixture } from '../support/git-fixture.js';
import type { GitHubEmulator } from '../support/github-emulator.js';
import { LocalTaskRunner } from '../support/task-runner.js';
import type { TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const scripts = ['rb-promote', 'rb-fail', 'rb-conflict', 'rb-refuse', 'rb-confirm', 'rb-pty', 'rb-again', 'rb-hold', 'rb-verify', 'rb-lie'];

let w: RollbackWorld;
let proxy: FaultProxy;
let tc: TaskclusterEmulator;
let repo: GitFixture;
let gh: GitHubEmulator;
let configPath: string;
/** Per script: the previous-known-good (A, a month old) and current (B, two days old). */
let seeded: RollbackWorld['seeded'];

const day = 86_400_000;
const push = (script: string, commit: string, tags: string[], createdMs: number) => w.push(script, commit, tags, createdMs);

beforeAll(async () => {
  // Everything reaches the registry through a proxy that can fail chosen requests.
  w = await startRollbackWorld({ scripts, label: 'rollback', faultProxy: true, env: { TC_PROMOTE_POLL_INTERVAL_MS: '20' } });
  ({ tc, repo, gh, configPath, seeded } = w);
  proxy = w.proxy!;
  // rb-promote: dev runs commit 5, which production never had (and it has lived two days there).
  await push('rb-promote', repo.commits[5]!, ['dev', `dev-${stamp(Date.now() - 3 * day)}-${repo.commits[5]}`], Date.now() - 3 * day);
}, 120_000);

afterAll(async () => w?.stop());

beforeEach(() => proxy.clear());

const env = (extra: Record<string, string> = {}) => w.env(extra);
const rollback = (script: string, ...args: string[]) => w.rollback(script, ...args);
const whileWorking = <T,>(command: Promise<T>): Promise<T> => w.whileWorking(command);
const tasksOfGroup = (): Set<string> => new Set([...tc.tasks.values()].map((t) => t.task.taskGroupId));
const digestOf = (script: string, tag?: string) => w.digestOf(script, tag);

describe('rollback: plan, confirm, submit, follow to the end', () => {
  it('a promote that fails: the fallback force-pushes the target revision on the GitHub emulator; exit 1, and says so', async () => {
    const { A, B } = seeded.get('rb-fail')!;
    // The registry refuses every manifest write (an outage of writes): the promote task fails.
    proxy.add({ method: 'PUT', path: /\/v2\/mozilla\/releng-rb-fail\/manifests\//, fault: { kind: 'status', status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"read-only"}]}' }, times: Infinity });
    const branchBefore = repo.rev('refs/heads/production-rb-fail');
    const r = await whileWorking(runCli(rollback('rb-fail', '--yes', '--fallback'), env()));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(/promote-rb-fail-production: (pending|running) -> failed\n/);
    expect(r.stdout).toMatch(/promote-rb-fail-production failed: .*HTTP 503 UNAVAILABLE/);
    expect(r.stdout).toContain('rollback did not complete\n');
    expect(r.stdout).toContain(`fallback: the fallback force-pushed ${repo.commits[1]} to production-rb-fail (old head ${branchBefore}`);
    expect(repo.rev('refs/heads/production-rb-fail')).toBe(repo.commits[1]);
    expect(await digestOf('rb-fail')).toBe(B.digest);
    expect(r.stdout).not.toContain('undo:');
    void A;
  }, 120_000);

  it('a conflict: the tag moved before the promote task ran; exit 3, nothing force-pushed without --fallback', async () => {
    const { B } = seeded.get('rb-conflict')!;
    let moved = '';
    const racing = new LocalTaskRunner(tc, {
      env: { GITHUB_API_URL: gh.url, TC_PROMOTE_RETRY_BASE_MS: '1' },
      beforeTask: async (_id, task) => {
        // Someone deploys a new image between the plan and the promote task.
        if (task.tags?.kind === 'promote' && !moved) moved = (await push('rb-conflict', repo.commits[4]!, ['production'], Date.now())).digest;
      },
    });
    const command = runCli(rollback('rb-conflict', '--yes'), env());
    let done = false;
    void command.finally(() => (done = true));
    while (!done) {
      await racing.runUntilIdle();
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const r = await command;
    await racing.cleanup();
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(r.stdout).toContain(`points at ${moved}, not ${B.digest} as planned: it moved since the plan; nothing was written`);
    expect(r.stdout).toContain('rollback did not complete: something moved since the plan (conflict)');
    expect(r.stdout).toContain('fallback: no fallback was allowed (--fallback): nothing was force-pushed');
    expect(await digestOf('rb-conflict')).toBe(moved);
    expect(repo.rev('refs/heads/production-rb-conflict')).toBe(repo.commits[3]);
  }, 120_000);

  it('roll back, undo, roll back again: three promotions, no --attempt (a task id per state: the current deploy is a new archive tag each time)', async () => {
    const { A, B } = seeded.get('rb-again')!;
    const first = await whileWorking(runCli(rollback('rb-again', '--yes'), env()));
    expect(first.code, `${first.stdout}\n${first.stderr}`).toBe(0);
    expect(await digestOf('rb-again')).toBe(A.digest);
    const undo = /undo: tc-promote (rollback rb-again .*)\n/.exec(first.stdout)![1]!.replace("'undo: WHY'", 'undo-it').split(' ');
    const second = await whileWorking(runCli([...undo, '--yes'], env()));
    expect(second.code, `${second.stdout}\n${second.stderr}`).toBe(0);
    expect(await digestOf('rb-again')).toBe(B.digest);
    const third = await whileWorking(runCli(rollback('rb-again', '--to', A.tag, '--yes'), env()));
    expect(third.code, `${third.stdout}\n${third.stderr}`).toBe(0);
    expect(await digestOf('rb-again')).toBe(A.digest);
    const promoteIds = [first, second, third].map((r) => /created promote-rb-again-production (\S+)/.exec(r.stderr)![1]);
    expect(new Set(promoteIds).size).toBe(3);
  }, 180_000);

  it('holds by default: the index entry says who, why, which image; the last lines say what runs, before, the hold, the workers, the next push, the undo; promote refuses it unless --release', async () => {
    const { A, B } = seeded.get('rb-hold')!;
    const r = await whileWorking(runCli(rollback('rb-hold', '--yes'), env()));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const entry = tc.index.get('scriptworker.v2.scriptworker-scripts.hold.rb-hold.production')!;
    expect(entry.data).toMatchObject({ held: true, script: 'rb-hold', env: 'production', by: 'releng-oncall', reason: 'roll rb-hold back', image: { tag: A.tag, digest: A.digest } });
    expect(r.stderr).toContain(`held rb-hold production at ${A.tag}`);
    // What the person agreed to, above the question, and kept in the promote task's record as confirmed.
    const reference = `${proxy.host}/mozilla/releng-rb-hold:production`;
    const confirmed = {
      from: `${B.tag} (revision ${repo.commits[3]}, ${B.digest})`,
      to: `${A.tag} (revision ${repo.commits[1]}, ${A.digest})`,
      hold: `held at ${A.tag} by releng-oncall once confirmed, before any task is created (roll rb-hold back); tc-promote release rb-hold --env production ends it`,
      nextPush: `writes its archive tag only; ${reference} stays at ${A.tag} until released`,
    };
    expect(r.stdout).toContain(`\n  hold  ${confirmed.hold}\n  next push  ${confirmed.nextPush}\n`);
    const promoteTask = [...tc.tasks.values()].find((t) => (t.task.tags as Record<string, string>).kind === 'promote' && (t.task.tags as Record<string, string>).script === 'rb-hold')!;
    const record = JSON.parse(promoteTask.artifacts.get('public/promotion.json')!.body.toString('utf8'));
    expect(record.confirmed).toEqual(confirmed);
    expect(record.outcome).toBe('written');
    const lines = r.stdout.trimEnd().split('\n');
    const from = lines.findIndex((l) => l.startsWith('now: '));
    const tail = lines.slice(from);
    expect(tail[0]).toMatch(new RegExp(`^now: +${proxy.host}/mozilla/releng-rb-hold:production points at ${A.digest} \\(${A.tag}\\), read from the registry; since 20\\d\\d-`));
    expect(tail[1]).toBe(`before:  ${B.tag} (${B.digest})`);
    expect(tail[2]).toMatch(/^hold: +held at \S+ since .* by releng-oncall: roll rb-hold back; a push writes its archive tag but does not move the moving tag; release: tc-promote release rb-hold --env production$/);
    expect(tail[3]).toBe('workers: no worker pools configured for this script and environment (config/worker-pools.json, tc-promote pools): not verified');
    expect(tail[4]).toBe(`next push: writes its archive tag only; ${proxy.host}/mozilla/releng-rb-hold:production stays until tc-promote release rb-hold --env production`);
    expect(tail[5]).toMatch(/^undo: tc-promote rollback rb-hold /);
    // Forward into a held environment: refused, nothing created; --release releases and promotes.
    const before = tc.tasks.size;
    await push('rb-hold', repo.commits[5]!, ['dev', `dev-${stamp(Date.now() - day)}-${repo.commits[5]}`], Date.now() - day);
    const promoteArgs = ['promote', 'rb-hold', '--from-env', 'dev', '--config', configPath, '--reason', 'dev ran it', '--yes', '--no-verify'];
    const refused = await runCli(promoteArgs, env());
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/promote: rb-hold production is held since \S+ by releng-oncall \(roll rb-hold back\); --release releases the hold and promotes, or tc-promote release rb-hold --env production first; nothing was created/);
    expect(tc.tasks.size).toBe(before);
    const promoted = await whileWorking(runCli([...promoteArgs, '--release'], env()));
    expect(promoted.code, `${promoted.stdout}\n${promoted.stderr}`).toBe(0);
    expect(promoted.stderr).toMatch(/released the hold of rb-hold production \(held since \S+ by releng-oncall\)/);
    expect(tc.index.get('scriptworker.v2.scriptworker-scripts.hold.rb-hold.production')!.data).toMatchObject({ held: false, releasedBy: 'releng-oncall', by: 'releng-oncall' });
    expect(promoted.stdout).toMatch(/\nhold: +not held \(released by releng-oncall/);
    const again = await runCli(['release', 'rb-hold', '--config', configPath], env());
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('rb-hold production is not held (released by releng-oncall');
    const held = await runCli(['hold', 'rb-hold', '--config', configPath, '--reason', 'watching it'], env());
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toMatch(new RegExp(`^rb-hold production: held at production-\\d{14}-${repo.commits[5]} since `));
    const released = await runCli(['release', 'rb-hold', '--config', configPath, '--reason', 'done'], env());
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toMatch(/^rb-hold production: released \(held since \S+ by releng-oncall: watching it\); the next push moves the moving tag\n$/);
    expect((await runCli(['hold', 'rb-hold', '--config', configPath], env())).stderr).toContain('--reason: missing');
  }, 180_000);

  it('a production rollback needs a reason, as the UI action does: exit 2 before anything is read', async () => {
    const r = await runCli(['rollback', 'rb-hold', '--config', configPath, '--yes'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--reason: a production rollback needs a reason, as the UI action does');
  });

  it('verifies on the workers: the pools of the script, workers whose first claim is after the move, their tasks', async () => {
    const pool = 'scriptworker-k8s/gecko-3-rbverify';
    const poolsFile = path.join(makeTempDir('pools-'), 'worker-pools.json');
    writeFileSync(poolsFile, JSON.stringify({ source: 'test', pools: { 'rb-verify': { production: [pool, 'scriptworker-k8s/comm-3-rbverify'] } }, unmatched: [] }));
    // An old pod, from before the move.
    const work = (worker: string, state: 'completed' | 'failed') => {
      const id = niceSlugid();
      tc.insertTask(id, { taskGroupId: id, taskQueueId: pool, created: new Date().toISOString(), deadline: new Date(Date.now() + 3_600_000).toISOString(), expires: new Date(Date.now() + 86_400_000).toISOString(), payload: {}, metadata: { name: 'verify', description: '', owner: 'x@example.com', source: 'https://example.com' } }, 'pending');
      tc.claimTask(id, { workerGroup: 'gecko-3-rbverify', workerId: worker });
      tc.resolveTask(id, state);
    };
    work('old-pod', 'completed');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const r = await whileWorking(runCli(rollback('rb-verify', '--yes', '--worker-pools', poolsFile, '--verify-timeout', '3s'), env({ TC_PROMOTE_VERIFY_INTERVAL_MS: '20' })));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('workers: no new workers yet in 3s: the pods have not been replaced');
    expect(r.stdout).toContain('  scriptworker-k8s/gecko-3-rbverify: no new workers yet (of 1)');
    expect(r.stdout).toContain('  scriptworker-k8s/comm-3-rbverify: no new workers yet (of 0)');
    // Back again, and this time a new pod comes up after the move and completes a task.
    const { B } = seeded.get('rb-verify')!;
    const done = whileWorking(runCli(rollback('rb-verify', '--yes', '--worker-pools', poolsFile, '--verify-timeout', '5s', '--to', B.tag), env({ TC_PROMOTE_VERIFY_INTERVAL_MS: '20' })));
    const waitStart = Date.now();
    while ((await digestOf('rb-verify')) !== B.digest && Date.now() - waitStart < 20_000) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    work('new-pod', 'completed');
    const r2 = await done;
    expect(r2.code, `${r2.stdout}\n${r2.stderr}`).toBe(0);
    expect(r2.stdout).toMatch(/  scriptworker-k8s\/gecko-3-rbverify: 1 new worker\(s\) since \S+ \(of 2\), their tasks 1 completed, 0 failed/);
    expect(r2.stderr).toMatch(/workers \+\S+: gecko-3-rbverify 1 new, 1 completed, 0 failed; comm-3-rbverify 0 new/);
  }, 180_000);

  it('a Queue that reports every task completed while nothing ran is not a success: the moving tag is read at the end (exit 1)', async () => {
    const before = await digestOf('rb-lie');
    const command = runCli(rollback('rb-lie', '--yes', '--no-verify'), env());
    let finished = false;
    const result = command.finally(() => (finished = true));
    while (!finished) {
      for (const id of tc.pendingTasks()) {
        if ((tc.tasks.get(id)!.task as { tags?: { script?: string } }).tags?.script !== 'rb-lie') continue;
        tc.claimTask(id);
        tc.resolveTask(id, 'completed');
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const r = await result;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
    expect(r.stdout).toContain(`rollback did not take: every task completed, but ${proxy.host}/mozilla/releng-rb-lie:production points at ${before}`);
    expect(r.stdout).not.toContain('now points at');
    expect(r.stdout).not.toContain('undo:');
  }, 120_000);

  it('without a terminal and without --yes: prints what would move, refuses (exit 2), creates nothing', async () => {
    const groups = tasksOfGroup();
    const creates = tc.callsOf('createTask').length;
    const r = await runCli(rollback('rb-refuse'), env());
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`  to    ${seeded.get('rb-refuse')!.A.tag}`);
    expect(r.stderr).toContain('rollback: no terminal to confirm on; pass --yes to submit without asking (what would move is printed above); nothing was created');
    expect(tc.callsOf('createTask').length).toBe(creates);
    expect(tasksOfGroup()).toEqual(groups);
  });
});

describe('plan lists the commits too', () => {
  it('in the table and as commits in --json; a note when GitHub is not configured', async () => {
    const { A, B } = seeded.get('rb-refuse')!;
    const table = await runCli(['plan', 'rb-refuse', '--config', configPath], env());
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(`  commits:   2 commit(s) undone:\n               ${repo.commits[3]!.slice(0, 12)} Commit 3 (Release Engineer)`);
    const json = (await runCli(['plan', 'rb-refuse', '--config', configPath, '--json'], env())).json<{ commits: Record<string, unknown> }>();
    expect(json.commits).toMatchObject({ state: 'listed', direction: 'undone', from: repo.commits[3], to: repo.commits[1], total: 2, compareUrl: `${gh.url}/mozilla-releng/scriptworker-scripts/compare/${repo.commits[1]}...${repo.commits[3]}` });
    const offline = await runCli(['plan', 'rb-refuse', '--config', configPath, '--json']);
    expect(offline.json<{ commits: { state: string; note: string } }>().commits).toMatchObject({ state: 'not-asked', note: expect.stringContaining('GITHUB_API_URL=https://api.github.com') });
    void A;
    void B;
  });
});

describe('promote', () => {
  it('promote needs --from-env, and rollback refuses it (each names the other)', async () => {
    const promote = await runCli(['promote', 'rb-promote', '--config', configPath], env());
    expect([promote.code, promote.stderr]).toEqual([2, expect.stringContaining('--from-env: missing; promote copies the image live in another environment (e.g. --from-env dev); to roll back, use tc-promote rollback')]);
    const rollbackFromDev = await runCli(['rollback', 'rb-promote', '--from-env', 'dev', '--config', configPath], env());
    expect([rollbackFromDev.code, rollbackFromDev.stderr]).toEqual([2, expect.stringContaining('use tc-promote promote --from-env dev')]);
  });
});

describe('confirmation', () => {
  async function onFakeTerminal(argv: string[], answer: boolean): Promise<CliResult & { asked: string[] }> {
    let stdout = '';
    let stderr = '';
    const asked: string[] = [];
    const code = await main(argv, {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      // Whole lines, as matched below (COLUMNS: the layout is test/cli/widths.test.ts's).
      env: { PATH: process.env.PATH, HOME: process.env.HOME, COLUMNS: '9999', ...env() },
      isTty: true,
      confirm: async (question) => {
        // Everything that will move was printed before the question.
        asked.push(`${stdout}\n${question}`);
        return answer;
      },
    });
    return { code, stdout, stderr, asked, json: () => JSON.parse(stdout) };
  }

  it('asks on a terminal after showing what will move; no creates nothing (exit 1), yes goes on', async () => {
    const { A, B } = seeded.get('rb-confirm')!;
    const creates = tc.callsOf('createTask').length;
    const no = await onFakeTerminal(rollback('rb-confirm'), false);
    expect(no.code).toBe(1);
    expect(no.asked).toHaveLength(1);
    expect(no.asked[0]).toContain(`${B.digest} -> ${A.digest}`);
    expect(no.asked[0]).toContain('2 commit(s) undone');
    expect(no.asked[0]!.endsWith('Roll back rb-confirm production as above? [y/N] ')).toBe(true);
    expect(no.stdout).toContain('not confirmed; nothing was created');
    expect(tc.callsOf('createTask').length).toBe(creates);
    const yes = await whileWorking(onFakeTerminal(rollback('rb-confirm'), true));
    expect(yes.code, yes.stdout + yes.stderr).toBe(0);
    expect(await digestOf('rb-confirm')).toBe(A.digest);
  }, 120_000);

  it('on a real pseudo-terminal: the question is asked on the terminal, and "n" creates nothing', async (context) => {
    if (!ptyAvailable()) {
      context.skip('python3 with pty is not available');
      return;
    }
    const creates = tc.callsOf('createTask').length;
    const childEnv = { PATH: process.env.PATH!, HOME: process.env.HOME!, TERM: 'xterm', ...env() };
    const { code, out } = await onPseudoTerminal([process.execPath, binPath, ...rollback('rb-pty')], childEnv, '[y/N]', 'n\n');
    expect(code, out).toBe(1);
    expect(out).toContain(`  to    ${seeded.get('rb-pty')!.A.tag}`);
    expect(out).toContain('Roll back rb-pty production as above? [y/N] ');
    expect(out).toContain('not confirmed; nothing was created');
    expect(tc.callsOf('createTask').length).toBe(creates);
    expect(await digestOf('rb-pty')).toBe(seeded.get('rb-pty')!.B.digest);
  }, 120_000);
});
