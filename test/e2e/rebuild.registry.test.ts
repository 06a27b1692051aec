// Rollbacks that stay put, and the branch routes end to end, on real parts: a real registry
// whose archive tags record revisions of a real git repository served by the GitHub API
// emulator, and the Taskcluster emulator.
//
//   plan   warns that production-signingscript is newer than the target (with a compare URL),
//          records its head as the lease, and only warns when GitHub cannot be reached;
//   rebuild: plan → render → submit → the force-push task's command moves the branch;
//   retag with fallback: the promote task fails → the fallback task's command force-pushes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { buildImage } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const repository = 'mozilla-releng/scriptworker-scripts';
const signing = 'mozilla/releng-signingscript';
const branch = 'production-signingscript';
const ref = `refs/heads/${branch}`;
const now = '2024-04-01T00:00:00Z';

let reg: RunningRegistry;
let tc: TaskclusterEmulator;
let repo: GitFixture;
let gh: GitHubEmulator;
/** c[i]: the default branch's commits; production-signingscript is at c[4]. */
let c: string[];
let tags: { A: string; B: string; C: string };

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript'], commits: 6, productionAt: 4 });
  c = repo.commits;
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  reg = await startRegistry({ auth: 'anonymous' });
  tags = { A: `production-20240101000000-${c[1]}`, B: `production-20240201000000-${c[2]}`, C: `production-20240301000000-${c[4]}` };
  await buildImage(reg, { repository: signing, commit: c[1]!, tags: [tags.A] });
  await buildImage(reg, { repository: signing, commit: c[2]!, tags: [tags.B] });
  await buildImage(reg, { repository: signing, commit: c[4]!, tags: ['production', tags.C] });
  tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  tc.addClient('releng', submitterScopes(), 'e2e-tc-token');
});
afterAll(async () => {
  await tc?.close();
  await reg?.stop();
  await gh?.stop();
  repo?.cleanup();
});
beforeEach(() => {
  repo.git('update-ref', ref, c[4]!);
  gh.reset();
});

const github = () => ({ GITHUB_API_URL: gh.url, GITHUB_TOKEN: gh.token });
const env = (extra: Record<string, string> = {}) => ({
  TC_PROMOTE_NOW: now,
  DOCKER_CONFIG: reg.dockerConfigDir,
  TC_PROMOTE_RETRY_BASE_MS: '1',
  TASKCLUSTER_ROOT_URL: tc.rootUrl,
  TASKCLUSTER_CLIENT_ID: 'releng',
  TASKCLUSTER_ACCESS_TOKEN: 'e2e-tc-token',
  ...extra,
});
const cli = (args: string[], extra: Record<string, string> = {}) => runCli([...args, '--registry', reg.url], env(extra));

interface TaskBody {
  payload: { command: string[]; env: Record<string, string> };
  tags: { kind: string };
  scopes: string[];
}

/** What the worker runs: the payload's command and env, with the test's registry and APIs. */
async function runTask(task: TaskBody, extra: Record<string, string> = {}) {
  const [program, ...args] = task.payload.command;
  expect(program).toBe('tc-promote');
  const artifacts = makeTempDir('tcp-e2e-branch-');
  const result = await runCli(args, { ...env(github()), ...task.payload.env, TC_PROMOTE_ARTIFACTS: artifacts, ...extra });
  const file = join(artifacts, 'promotion.json');
  return { ...result, record: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null };
}

const compareUrl = () => `${gh.url}/${repository}/compare/${c[2]}...${c[4]}`;

