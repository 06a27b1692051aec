// `tc-promote rollback` attacked as a release engineer at 3 a.m. uses it, on the Taskcluster
// emulator where the case needs what the real services cannot do on demand: Ctrl-C while the
// tasks are being created (the emulator holds a createTask), Ctrl-C while a poll is unanswered
// (a Queue that stalls); and the cases that need no Queue behaviour of their own (--json on a
// terminal, the undo run as printed, Ctrl-D, the reason). Ctrl-C while following and --timeout
// run on the real Taskcluster services (rollback-real-taskcluster.registry.test.ts).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { onPseudoTerminal, ptyAvailable } from '../support/pty.js';
import { startRollbackWorld, type RollbackWorld } from '../support/rollback-world.js';
import { binPath, runCli } from '../support/cli.js';
import type { GitFixture } from '../support/git-fixture.js';
import type { TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const scripts = ['ri-create', 'ri-json', 'ri-undo', 'ri-eof', 'ri-rebuild', 'ri-slowpoll'];

let w: RollbackWorld;
let tc: TaskclusterEmulator;
let repo: GitFixture;
let configPath: string;
let seeded: RollbackWorld['seeded'];

beforeAll(async () => {
  w = await startRollbackWorld({ scripts, label: 'rollback-interrupt' });
  ({ tc, repo, configPath, seeded } = w);
}, 120_000);

afterAll(async () => w?.stop());

const env = (extra: Record<string, string> = {}) => w.env(extra);
const rollback = (script: string, ...args: string[]) => w.rollback(script, ...args);
const digestOf = (script: string, tag?: string) => w.digestOf(script, tag);
const whileWorking = <T,>(command: Promise<T>): Promise<T> => w.whileWorking(command);

/** Start the command as a real process (the emulators answer from this one). */
function startProcess(argv: string[], extra: Record<string, string> = {}) {
  // COLUMNS: messages whole, as they are matched (test/cli/widths.test.ts holds the wrapping).
  const child = spawn(process.execPath, [binPath, ...argv], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, COLUMNS: '9999', ...env(), ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = async (done: () => boolean, ms = 30_000): Promise<void> => {
    const deadline = performance.now() + ms;
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  return { child, out, closed, until };
}

describe('Ctrl-C while rollback creates the tasks', () => {
  it('stops creating: what exists and what was not sent are named, the Queue is not blamed; exit 1', async () => {
    // The Queue answers slowly (planning asks nothing of it; the hold, written once confirmed before the first create, is the index's).
    tc.serviceLatencyMs.queue = 3_000;
    const run = startProcess(rollback('ri-create', '--yes'));
    await run.until(() => run.out.stdout.includes('commit(s) undone') && run.out.stderr.includes('held ri-create production'));
    const creates = tc.callsOf('createTask').length;
    try {
      await new Promise((r) => setTimeout(r, 300));
      const sent = performance.now();
      run.child.kill('SIGINT');
      const code = await run.closed;
      expect(performance.now() - sent).toBeLessThan(2_500);
      expect(code, `${run.out.stdout}\n${run.out.stderr}`).toBe(1);
      expect(run.out.stderr).not.toContain('before it could say where it stopped');
      expect(run.out.stderr).not.toContain('the Queue refused');
      expect(run.out.stderr).toContain('tc-promote rollback: error: stopped: SIGINT received, while creating the tasks: none is known to exist, 1 given up on or not sent; submitting the same graph again completes it:\n');
      expect(run.out.stderr).toMatch(/promote-ri-create-production \(\S+\): given up on: SIGINT received; it may have been created \(submitting again is safe\)/);
      expect(run.out.stderr).toMatch(/fallback-ri-create-production \(\S+\), after promote-ri-create-production/);
    } finally {
      tc.serviceLatencyMs.queue = 0;
    }
    // The create given up on lands when the slow Queue answers it ("it may have been created"); the fallback was never sent.
    await run.until(() => tc.callsOf('createTask').length > creates, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(tc.callsOf('createTask').length).toBe(creates + 1);
  }, 60_000);
});

describe('Ctrl-C while a poll of the task group is unanswered', () => {
  it('does not wait for the Queue: it says where it stopped at once', async () => {
    const run = startProcess(rollback('ri-slowpoll', '--yes'), { TC_PROMOTE_POLL_INTERVAL_MS: '50' });
    await run.until(() => /promote-ri-slowpoll-production: pending/.test(run.out.stderr));
    // From now on the Queue takes 10 s to answer: the next poll is in flight when Ctrl-C comes.
    tc.latencyMs = 10_000;
    try {
      await new Promise((r) => setTimeout(r, 300));
      const sent = performance.now();
      run.child.kill('SIGINT');
      const code = await run.closed;
      expect(performance.now() - sent).toBeLessThan(1_500);
      expect(code, `${run.out.stdout}\n${run.out.stderr}`).toBe(1);
      expect(run.out.stdout).toContain('stopped: SIGINT received, while following the task group: the 2 task(s) were created and go on in Taskcluster (promote-ri-slowpoll-production pending, fallback-ri-slowpoll-production unscheduled)');
    } finally {
      tc.latencyMs = 0;
    }
    // The poll given up on is answered by the slow Queue later; let it land before the next test.
    await new Promise((r) => setTimeout(r, 10_500));
  }, 60_000);
});

describe('--json on a terminal', () => {
  it('asks only after what will move was shown (on stderr: stdout stays one JSON document); no creates nothing', async () => {
    const { A, B } = seeded.get('ri-json')!;
    let stdout = '';
    let stderr = '';
    const asked: string[] = [];
    const creates = tc.callsOf('createTask').length;
    const code = await main(rollback('ri-json', '--json'), {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env() },
      isTty: true,
      confirm: async (question) => {
        asked.push(`${stderr}${question}`);
        return false;
      },
    });
    expect(code).toBe(1);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`rollback ri-json production`);
    expect(asked[0]).toContain(`${B.digest} -> ${A.digest}`);
    expect(asked[0]).toContain('2 commit(s) undone');
    expect(tc.callsOf('createTask').length).toBe(creates);
    // stdout is JSON only: what the command decided.
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'not-confirmed', taskGroupId: null });
  });

  it('without a terminal: the JSON error does not point at a summary --json did not print', async () => {
    const creates = tc.callsOf('createTask').length;
    const r = await runCli(rollback('ri-json', '--json'), env());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
    expect(error.code).toBe('usage');
    expect(error.message).toContain('no terminal to confirm on; pass --yes');
    expect(error.message).not.toContain('printed above');
    expect(tc.callsOf('createTask').length).toBe(creates);
  });
});

