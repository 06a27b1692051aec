// follow, cancel, live progress and --timeout on the Taskcluster EMULATOR, over the real
// registry and the local task runner (test/support/rollback-world.ts). The emulator stands in
// here for what the real services cannot do in a test: a Queue whose every answer takes
// seconds (serviceLatencyMs, the stall behind "a --timeout 5s rollback ran 90 s"), and tasks
// run one at a time on demand (a promote task run, its fallback not yet). The same follow and
// cancel run on the real Taskcluster services in follow-cancel-real-taskcluster.registry.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCli } from '../support/cli.js';
import { startRollbackWorld, type RollbackWorld } from '../support/rollback-world.js';

const scripts = ['fc-follow', 'fc-cancel', 'fc-half', 'fc-slow', 'fc-tty'];
let w: RollbackWorld;

beforeAll(async () => {
  w = await startRollbackWorld({ scripts, label: 'follow-cancel', env: { TC_PROMOTE_POLL_INTERVAL_MS: '20' } });
}, 120_000);

afterAll(async () => w?.stop());

const env = (extra: Record<string, string> = {}) => w.env(extra);
const groupOf = (stdout: string): string => /tc-promote follow (\S{22})/.exec(stdout)?.[1] ?? '';
const tasksOf = (group: string) => [...w.tc.tasks.values()].filter((t) => t.task.taskGroupId === group);
const stateOf = (taskId: string): string => w.tc.tasks.get(taskId)!.runs.at(-1)?.state ?? 'unscheduled';