describe('plan and the deploy branch', () => {
  it('warns that the deploy branch is newer than the target, with a compare URL, and takes its head as the lease', async () => {
    const r = await cli(['plan', 'signingscript', '--json'], github());
    expect(r.code, r.stderr).toBe(0);
    const plan = r.json();
    expect(plan.target).toMatchObject({ tag: tags.B, revision: c[2] });
    expect(plan.deployBranch).toEqual({ branch, state: 'checked', head: c[4], target: c[2], status: 'ahead', aheadBy: 2, compareUrl: compareUrl(), warning: expect.any(String), reason: null });
    const warning = `deploy branch "${branch}" is at ${c[4]}, 2 commit(s) newer than the target ${c[2]}: the next push to it redeploys what is being rolled back (${compareUrl()})`;
    expect(plan.warnings).toContain(warning);
    // The lease the fallback task will hold.
    const fallback = plan.tasks.find((t: { kind: string }) => t.kind === 'fallback');
    expect(fallback.command).toEqual(expect.arrayContaining(['--expect', c[4]]));
    // Reads only, with the token.
    expect(gh.writes()).toEqual([]);
    expect(gh.requests().every((q) => q.auth === 'valid')).toBe(true);

    const table = await cli(['plan', 'signingscript'], github());
    expect(table.stdout).toContain(`  branch:    ${branch} at ${c[4]} (2 commit(s) newer than the target)`);
    expect(table.stdout).toContain(`warning: ${warning}`);
  });

  it('says nothing when the branch is at the target, and reads anonymously with GITHUB_API_URL alone', async () => {
    repo.git('update-ref', ref, c[2]!);
    const anonymous = await startGitHubEmulator({ gitDir: repo.gitDir, repository, anonymousReads: true });
    try {
      const r = await cli(['plan', 'signingscript', '--json'], { GITHUB_API_URL: anonymous.url });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().deployBranch).toMatchObject({ state: 'checked', head: c[2], status: 'identical', warning: null });
      expect(r.json().warnings).toEqual([]);
      expect(anonymous.requests().every((q) => q.auth === 'none')).toBe(true);
    } finally {
      await anonymous.stop();
    }
  });

  it('goes on with a warning when GitHub cannot be reached, without a lease', async () => {
    const r = await cli(['plan', 'signingscript', '--json'], { GITHUB_API_URL: 'http://127.0.0.1:9', GITHUB_TOKEN: 'ghp_unreachable-token' });
    expect(r.code, r.stderr).toBe(0);
    const plan = r.json();
    expect(plan.deployBranch).toMatchObject({ branch, state: 'unchecked', head: null });
    expect(plan.warnings.join('\n')).toMatch(/could not check deploy branch "production-signingscript" against the target: .*cannot reach the GitHub API at http:\/\/127\.0\.0\.1:9/);
    expect(plan.tasks.find((t: { kind: string }) => t.kind === 'fallback').command).not.toContain('--expect');
    expect(r.stdout + r.stderr).not.toContain('ghp_unreachable-token');
  });

  it('goes on with a warning when the token is refused', async () => {
    const r = await cli(['plan', 'signingscript', '--json'], { GITHUB_API_URL: gh.url, GITHUB_TOKEN: 'ghp_wrong' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().warnings.join('\n')).toMatch(/could not check deploy branch .*HTTP 401/);
  });

  it('does not read GitHub with --no-branch-check --no-commits, nor without GitHub configured', async () => {
    // --no-branch-check alone reads no ref: only the commit list's compare.
    gh.reset();
    const branchOff = await cli(['plan', 'signingscript', '--json', '--no-branch-check'], github());
    expect(branchOff.json().deployBranch).toBeNull();
    expect(gh.requests().every((r) => r.path.includes('/compare/'))).toBe(true);
    gh.reset();
    const off = await cli(['plan', 'signingscript', '--json', '--no-branch-check', '--no-commits'], github());
    expect(off.code).toBe(0);
    expect(off.json().deployBranch).toBeNull();
    expect(off.json().commits).toMatchObject({ state: 'not-asked', note: 'commits not listed (--no-commits)' });
    const none = await cli(['plan', 'signingscript', '--json']);
    expect(none.json().deployBranch).toBeNull();
    expect(none.json().warnings).toEqual([]);
    expect(gh.requests()).toEqual([]);
  });

  it('warns for a rebuild when the branch is at the target already: a force-push would start no build', async () => {
    repo.git('update-ref', ref, c[2]!);
    const r = await cli(['plan', 'signingscript', '--route', 'rebuild', '--json'], github());
    expect(r.json().warnings).toContain(`deploy branch "${branch}" is at the target ${c[2]} already: a force-push changes nothing and starts no build; use --route rerun`);
  });
});

