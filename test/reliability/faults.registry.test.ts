// Fault injection: a proxy between tc-promote and the real registry (and the Taskcluster and
// GitHub emulators) answers chosen requests with 500/503, 429 with Retry-After (seconds and
// HTTP date), resets, stalls past the timeout, truncated bodies, bytes that do not match their
// digest, or an answer lost after the server acted. Transient faults must give the same result
// as none; persistent ones one clear error and a non-zero exit; a rerun after any failure
// converges; a digest mismatch is never accepted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { copyTestConfig } from '../support/copy-config.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.js';
import { archiveTag, buildImage, headManifest, listTags, randomCommit } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { now, seedHistory, signing, type SeededHistory } from '../support/scenario.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { submitterScopes } from '../support/clients.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';

let reg: RunningRegistry;
let proxy: FaultProxy;
let seeded: SeededHistory;

const fast = { TC_PROMOTE_RETRY_BASE_MS: '5', TC_PROMOTE_HTTP_TIMEOUT_MS: '1000' };
const env = () => ({ ...fast, TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir });
const viaProxy = (...args: string[]) => runCli([...args, '--registry', proxy.url, '--json'], env());
const direct = (...args: string[]) => runCli([...args, '--registry', reg.url, '--json'], env());
const httpDate = (msFromNow: number) => new Date(Date.now() + msFromNow).toUTCString();

function expectOneCleanError(result: CliResult, code: number, message: RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedHistory(reg);
  proxy = await startFaultProxy(reg.url);
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
});
beforeEach(() => proxy.clear());

const transient: [string, FaultRule[]][] = [
  ['500 on the tag list', [{ method: 'GET', path: /tags\/list/, fault: { kind: 'status', status: 500 } }]],
  ['503 twice on the moving tag', [{ method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'status', status: 503 }, times: 2 }]],
  ['429 with Retry-After seconds', [{ method: 'GET', path: /tags\/list/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } }]],
  ['429 with Retry-After as an HTTP date', [{ method: 'HEAD', path: /manifests\/production-/, fault: { kind: 'status', status: 429, headers: { 'retry-after': httpDate(1000) } } }]],
  ['a reset connection', [{ method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'reset' } }]],
  ['a stall past the timeout', [{ method: 'GET', path: /tags\/list/, fault: { kind: 'stall', ms: 3000 } }]],
  ['a truncated tag page', [{ method: 'GET', path: /tags\/list/, fault: { kind: 'truncate', bytes: 40 } }]],
  ['a truncated manifest', [{ method: 'GET', path: /manifests\/sha256:/, fault: { kind: 'truncate', bytes: 10 } }]],
];

describe('history and plan', () => {
  it.each(transient)('recover from %s with the same result', async (_name, rules) => {
    const expectedHistory = (await direct('history', 'signingscript')).json();
    const expectedPlan = (await direct('plan', 'signingscript')).json();
    for (const rule of rules) proxy.add(rule);
    const history = await viaProxy('history', 'signingscript');
    expect(history.code, history.stderr).toBe(0);
    expect(history.json().deploys).toEqual(expectedHistory.deploys);
    expect(history.json().current).toEqual(expectedHistory.current);
    proxy.clear();
    for (const rule of rules) proxy.add(rule);
    const plan = await viaProxy('plan', 'signingscript');
    expect(plan.code, plan.stderr).toBe(0);
    // The same target; only where it is read from differs (the proxy's address).
    const { source: _viaProxy, ...target } = plan.json().target;
    const { source: _direct, ...expectedTarget } = expectedPlan.target;
    expect(target).toEqual(expectedTarget);
    expect(plan.json().provenance).toEqual(expectedPlan.provenance);
  });

  it.each([
    ['a persistent 503', { kind: 'status', status: 503 } as const, /HTTP 503/],
    ['persistent resets', { kind: 'reset' } as const, /connection reset/],
    ['a persistent stall', { kind: 'stall', ms: 3000 } as const, /timed out/],
  ])('end %s with one clear error and exit 1', async (_name, fault, message) => {
    proxy.add({ method: 'GET', path: /tags\/list/, fault, times: Infinity });
    expectOneCleanError(await viaProxy('history', 'signingscript'), 1, message);
  });

  it('never accepts a manifest whose bytes do not match its digest', async () => {
    const forged = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 }, layers: [] }));
    proxy.add({ method: 'GET', path: new RegExp(`manifests/${seeded.images.img4b!.digest}`), fault: { kind: 'replace-body', body: forged }, times: Infinity });
    expectOneCleanError(await viaProxy('plan', 'signingscript'), 1, /does not match its digest/);
  });
});

