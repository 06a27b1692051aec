// GitHub: say what is known (issue 12, items 12 and 13). A forced update GitHub applied but
// answered 500 for, with the read-back failing too, is "unknown", with the branch's expected and
// possible states and that a rerun decides (and it does). An HTML or unfinished answer about the
// deploy branch is "unchecked", never "does not exist"; a graph that would force-push without a
// lease says so in plan and in the task's description, and submit refuses it unless --no-lease.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { makeTempDir } from '../support/registry.js';
import { P, now } from '../support/scenario.js';
import { resetGitHubFixture, startSeededStack, type SeededStack } from '../support/stacks.js';

const repository = 'mozilla-releng/scriptworker-scripts';
const branch = 'production-signingscript';
const ref = `refs/heads/${branch}`;
let repo: GitFixture;
let gh: GitHubEmulator;
let proxy: FaultProxy;
let stack: SeededStack;

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript', 'beetmoverscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  proxy = await startFaultProxy(gh.url);
  stack = await startSeededStack();
  // A release engineer with exactly the scopes `tc-promote grants` lists.
  stack.tc.addClient('releng', submitterScopes(), 'lease-token');
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
  await gh?.stop();
  repo?.cleanup();
  await stack?.stop();
});
beforeEach(() => {
  resetGitHubFixture(repo, gh, ref);
  proxy.clear();
});

const githubEnv = () => ({ GITHUB_API_URL: proxy.url, GITHUB_TOKEN: gh.token, TC_PROMOTE_RETRY_BASE_MS: '1', TC_PROMOTE_NOW: now });
const forcePush = (revision: string, expectHead: string) => runCli(['force-push', '--branch', branch, '--revision', revision, '--expect', expectHead, '--json'], githubEnv());
const patched = () => proxy.requests().some((r) => r.method === 'PATCH');
/** The error message: with --json it is the JSON error on stderr (one line), else stderr itself. */
const said = (r: { stderr: string }): string => {
  try {
    return (JSON.parse(r.stderr) as { error: { message: string } }).error.message;
  } catch {
    return r.stderr;
  }
};
const patch = /\/git\/refs\/heads(\/|%2F)/i;
const readRef = /\/git\/ref\/heads(\/|%2F)/i;

describe('item 12: force-push says what is known', () => {
  it('GitHub applied the update, answered 500, and the read-back fails: the outcome is unknown, and a rerun decides', async () => {
    const start = repo.rev(ref)!;
    const target = repo.commits[3]!;
    proxy.add({ method: 'PATCH', path: patch, fault: { kind: 'status-after', status: 500 } });
    proxy.add({ method: 'GET', path: readRef, fault: { kind: 'status', status: 502, body: '{"message": "Bad Gateway"}' }, times: Infinity, when: patched });
    const result = await forcePush(target, start);
    // It did move.
    expect(repo.rev(ref)).toBe(target);
    expect(result.code).toBe(1);
    expect(said(result)).not.toContain('the branch was not moved');
    expect(said(result)).toContain(`the forced update of "${branch}" to ${target} got no clear answer`);
    expect(said(result)).toContain('the outcome is unknown');
    expect(said(result)).toMatch(new RegExp(`The branch is either at ${target} \\(moved\\) or still at ${start} \\(not moved\\); refs/heads/tc-promote-backup/${branch}/\\d{14}-${start} keeps ${start} either way\\. Run the same command again`));
    expect(said(result).trim().split('\n')).toHaveLength(1);
    proxy.clear();
    const rerun = await forcePush(target, start);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ moved: false, oldHead: target });
  });

  it('GitHub accepted the update and the read-back gets 502: says it should be there, and a rerun confirms', async () => {
    const start = repo.rev(ref)!;
    const target = repo.commits[4]!;
    proxy.add({ method: 'GET', path: readRef, fault: { kind: 'status', status: 502, body: '{"message": "Bad Gateway"}' }, times: Infinity, when: patched });
    const result = await forcePush(target, start);
    expect(repo.rev(ref)).toBe(target);
    expect(result.code).toBe(1);
    expect(said(result)).toContain(`GitHub accepted the forced update of "${branch}" to ${target}, but reading the branch back failed`);
    expect(said(result)).toContain('HTTP 502');
    expect(said(result)).toContain(`it should be at ${target}`);
    proxy.clear();
    expect((await forcePush(target, start)).json()).toMatchObject({ moved: false });
  });

  it('GitHub answered 500 without applying it, and the read-back works: the branch was not moved, known', async () => {
    const start = repo.rev(ref)!;
    const target = repo.commits[3]!;
    proxy.add({ method: 'PATCH', path: patch, fault: { kind: 'status', status: 500 } });
    const result = await forcePush(target, start);
    expect(repo.rev(ref)).toBe(start);
    expect(result.code).toBe(1);
    expect(said(result)).toContain(`read back: the branch was not moved; refs/heads/tc-promote-backup/${branch}/`);
  });
});

