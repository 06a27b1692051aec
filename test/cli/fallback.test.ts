// The fallback task end to end: a retag graph submitted to the Taskcluster emulator, its
// promote task resolved as a worker would, then the fallback task's own command (payload
// command and env) run against the emulator and the GitHub emulator over a real bare
// repository, checked with `git rev-parse`.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import taskcluster, { type Queue } from 'taskcluster-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph, type GraphTask } from '../../src/graph/build.js';
import { offlinePlan } from '../../src/graph/offline-plan.js';
import { submitGraph } from '../../src/taskcluster/submit.js';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { makeTempDir } from '../support/registry.js';

const config = loadConfig();
const repository = 'mozilla-releng/scriptworker-scripts';
const branch = 'production-signingscript';
const ref = `refs/heads/${branch}`;
const now = '2024-05-06T07:08:09Z';

let repo: GitFixture;
let gh: GitHubEmulator;
let tc: TaskclusterEmulator;
let queue: Queue;

beforeAll(async () => {
  // The deploy branch is ahead of the target (commit 1) at commit 3: the state a rollback starts from.
  repo = createGitFixture({ scripts: ['signingscript'], commits: 5, productionAt: 3 });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  queue = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.addClient('tester', submitterScopes()), retries: 0 });
});
afterAll(async () => {
  await tc?.close();
  await gh?.stop();
  repo?.cleanup();
});
beforeEach(() => {
  repo.git('update-ref', ref, repo.commits[3]!);
  for (const name of Object.keys(repo.refs())) if (name.includes('tc-promote-backup')) repo.git('update-ref', '-d', name);
  gh.reset();
});

let states = 0;
/** A retag graph to the target (commit 1) with the lease at commit 3, submitted; each from its own moving-tag state. */
async function submitted(options: { allowFallback: boolean; branchHead?: string | null }): Promise<{ promote: GraphTask; fallback: GraphTask }> {
  const plan = offlinePlan(config, {
    script: 'signingscript',
    env: 'production',
    targetTag: `production-20240101000000-${repo.commits[1]}`,
    targetDigest: `sha256:${'a1'.repeat(32)}`,
    movingDigest: `sha256:${String(++states).padStart(64, '0')}`,
    nowMs: Date.parse(now),
  });
  const branchHead = options.branchHead === undefined ? repo.commits[3]! : options.branchHead;
  const graph = buildGraph(config, plan, { nowMs: Date.parse(now), allowFallback: options.allowFallback, reason: 'signing broke', requester: 'releng@mozilla.com', ...(branchHead !== null && { branchHead }) });
  await submitGraph(queue, graph);
  const [promote, fallback] = graph.tasks;
  expect(fallback!.kind).toBe('fallback');
  return { promote: promote!, fallback: fallback! };
}

/** What the worker runs for the fallback task: its command and env, with the emulators' addresses. */
async function runTask(task: GraphTask, extra: Record<string, string | undefined> = {}) {
  const [program, ...args] = task.task.payload.command;
  expect(program).toBe('tc-promote');
  const artifacts = makeTempDir('tcp-fallback-');
  const result = await runCli(args, {
    ...task.task.payload.env,
    TC_PROMOTE_ARTIFACTS: artifacts,
    TC_PROMOTE_NOW: now,
    TASKCLUSTER_ROOT_URL: tc.rootUrl,
    GITHUB_API_URL: gh.url,
    GITHUB_TOKEN: gh.token,
    ...extra,
  });
  const file = path.join(artifacts, 'promotion.json');
  return { ...result, record: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null };
}