describe('the undo rollback prints', () => {
  it('run as printed, puts back what was live, and the history after says so', async () => {
    const { A, B } = seeded.get('ri-undo')!;
    const r = await whileWorking(runCli(rollback('ri-undo', '--yes', '--fallback'), { ...env(), TC_PROMOTE_POLL_INTERVAL_MS: '20' }));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(await digestOf('ri-undo')).toBe(A.digest);
    const undo = /^undo: (tc-promote .*)$/m.exec(r.stdout)?.[1];
    expect(undo).toBeDefined();
    // The words as a shell would split them (single quotes only, as the CLI prints them).
    const words = [...undo!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    expect(words[0]).toBe('tc-promote');
    const back = await whileWorking(runCli([...words.slice(1), '--yes'], { ...env(), TC_PROMOTE_POLL_INTERVAL_MS: '20' }));
    expect(back.code, `${back.stdout}\n${back.stderr}`).toBe(0);
    expect(await digestOf('ri-undo')).toBe(B.digest);
    const history = await runCli(['history', 'ri-undo', '--config', configPath, '--json', '--no-records']);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(B.digest);
  }, 120_000);
});

describe('Ctrl-D at the question', () => {
  it('on a real pseudo-terminal is a no: "not confirmed; nothing was created", exit 1, not an internal error', async (context) => {
    if (!ptyAvailable()) {
      context.skip('python3 with pty is not available');
      return;
    }
    const creates = tc.callsOf('createTask').length;
    const childEnv = { PATH: process.env.PATH!, HOME: process.env.HOME!, TERM: 'xterm', ...env() };
    const { code, out } = await onPseudoTerminal([process.execPath, binPath, ...rollback('ri-eof')], childEnv, '[y/N]', '\x04');
    expect(out).toContain('Roll back ri-eof production as above? [y/N] ');
    expect(out).not.toContain('internal error');
    expect(out).toContain('not confirmed; nothing was created');
    expect(code, out).toBe(1);
    expect(tc.callsOf('createTask').length).toBe(creates);
    expect(await digestOf('ri-eof')).toBe(seeded.get('ri-eof')!.B.digest);
  }, 60_000);
});

describe('the undo of a rebuild', () => {
  it('leads with putting the deploy branch back (a retag undo before the rebuilt image is deployed does nothing, and the pipeline deploys it anyway)', async () => {
    const before = repo.rev('refs/heads/production-ri-rebuild');
    expect(before).toBe(repo.commits[3]);
    const r = await whileWorking(runCli(rollback('ri-rebuild', '--yes', '--route', 'rebuild'), { ...env(), TC_PROMOTE_POLL_INTERVAL_MS: '20' }));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(repo.rev('refs/heads/production-ri-rebuild')).toBe(repo.commits[1]);
    // The undo, run as printed, at once (the pipeline has not rebuilt anything yet): the branch goes back.
    const undo = /^undo: (tc-promote [^#\n]*?)\s*(?:#.*)?$/m.exec(r.stdout)?.[1];
    expect(undo, r.stdout).toBeDefined();
    const words = [...undo!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const back = await whileWorking(runCli([...words.slice(1), ...(words[1] === 'rollback' ? ['--yes'] : [])], { ...env(), TC_PROMOTE_POLL_INTERVAL_MS: '20' }));
    expect(back.code, `${undo}\n${back.stdout}\n${back.stderr}`).toBe(0);
    expect(repo.rev('refs/heads/production-ri-rebuild'), `${undo}\n${back.stdout}`).toBe(before);
    // The retag that puts the image back comes after, said as such.
    expect(r.stdout).toMatch(/^ {6}tc-promote rollback ri-rebuild --env production --to \S+ --reason 'undo: WHY' --config \S+ {3}# once the rebuilt image is deployed/m);
  }, 120_000);
});

describe('the reason', () => {
  it('is shown with what will move, and its absence is said (the UI action requires one; the record would say "no reason recorded")', async () => {
    const given = await runCli(rollback('ri-json'), env());
    expect(given.code).toBe(2);
    expect(given.stdout).toContain('  reason  roll ri-json back\n');
    // Production needs one (issue 19), as the UI action does: refused before the plan.
    const none = await runCli(['rollback', 'ri-json', '--config', configPath], env());
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('--reason: a production rollback needs a reason, as the UI action does');
  });
});