describe('follow: re-attach to a promotion in flight', () => {
  it('rollback --no-wait, then follow <script>: found by the in-flight entry, followed to the same last lines as rollback; status lists it while in flight', async () => {
    const { A, B } = w.seeded.get('fc-follow')!;
    const submitted = await runCli(w.rollback('fc-follow', '--yes', '--no-wait', '--no-verify'), env());
    expect(submitted.code, submitted.stderr).toBe(0);
    const group = groupOf(submitted.stdout);
    expect(submitted.stdout).toContain(`  tc-promote follow ${group} --config ${w.configPath}\n`);
    expect(submitted.stdout).toContain(`  (tc-promote cancel ${group} --config ${w.configPath} cancels what has not run)`);
    // The entry names the group; the Queue says it is in flight; status shows the line to paste.
    expect((w.tc.index.get('scriptworker.v2.scriptworker-scripts.in-flight.fc-follow.production')?.data as { taskGroupId?: string }).taskGroupId).toBe(group);
    const status = await runCli(['status', '--script', 'fc-follow', '--config', w.configPath, '--no-commits'], env());
    expect(status.stdout).toContain('1 promotion(s) in flight:\n  fc-follow production: rollback to ' + A.tag);
    expect(status.stdout).toContain(`(promote-fc-follow-production pending, fallback-fc-follow-production unscheduled)\n    tc-promote follow ${group} --config ${w.configPath}\n`);
    const r = await w.whileWorking(runCli(['follow', 'fc-follow', '--config', w.configPath, '--no-verify'], env()));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^following fc-follow production: rollback to ${A.tag}, task group ${group} \\(submitted \\S+Z, \\d+s ago, by releng-oncall\\)\\n`));
    // Off a terminal: one line per change on stderr.
    expect(r.stderr).toMatch(/\+\d+s +promote-fc-follow-production: pending -> (running -> )?completed\n|\+\d+s +promote-fc-follow-production: (pending|running) -> completed\n/);
    expect(r.stderr).not.toContain('\u001b');
    // The same outcome lines as rollback's.
    expect(r.stdout).toContain(`rollback completed: ${w.host}/mozilla/releng-fc-follow:production now points at ${A.digest} (${A.tag})`);
    expect(r.stdout).toContain('fallback: the fallback had nothing to do');
    expect(r.stdout).toMatch(new RegExp(`\\nnow: +${w.host}/mozilla/releng-fc-follow:production points at ${A.digest} \\(${A.tag}\\), read from the registry; since \\S+Z \\(\\d+s ago\\)\\n`));
    expect(r.stdout).toContain(`\nbefore:  ${B.tag} (${B.digest})\n`);
    expect(r.stdout).toMatch(/\nhold: +held at \S+ since .* by releng-oncall: roll fc-follow back; .*release: tc-promote release fc-follow --env production\n/);
    expect(r.stdout).toContain('\nworkers: not verified (--no-verify)\n');
    expect(r.stdout).toContain('\nnext push: writes its archive tag only; ');
    expect(r.stdout).toContain(`\nundo: tc-promote rollback fc-follow --env production --to ${B.tag} --reason 'undo: WHY' --config ${w.configPath}\n`);
    expect(await w.digestOf('fc-follow')).toBe(A.digest);
    // A promotion that ended is reported at once, by its group too; status no longer lists it.
    const again = await runCli(['follow', group, '--config', w.configPath, '--no-verify', '--json'], env());
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ outcome: 'completed', taskGroupId: group, foundBy: 'task group', script: 'fc-follow', env: 'production' });
    const after = await runCli(['status', '--script', 'fc-follow', '--config', w.configPath, '--no-commits'], env());
    expect(after.stdout).not.toContain('in flight');
    // Bad input names the field; nothing on record is exit 4.
    expect((await runCli(['follow', 'no-such-script', '--config', w.configPath], env())).stderr).toContain('follow: "no-such-script" is neither a configured script');
    const none = await runCli(['follow', 'fc-cancel', '--env', 'dev', '--config', w.configPath], env());
    expect([none.code, none.stderr]).toEqual([4, expect.stringContaining('fc-cancel dev: no promotion submitted from tc-promote is on record')]);
  }, 120_000);
});

describe('cancel: the unfinished tasks, and what already ran', () => {
  it('nothing ran yet: --dry-run lists, no terminal refuses without --yes, --yes cancels the fallback first; the tag did not move; follow then says it failed', async () => {
    const { B } = w.seeded.get('fc-cancel')!;
    const submitted = await runCli(w.rollback('fc-cancel', '--yes', '--no-wait', '--no-verify'), env());
    const group = groupOf(submitted.stdout);
    const dry = await runCli(['cancel', 'fc-cancel', '--config', w.configPath, '--dry-run'], env());
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would cancel (--dry-run): fallback-fc-cancel-production (unscheduled), promote-fc-cancel-production (pending)\nalready ran: nothing (no task had resolved)\nnothing was cancelled (--dry-run)');
    expect(dry.stdout).toContain(`now:     ${w.host}/mozilla/releng-fc-cancel:production points at ${B.digest} (${B.tag}): nothing moved`);
    expect(dry.stdout).toContain(`to cancel: tc-promote cancel ${group} --config ${w.configPath} --yes`);
    const refused = await runCli(['cancel', 'fc-cancel', '--config', w.configPath], env());
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining('cancel: no terminal to confirm on; pass --yes')]);
    expect(tasksOf(group).map((t) => stateOf(t.taskId)).sort()).toEqual(['pending', 'unscheduled']);
    const calls = w.tc.calls.length;
    const r = await runCli(['cancel', 'fc-cancel', '--config', w.configPath, '--yes'], env());
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('cancelled: fallback-fc-cancel-production (now exception)\ncancelled: promote-fc-cancel-production (now exception)\nalready ran: nothing (no task had resolved)\n');
    // Dependents first: the fallback's cancel reached the Queue before the promote task's.
    const cancels = w.tc.calls.slice(calls).filter((c) => c.name === 'cancelTask');
    expect(cancels.map((c) => (w.tc.tasks.get(c.path.split('/').at(-2)!)?.task.tags as { kind?: string } | undefined)?.kind)).toEqual(['fallback', 'promote']);
    expect(r.stdout).toContain('nothing moved');
    expect(r.stdout).toMatch(/\nhold: +held at \S+ since .*release: tc-promote release fc-cancel --env production\n/);
    expect(r.stdout).not.toContain('undo:');
    expect(await w.digestOf('fc-cancel')).toBe(B.digest);
    // Nothing is left to cancel: exit 0, saying so; follow reports the cancelled tasks as failed.
    const twice = await runCli(['cancel', group, '--config', w.configPath, '--yes'], env());
    expect([twice.code, twice.stdout]).toEqual([0, expect.stringContaining(`nothing to cancel: every task of ${group} has resolved`)]);
    const followed = await runCli(['follow', group, '--config', w.configPath, '--no-verify'], env());
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('promote-fc-cancel-production exception');
    expect(followed.stdout).toContain('rollback did not complete');
    // The last lines of a promotion that did not complete: what runs (read from the registry), the hold, what the next push does; no undo.
    expect(followed.stdout).toContain(`\nnow:     ${w.host}/mozilla/releng-fc-cancel:production points at ${B.digest} (${B.tag}), read from the registry: nothing moved, it runs what it ran before\n`);
    expect(followed.stdout).toMatch(/\nhold: +held at .* \(the tag did not move: tc-promote release fc-cancel --env production, or roll back again\)\n/);
    expect(followed.stdout).toContain('\nworkers: not verified (the promotion did not complete)\n');
    expect(followed.stdout).toContain('\nnext push: writes its archive tag only;');
    expect(followed.stdout).not.toContain('undo:');
  }, 120_000);

  it('after the promote task completed: cancels the fallback, says the tag moved already, and gives the undo', async () => {
    const { A, B } = w.seeded.get('fc-half')!;
    const submitted = await runCli(w.rollback('fc-half', '--yes', '--no-wait', '--no-verify'), env());
    const group = groupOf(submitted.stdout);
    const promote = tasksOf(group).find((t) => (t.task.tags as { kind?: string }).kind === 'promote')!;
    const run = await w.runner.runTask(promote.taskId);
    expect(run.state).toBe('completed');
    const r = await runCli(['cancel', 'fc-half', '--config', w.configPath, '--yes'], env());
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('cancelled: fallback-fc-half-production');
    expect(r.stdout).toContain(`already ran: promote-fc-half-production completed (the tag moved to ${A.tag} already; cancelling does not move it back)`);
    expect(r.stdout).toContain(`points at ${A.digest} (${A.tag}): the promotion's target; it moved before the cancel`);
    expect(r.stdout).toContain(`undo: tc-promote rollback fc-half --env production --to ${B.tag} --reason 'undo: WHY' --config ${w.configPath}`);
    expect(await w.digestOf('fc-half')).toBe(A.digest);
  }, 120_000);
});