describe('the rebuild route end to end', () => {
  it('plans, renders and submits a force-push task whose command moves the branch with the lease', async () => {
    const rendered = await cli(['render', 'signingscript', '--route', 'rebuild', '--format', 'json'], github());
    expect(rendered.code, rendered.stderr).toBe(0);
    const [renderedTask] = rendered.json().tasks;
    expect(renderedTask.task.payload.command).toEqual(['tc-promote', 'force-push', '--branch', branch, '--revision', c[2], '--expect', c[4]]);

    const submitted = await cli(['submit', 'signingscript', '--route', 'rebuild', '--reason', 'signing broke', '--json'], github());
    expect(submitted.code, submitted.stderr).toBe(0);
    const [created] = submitted.json().created;
    expect(created.label).toBe('force-push-signingscript-production');
    const task = tc.tasks.get(created.taskId)!.task as unknown as TaskBody;
    expect(task.payload.command).toEqual(renderedTask.task.payload.command);
    expect(task.scopes).toEqual(['secrets:get:project/releng/scriptworker-scripts/deploy']);
    const record = JSON.parse(task.payload.env.TC_PROMOTE_PROMOTION!);
    expect(record).toMatchObject({ route: 'rebuild', revision: c[2], to: tags.B, deployBranch: { branch, state: 'checked', head: c[4], status: 'ahead', aheadBy: 2 }, warnings: [] });
    expect(submitted.stdout + submitted.stderr).not.toContain(gh.token);
    expect(submitted.stdout + submitted.stderr).not.toContain('e2e-tc-token');

    // The worker runs it: the branch moves to the target, the old head is kept.
    const ran = await runTask(task);
    expect(ran.code, ran.stderr).toBe(0);
    const backupRef = `refs/heads/tc-promote-backup/${branch}/20240401000000-${c[4]}`;
    expect(repo.rev(ref)).toBe(c[2]);
    expect(repo.rev(backupRef)).toBe(c[4]);
    expect(ran.record).toMatchObject({ route: 'rebuild', reason: 'signing broke', outcome: 'force-pushed', branch, revision: c[2], oldHead: c[4], backupRef, moved: true, time: '2024-04-01T00:00:00.000Z' });

    // The same task again converges; a stale lease (someone pushed since) exits 3 and moves nothing.
    expect((await runTask(task)).code).toBe(0);
    repo.git('update-ref', ref, c[5]!);
    gh.reset();
    const stale = await runTask(task);
    expect(stale.code).toBe(3);
    expect(repo.rev(ref)).toBe(c[5]);
    expect(gh.writes()).toEqual([]);
  });
});

describe('the retag route with a fallback, end to end', () => {
  it('force-pushes the target revision when the promote task failed', async () => {
    const submitted = await cli(['submit', 'signingscript', '--fallback', '--reason', 'signing broke', '--json'], github());
    expect(submitted.code, submitted.stderr).toBe(0);
    const [promoteRef, fallbackRef] = submitted.json().created;
    const promote = tc.tasks.get(promoteRef.taskId)!.task as unknown as TaskBody;
    const fallback = tc.tasks.get(fallbackRef.taskId)!.task as unknown as TaskBody;
    expect(fallback.tags.kind).toBe('fallback');
    // The promotion record of every task carries the deploy-branch warning.
    const record = JSON.parse(promote.payload.env.TC_PROMOTE_PROMOTION!);
    expect(record.warnings).toEqual([expect.stringContaining(`redeploys what is being rolled back (${compareUrl()})`)]);
    expect(fallback.payload.command).toEqual(['tc-promote', 'fallback', '--script', 'signingscript', '--env', 'production', '--branch', branch, '--failure-index', expect.stringMatching(/^scriptworker\.v2\.scriptworker-scripts\.promotion\.signingscript\.production\.failed\.\d{14}$/), '--revision', c[2], '--expect', c[4], '--allow-force-push', '--promote-task', promoteRef.taskId]);

    tc.resolveTask(promoteRef.taskId, 'failed');
    expect(tc.stateOf(fallbackRef.taskId)).toBe('pending');
    const ran = await runTask(fallback);
    expect(ran.code, ran.stderr).toBe(0);
    expect(repo.rev(ref)).toBe(c[2]);
    expect(repo.rev(`refs/heads/tc-promote-backup/${branch}/20240401000000-${c[4]}`)).toBe(c[4]);
    expect(ran.record).toMatchObject({ outcome: 'force-pushed', oldHead: c[4], promoteTasks: [{ taskId: promoteRef.taskId, state: 'failed' }], deployBranch: { head: c[4] } });
  });
});