describe('copy', () => {
  // Each case promotes into a repository of its own, onto its real moving tag.
  const conf = copyTestConfig();
  let repository = signing;
  async function fresh(layers = 2) {
    repository = conf.nextRepository();
    const commit = randomCommit();
    const target = await buildImage(reg, { repository, commit, tags: [`src-${commit.slice(0, 8)}`], layers });
    const moving = 'production';
    const prior = await buildImage(reg, { repository, commit: randomCommit(), tags: [moving], layers: 1 });
    const archive = archiveTag('production', new Date(Date.UTC(2021, 2, 1)), commit);
    const args = ['copy', `${proxy.host}/${repository}@${target.digest}`, `${proxy.host}/${repository}:${moving}`, '--expect-current', prior.digest, '--archive-tag', archive, ...conf.args];
    return { target, prior, moving, archive, args };
  }
  const run = (args: string[]) => runCli(args, env());

  it.each([
    ['503 on the source manifest', { method: 'GET', path: /manifests\/sha256:/, fault: { kind: 'status', status: 503 } }],
    ['429 (HTTP date) on the compare-and-swap HEAD', { method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'status', status: 429, headers: { 'retry-after': httpDate(500) } } }],
    ['500 on the moving tag PUT', { method: 'PUT', path: /manifests\/production$/, fault: { kind: 'status', status: 500 } }],
    ['an answer lost after the moving tag PUT landed', { method: 'PUT', path: /manifests\/production$/, fault: { kind: 'reset-after' } }],
    ['an answer lost after the archive tag PUT landed', { method: 'PUT', path: /manifests\/production-/, fault: { kind: 'reset-after' } }],
    ['a stall on the verifying HEAD', { method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'stall', ms: 3000 }, times: 1 }],
    ['a reset while reading /app/version.json', { method: 'GET', path: /blobs\/sha256:/, fault: { kind: 'reset' } }],
  ] as [string, FaultRule][])('recovers from %s: both tags at the source digest', async (_name, rule) => {
    const { target, moving, archive, args } = await fresh();
    proxy.add(rule);
    const result = await run(args);
    expect(result.code, result.stderr).toBe(0);
    expect((await headManifest(reg, repository, moving))!.digest).toBe(target.digest);
    expect((await headManifest(reg, repository, archive))!.digest).toBe(target.digest);
  });

  it.each([
    ['the moving tag PUT', /manifests\/production$/],
    ['the archive tag PUT', /manifests\/production-/],
  ])('fails clearly when %s keeps failing, and a rerun converges with both tags', async (_name, path) => {
    const { target, prior, moving, archive, args } = await fresh();
    proxy.add({ method: 'PUT', path, fault: { kind: 'status', status: 503 }, times: Infinity });
    const failed = await run(args);
    expectOneCleanError(failed, 1, /HTTP 503/);
    const movedTo = (await headManifest(reg, repository, moving))!.digest;
    expect([prior.digest, target.digest]).toContain(movedTo);
    proxy.clear();
    const rerun = await run(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    // Never left with the moving tag moved and the archive tag missing.
    expect((await headManifest(reg, repository, moving))!.digest).toBe(target.digest);
    expect((await headManifest(reg, repository, archive))!.digest).toBe(target.digest);
  });

  it('never writes a manifest whose bytes do not match the source digest', async () => {
    const { prior, moving, archive, args } = await fresh();
    const tagsBefore = await listTags(reg, repository);
    proxy.add({ method: 'GET', path: /manifests\/sha256:/, fault: { kind: 'replace-body', body: '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}' }, times: Infinity });
    expectOneCleanError(await run(args), 1, /does not match its digest/);
    expect((await headManifest(reg, repository, moving))!.digest).toBe(prior.digest);
    expect(await headManifest(reg, repository, archive)).toBeNull();
    expect(await listTags(reg, repository)).toEqual(tagsBefore);
  });
});