describe('the branch step checks its artifacts folder before anything moves (as the promote step does)', () => {
  it('force-push with a folder it cannot write to exits 1, and GitHub saw no write', async () => {
    const file = path.join(makeTempDir('not-a-folder-'), 'file');
    writeFileSync(file, 'x');
    const start = repo.rev(ref)!;
    const result = await runCli(['force-push', '--branch', branch, '--revision', repo.commits[3]!, '--expect', start], { ...githubEnv(), TC_PROMOTE_ARTIFACTS: path.join(file, 'artifacts'), TC_PROMOTE_PROMOTION: '{"script": "signingscript"}' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('TC_PROMOTE_ARTIFACTS: cannot write promotion.json in');
    expect(gh.writes()).toEqual([]);
    expect(repo.rev(ref)).toBe(start);
  });
});

describe('item 13: the lease is never dropped silently', () => {
  const registry = () => ['--registry', stack.reg.url];
  const html = { kind: 'status', status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html><body>Sign in to the guest network</body></html>' } as const;
  const tcEnv = () => ({ ...githubEnv(), TASKCLUSTER_ROOT_URL: stack.tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'lease-token', DOCKER_CONFIG: stack.reg.dockerConfigDir });

  it('a captive portal answering 200 with HTML: the branch is "not checked", with a warning, never "does not exist"', async () => {
    proxy.add({ method: 'GET', path: readRef, fault: html, times: Infinity });
    const result = await runCli(['plan', 'signingscript', '--route', 'rebuild', '--to', P.P8, ...registry()], tcEnv());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`branch:    ${branch} not checked`);
    expect(result.stdout).not.toContain('does not exist');
    expect(result.stdout).toContain(`warning: could not check deploy branch "${branch}" against the target: reading ${ref} of ${repository}: GitHub's answer is not JSON ("text/html"): a proxy or a captive portal may be answering for the API`);
    expect(result.stdout).toContain(`warning: the graph would force-push "${branch}" without a lease: its head could not be read at plan time`);
    const json = (await runCli(['plan', 'signingscript', '--route', 'rebuild', '--to', P.P8, '--json', ...registry()], tcEnv())).json();
    expect(json.deployBranch).toMatchObject({ state: 'unchecked', head: null });
  });

  it('a JSON answer about another ref: "not checked", never "does not exist"', async () => {
    const other = { ref: 'refs/heads/production-beetmoverscript', node_id: 'x', url: 'x', object: { sha: repo.commits[1], type: 'commit', url: 'x' } };
    proxy.add({ method: 'GET', path: readRef, fault: { kind: 'status', status: 200, body: JSON.stringify(other) }, times: Infinity });
    const json = (await runCli(['plan', 'signingscript', '--route', 'rebuild', '--to', P.P8, '--json', ...registry()], tcEnv())).json();
    expect(json.deployBranch).toMatchObject({ state: 'unchecked', head: null, reason: `reading ${ref} of ${repository}: GitHub answered about "refs/heads/production-beetmoverscript", not ${ref}` });
    expect(json.warnings.join('\n')).toContain('without a lease');
    expect(json.warnings.join('\n')).not.toContain('does not exist');
  });

  it('an answer that never finishes: "not checked" within the timeout', async () => {
    proxy.add({ method: 'GET', path: readRef, fault: { kind: 'hang-body' }, times: Infinity });
    const start = performance.now();
    const result = await runCli(['plan', 'signingscript', '--route', 'rebuild', '--to', P.P8, '--json', ...registry()], { ...tcEnv(), TC_PROMOTE_HTTP_TIMEOUT_MS: '800' });
    expect(result.code, result.stderr).toBe(0);
    expect(performance.now() - start).toBeLessThan(10_000);
    expect(result.json().deployBranch).toMatchObject({ state: 'unchecked', head: null, reason: expect.stringContaining('no complete answer within 800 ms') });
    expect(result.json().warnings.join('\n')).toContain('without a lease');
  });

  it('the task descriptions say so, and submit refuses the graph unless --no-lease', async () => {
    proxy.add({ method: 'GET', path: readRef, fault: html, times: Infinity });
    const rendered = await runCli(['render', 'signingscript', '--fallback', '--reason', 'lease test', ...registry()], tcEnv());
    expect(rendered.code, rendered.stderr).toBe(0);
    const tasks = JSON.parse(rendered.stdout).tasks as { label: string; task: { metadata: { description: string }; payload: { command: string[] } } }[];
    const fallback = tasks.find((t) => t.label.startsWith('fallback'))!;
    expect(fallback.task.payload.command).toContain('--allow-force-push');
    expect(fallback.task.payload.command).not.toContain('--expect');
    expect(fallback.task.metadata.description).toMatch(/WARNING: the graph would force-push "production-signingscript" without a lease: its head could not be read at plan time \(.*not JSON.*\); a push to the branch before the task runs would be overwritten without a check\.$/);
    // The promote task does not force-push: no warning there.
    expect(tasks.find((t) => t.label.startsWith('promote'))!.task.metadata.description).not.toContain('WARNING');

    const before = stack.tc.tasks.size;
    const refused = await runCli(['submit', 'signingscript', '--fallback', '--reason', 'lease test', ...registry()], tcEnv());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('warning: the graph would force-push "production-signingscript" without a lease');
    expect(refused.stderr).toContain('submit: fallback-signingscript-production would force-push the deploy branch without a lease');
    expect(refused.stderr).toContain('give --no-lease to submit it anyway; nothing was created');
    expect(stack.tc.tasks.size).toBe(before);
    const forced = await runCli(['submit', 'signingscript', '--fallback', '--reason', 'lease test', '--no-lease', '--json', ...registry()], tcEnv());
    expect(forced.code, forced.stderr).toBe(0);
    expect(stack.tc.tasks.size).toBe(before + 2);
  });

  it('with the branch read, the graph has its lease and submit needs no flag', async () => {
    const rendered = await runCli(['render', 'signingscript', '--fallback', '--reason', 'lease test', ...registry()], tcEnv());
    const tasks = JSON.parse(rendered.stdout).tasks as { label: string; task: { metadata: { description: string }; payload: { command: string[] } } }[];
    const fallback = tasks.find((t) => t.label.startsWith('fallback'))!;
    expect(fallback.task.payload.command).toEqual(expect.arrayContaining(['--expect', repo.rev(ref)!]));
    expect(fallback.task.metadata.description).not.toContain('WARNING');
    expect(rendered.stderr).not.toContain('without a lease');
  });
});