describe('the fallback task', () => {
  it('does nothing after successful promotions, and needs no GitHub for it', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true });
    expect(tc.stateOf(fallback.taskId)).toBe('unscheduled');
    tc.resolveTask(promote.taskId, 'completed');
    expect(tc.stateOf(fallback.taskId)).toBe('pending');
    const r = await runTask(fallback, { GITHUB_TOKEN: undefined, GITHUB_API_URL: 'http://127.0.0.1:9' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fallback: signingscript production: every promote task completed; nothing to do');
    expect(r.stdout).toMatch(new RegExp(`${promote.taskId}\\s+completed`));
    expect(repo.rev(ref)).toBe(repo.commits[3]);
    expect(gh.requests()).toEqual([]);
    expect(r.record).toMatchObject({ script: 'signingscript', env: 'production', reason: 'signing broke', outcome: 'not-needed', time: '2024-05-06T07:08:09.000Z', promoteTasks: [{ taskId: promote.taskId, state: 'completed' }], oldHead: null, moved: false });
  });

  it('force-pushes the target revision with the lease after a failed promotion, keeping the old head', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true });
    expect(fallback.task.payload.command).toEqual(expect.arrayContaining(['--expect', repo.commits[3]!, '--allow-force-push', '--promote-task', promote.taskId]));
    tc.resolveTask(promote.taskId, 'failed');
    const r = await runTask(fallback, { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const backupRef = `refs/heads/tc-promote-backup/${branch}/20240506070809-${repo.commits[3]}`;
    expect(repo.rev(ref)).toBe(repo.commits[1]);
    expect(repo.rev(backupRef)).toBe(repo.commits[3]);
    expect(r.stdout).toContain(`promotion failed; force-pushed ${repo.commits[1]} to ${branch}`);
    expect(r.stdout).toMatch(new RegExp(`${promote.taskId}\\s+failed`));
    expect(r.stdout).toMatch(new RegExp(`old head\\s+${repo.commits[3]}`));
    expect(r.stdout).toMatch(new RegExp(`backup ref\\s+${backupRef}`));
    expect(r.record).toMatchObject({ outcome: 'force-pushed', branch, oldHead: repo.commits[3], backupRef, moved: true, revision: repo.commits[1], promoteTasks: [{ taskId: promote.taskId, state: 'failed' }] });
    // Every write carried the token; none of it reached the output.
    expect(gh.writes().every((w) => w.auth === 'valid')).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(gh.token);
  });

  it('treats an exception as a failure, and prints JSON', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true });
    tc.resolveTask(promote.taskId, 'exception');
    const r = await runTask(fallback, { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.code).toBe(0);
    const argv = fallback.task.payload.command.slice(1);
    // The same command again (a rerun of the fallback task): the branch is there, nothing moves.
    gh.reset();
    const again = await runCli([...argv, '--json'], { TC_PROMOTE_NOW: now, TASKCLUSTER_ROOT_URL: tc.rootUrl, GITHUB_API_URL: gh.url, GITHUB_TOKEN: gh.token });
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ outcome: 'already-there', failed: [{ taskId: promote.taskId, state: 'exception' }], forcePush: { oldHead: repo.commits[1], moved: false } });
    expect(again.stderr).toMatch(/warning: production-signingscript is already at .*: nothing was pushed this time, so no image build starts now/);
    expect(gh.writes()).toEqual([]);
  });

  it('exits 3 and leaves the branch alone when the lease is broken', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true });
    tc.resolveTask(promote.taskId, 'failed');
    // Someone pushed to the deploy branch after the plan.
    repo.git('update-ref', ref, repo.commits[4]!);
    const r = await runTask(fallback);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`tc-promote fallback: error: branch "${branch}" is at ${repo.commits[4]}, not at the expected ${repo.commits[3]}; it moved since the plan, nothing was changed`);
    expect(repo.rev(ref)).toBe(repo.commits[4]);
    expect(gh.writes()).toEqual([]);
    expect(r.record).toMatchObject({ outcome: 'force-push-failed', moved: false, error: expect.stringContaining('moved since the plan') });
  });

  it('exits 1 without touching GitHub when the promotion failed and no fallback was allowed', async () => {
    const { promote, fallback } = await submitted({ allowFallback: false });
    expect(fallback.task.payload.command).not.toContain('--allow-force-push');
    expect(fallback.task.scopes).toEqual([`queue:status:${promote.taskId}`, expect.stringMatching(/^index:insert-task:scriptworker\.v2\.scriptworker-scripts\.promotion\.signingscript\.production\.failed\.\d{14}$/)]);
    tc.resolveTask(promote.taskId, 'failed');
    // As inside the task: its id, and credentials holding the task's own scopes (the proxy's).
    const own = tc.addClient(`fallback-${fallback.taskId}`, fallback.task.scopes);
    const r = await runTask(fallback, { TASK_ID: fallback.taskId, TASKCLUSTER_CLIENT_ID: own.clientId, TASKCLUSTER_ACCESS_TOKEN: own.accessToken });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('could not be recorded');
    // The failed promotion is recorded in the index (a failed promote task is not indexed by its routes), under the fallback's own task id.
    const namespace = fallback.task.scopes[1]!.replace(/^index:insert-task:/, '');
    expect(tc.index.get(namespace)).toMatchObject({ taskId: fallback.taskId, data: { outcome: 'failed', fallback: 'not-allowed', script: 'signingscript', env: 'production', promoteTasks: [{ taskId: promote.taskId, state: 'failed' }] } });
    expect(r.stderr).toContain(`tc-promote fallback: error: promotion of signingscript in production failed (${promote.taskId} failed) and no fallback was allowed`);
    expect(r.stderr).toContain(`tc-promote force-push --branch ${branch} --revision ${repo.commits[1]}`);
    expect(repo.rev(ref)).toBe(repo.commits[3]);
    expect(gh.requests()).toEqual([]);
    expect(r.record).toMatchObject({ outcome: 'not-allowed', promoteTasks: [{ state: 'failed' }] });
  });

  it('decides nothing while a promote task is unresolved', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true });
    const r = await runTask(fallback);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`promote task(s) not resolved yet: ${promote.taskId} pending`);
    expect(gh.requests()).toEqual([]);
    // The record written before anything could move says how the step ended.
    expect(r.record).toMatchObject({ outcome: 'failed', error: expect.stringContaining('not resolved yet') });
  });

  it('pushes without a lease when plan did not read the branch, and says so', async () => {
    const { promote, fallback } = await submitted({ allowFallback: true, branchHead: null });
    expect(fallback.task.payload.command).not.toContain('--expect');
    tc.resolveTask(promote.taskId, 'failed');
    const r = await runTask(fallback);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: no lease: the head of production-signingscript was not read at plan time/);
    expect(repo.rev(ref)).toBe(repo.commits[1]);
  });

  it.each([
    [['--branch', 'production-beetmoverscript'], /--branch: "production-beetmoverscript" is not the deploy branch of signingscript in production \(production-signingscript\)/],
    [['--branch', 'production'], /--branch: "production" is the shared deploy branch/],
    [['--branch', 'master'], /--branch: "master" is the default branch/],
    [['--promote-task', 'nope'], /--promote-task: "nope" is not a task id/],
    [['--revision', 'abc'], /--revision: "abc" is not a full commit id/],
    [['--env', 'staging'], /--env: unknown environment "staging"/],
  ])('exits 2 for %j before any request', async (override, message) => {
    const base: Record<string, string> = { '--script': 'signingscript', '--env': 'production', '--branch': branch, '--revision': repo.commits[1]!, '--promote-task': 'AAAAAAAAQACAAAAAAAAAAQ' };
    base[override[0]!] = override[1]!;
    const calls = tc.calls.length;
    const r = await runCli(['fallback', ...Object.entries(base).flat(), '--allow-force-push'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, GITHUB_API_URL: gh.url, GITHUB_TOKEN: gh.token });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(tc.calls.length).toBe(calls);
    expect(gh.requests()).toEqual([]);
  });

  it('needs --revision to force-push, and has help', async () => {
    const r = await runCli(['fallback', '--script', 'signingscript', '--env', 'production', '--branch', branch, '--allow-force-push', '--promote-task', 'AAAAAAAAQACAAAAAAAAAAQ']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--revision: missing; --allow-force-push needs the target revision/);
    const help = await runCli(['fallback', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Example \(what the fallback task runs\):\n  tc-promote fallback/);
  });
});