describe('submit', () => {
  let tc: TaskclusterEmulator;
  let tcProxy: FaultProxy;
  beforeAll(async () => {
    tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
    tc.addClient('releng', submitterScopes(), 'fault-token');
    tcProxy = await startFaultProxy(tc.rootUrl);
  });
  afterAll(async () => {
    await tcProxy?.stop();
    await tc?.close();
  });
  let attempt = 10;
  const submit = (group: string, extra: string[] = []) =>
    runCli(['submit', 'signingscript', '--registry', reg.url, '--task-group-id', group, '--attempt', String(attempt), '--json', ...extra], {
      ...env(),
      TASKCLUSTER_ROOT_URL: tcProxy.url,
      TASKCLUSTER_CLIENT_ID: 'releng',
      TASKCLUSTER_ACCESS_TOKEN: 'fault-token',
    });
  const groupTasks = (group: string) => [...tc.tasks.values()].filter((t) => (t.task as { taskGroupId: string }).taskGroupId === group);

  it.each([
    ['a 500 on createTask', { kind: 'status', status: 500 } as const],
    ['a reset on createTask', { kind: 'reset' } as const],
    ['an answer lost after createTask landed', { kind: 'reset-after' } as const],
  ])('recovers from %s: the whole graph exists once', async (_name, fault) => {
    attempt++;
    const groupId = niceSlugid();
    tcProxy.add({ method: 'PUT', path: /\/api\/queue\/v1\/task\//, fault });
    const result = await submit(groupId);
    expect(result.code, result.stderr).toBe(0);
    expect(groupTasks(groupId)).toHaveLength(2);
    tcProxy.clear();
  });

  it('ends a persistent Queue failure with a clear error; submitting again completes the same graph', async () => {
    attempt++;
    const groupId = niceSlugid();
    tcProxy.add({ method: 'PUT', path: /\/api\/queue\/v1\/task\//, fault: { kind: 'status', status: 503 }, times: Infinity });
    const failed = await submit(groupId);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/nothing was created: the Queue refused the task/);
    expect(failed.stderr).toMatch(/not created because a task they depend on was not/);
    expect(failed.stderr).not.toContain('fault-token');
    expect(groupTasks(groupId)).toHaveLength(0);
    tcProxy.clear();
    const again = await submit(groupId);
    expect(again.code, again.stderr).toBe(0);
    expect(groupTasks(groupId)).toHaveLength(2);
  });
});

describe('submit at its command deadline', () => {
  let tc: TaskclusterEmulator;
  let tcProxy: FaultProxy;
  beforeAll(async () => {
    tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
    tc.addClient('releng', submitterScopes(), 'deadline-token');
    tcProxy = await startFaultProxy(tc.rootUrl);
  });
  afterAll(async () => {
    await tcProxy?.stop();
    await tc?.close();
  });

  it('a createTask that never answers: the error lists what was created and what was not (never a bare "did not finish"); submitting again completes the graph', async () => {
    const groupId = niceSlugid();
    let creates = 0;
    // The promote task is created; the fallback's createTask never answers.
    tcProxy.add({ method: 'PUT', path: /\/api\/queue\/v1\/task\//, fault: { kind: 'stall', ms: 60_000 }, times: Infinity, when: () => ++creates > 1 });
    const args = ['submit', 'signingscript', '--registry', reg.url, '--task-group-id', groupId, '--fallback', '--no-lease', '--reason', 'deadline'];
    const tcEnv = { ...env(), TASKCLUSTER_ROOT_URL: tcProxy.url, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'deadline-token' };
    const start = performance.now();
    const failed = await runCli(args, { ...tcEnv, TC_PROMOTE_COMMAND_TIMEOUT_MS: '3000' });
    expect(performance.now() - start).toBeLessThan(4_500);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('1 task(s) could not be created; 1 were (promote-signingscript-production), and submitting the same graph again completes it:');
    expect(failed.stderr).toMatch(/fallback-signingscript-production \(\S+\): given up on: the command deadline of 3000 ms passed \(TC_PROMOTE_COMMAND_TIMEOUT_MS\); it may have been created \(submitting again is safe\)/);
    expect(failed.stderr).not.toContain('did not finish');
    tcProxy.clear();
    const again = await runCli([...args, '--json'], tcEnv);
    expect(again.code, again.stderr).toBe(0);
    expect([...tc.tasks.values()].filter((t) => (t.task as { taskGroupId: string }).taskGroupId === groupId)).toHaveLength(2);
  });
});

describe('force-push', () => {
  let repo: GitFixture;
  let gh: GitHubEmulator;
  let ghProxy: FaultProxy;
  const branch = 'production-signingscript';
  beforeAll(async () => {
    repo = createGitFixture();
    gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts' });
    ghProxy = await startFaultProxy(gh.url);
  });
  afterAll(async () => {
    await ghProxy?.stop();
    await gh?.stop();
    repo?.cleanup();
  });
  const push = (revision: string, expectHead: string) =>
    runCli(['force-push', '--branch', branch, '--revision', revision, '--expect', expectHead, '--json'], { ...fast, GITHUB_API_URL: ghProxy.url, GITHUB_TOKEN: gh.token });

  it('recovers from transient faults on reads', async () => {
    const start = repo.rev(`refs/heads/${branch}`)!;
    const target = repo.commits.find((c) => c !== start)!;
    ghProxy.add({ method: 'GET', path: /\/git\/ref\/heads\//, fault: { kind: 'status', status: 502 } });
    ghProxy.add({ method: 'GET', path: /\/commits\//, fault: { kind: 'reset' } });
    const result = await push(target, start);
    expect(result.code, result.stderr).toBe(0);
    expect(repo.rev(`refs/heads/${branch}`)).toBe(target);
    ghProxy.clear();
  });

  it('ends persistent faults with one clear error, and a rerun converges', async () => {
    const start = repo.rev(`refs/heads/${branch}`)!;
    const target = repo.commits.find((c) => c !== start)!;
    ghProxy.add({ method: 'PATCH', path: /\/git\/refs\/heads(\/|%2F)/i, fault: { kind: 'status', status: 500 }, times: Infinity });
    const failed = await push(target, start);
    expect(failed.code, failed.stdout).toBe(1);
    expect(failed.stderr).not.toContain(gh.token);
    expect(repo.rev(`refs/heads/${branch}`)).toBe(start);
    ghProxy.clear();
    // The answer to the write is lost after GitHub moved the branch: the read-back decides.
    ghProxy.add({ method: 'PATCH', path: /\/git\/refs\/heads(\/|%2F)/i, fault: { kind: 'reset-after' } });
    const lost = await push(target, start);
    expect(repo.rev(`refs/heads/${branch}`)).toBe(target);
    ghProxy.clear();
    const rerun = await push(target, start);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ moved: false });
    expect(repo.rev(`refs/heads/${branch}`)).toBe(target);
    // The read-back saw the branch at the revision: the move happened, and says so.
    expect(lost.code, lost.stderr).toBe(0);
    expect(lost.json()).toMatchObject({ moved: true, oldHead: start });
  });
});