describe('--timeout ends a poll in progress (emulator only: a Queue whose answers each take seconds)', () => {
  it('a Queue taking 8 s an answer: a --timeout 2s rollback ends about 2 s after following began, not after the Queue answers', async () => {
    const before = new Set(w.tc.tasks.keys());
    // Slow the Queue once the graph exists: its creates are fast, every poll after takes 8 s.
    let followStarted = 0;
    const slow = setInterval(() => {
      if ([...w.tc.tasks.keys()].filter((id) => !before.has(id)).length >= 2 && !followStarted) {
        w.tc.serviceLatencyMs.queue = 8_000;
        followStarted = Date.now();
      }
    }, 5);
    try {
      const r = await runCli(w.rollback('fc-slow', '--yes', '--timeout', '2s', '--no-verify'), env());
      const tookMs = Date.now() - followStarted;
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(1);
      expect(r.stdout).toMatch(/not finished within 2s: promote-fc-slow-production \S+, fallback-fc-slow-production \S+; the tasks go on/);
      expect(r.stdout).toMatch(new RegExp(`\\nfollow it again: tc-promote follow \\S{22} --config \\S+   \\(cancel what has not run: tc-promote cancel \\S{22} --config \\S+\\)\\n`));
      // 2 s of timeout, the last poll's 1 s grace, the in-flight write and the exit: under 5 s; the Queue's one answer takes 8 s.
      expect(tookMs).toBeLessThan(5_000);
      // eslint-disable-next-line no-console
      console.log(`--timeout 2s with a Queue answering in 8 s: ended ${tookMs} ms after the tasks were created`);
    } finally {
      clearInterval(slow);
      w.tc.serviceLatencyMs.queue = 0;
    }
  }, 60_000);
});

describe('live progress', () => {
  it('on a terminal: one block of task states with elapsed times, rewritten in place on stderr; the outcome on stdout', async () => {
    let stderr = '';
    let stdout = '';
    const command = main(w.rollback('fc-tty', '--yes', '--no-verify'), {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TERM: 'xterm', ...env() },
      isTty: true,
      wrap: false,
    });
    const code = await w.whileWorking(command);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stderr).toMatch(/following task group: 0 of 2 task\(s\) resolved, \+\d+s\n {2}promote-fc-tty-production +unknown\n {2}fallback-fc-tty-production +unknown\n/);
    // Rewritten: the cursor goes up over the block's three lines and clears them.
    expect(stderr).toContain('\r\u001b[2K\u001b[1A\u001b[2K\u001b[1A\u001b[2K\u001b[1A\u001b[2K');
    expect(stderr).toMatch(/following task group: 2 of 2 task\(s\) resolved, \+\d+s\n {2}promote-fc-tty-production +\u001b\[32mcompleted\u001b\[0m for \d+s\n/);
    expect(stdout).toContain('rollback completed:');
    expect(stdout).not.toContain('\u001b[1A');
  }, 120_000);
});
