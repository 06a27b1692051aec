// The UI promotion path on the REAL Taskcluster services (issue 17; the same path as
// ui-promotion.registry.test.ts, whose emulator it no longer needs):
//
//   Firefox-CI's roles and the in-tree action hooks exactly as fxci-config's own generators make
//   them from the patched fxci-config (./support/real-fxci.ts over ./support/fxci-generated.ts:
//   every generated role and hook, none written here) in the real Auth and Hooks; the deploy secret in the real Secrets service; a decision task of a level-3 push (its
//   scopes, its public/actions.json, run by the real-Queue worker)
//   → `tc-promote trigger` with a client that holds only hooks:trigger-hook:… (the `in-tree:hook-
//     action:` check against the decision task's scopes, expanded by the real Auth)
//   → the real Hooks service renders the patched .taskcluster.yml and creates the action task
//   → `tc-promote action-callback`, run by the worker as that task (claimWork; the claim's
//     temporary credentials behind its proxy), creates the graph under the role's scopes
//   → the promote and fallback tasks run (their dependencies resolved by the queue's resolver)
//   → the moving tag moves in the real token-auth registry with credentials read from the real
//     Secrets service; the record indexed by the real Index; `history --records` shows it.
//
// What stands in: the action task's `git fetch` of https://github.com/mozilla-releng/scriptworker-scripts
// reaches a local bare repository (git's url.<fixture>.insteadOf in the task's environment; no
// GitHub here), and GitHub's API is the GitHub emulator (the fallback's force-push). Nothing else.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli } from '../support/cli.js';
import { applyConsumerPatches, consumerConfigPath, type PatchedCopies } from '../support/consumers.js';
import { buildImage, headManifest } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { realTaskclusterSkipped, sharedRealTaskcluster, type RealTaskcluster } from '../support/real-taskcluster.js';
import { deployFirefoxCi, exclusiveFirefoxCi, firefoxCiResources, generatedRole, principalSeeds, type FirefoxCiResources } from '../support/real-fxci.js';
import { expandScopes } from '../support/roles.js';
import scopesLib from 'taskcluster-lib-scopes';
import { client, listGroup, RealWorker } from '../support/real-worker.js';
import { referencePath } from '../support/reference.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

const skipped = realTaskclusterSkipped();
const repository = 'mozilla-releng/scriptworker-scripts';
const repoUrl = `https://github.com/${repository}`;
const signing = 'mozilla/releng-signingscript';
const deploySecret = 'project/releng/scriptworker-scripts/deploy';
const decisionQueue = `tc-promote-tests/decision-${process.pid}`;

let tc: RealTaskcluster;
/** Firefox-CI's secret and hook, this file's until its afterAll (exclusiveFirefoxCi). */
let releaseNames: (() => void) | undefined;
let copies: PatchedCopies;
let fxci: FirefoxCiResources;
let reg: RunningRegistry;
let repo: GitFixture;
let gh: GitHubEmulator;
let tcymlText: string;
let head: string;
let ui: { clientId: string; accessToken: string };
let tags: { A: string; B: string };
let digests: { A: string; B: string };
let workerEnv: Record<string, string>;
let configPath: string;
const workers: RealWorker[] = [];

function commitFile(fixture: GitFixture, file: string, text: string): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(fixture.gitDir, 'tc-promote-index'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Release Engineer', GIT_AUTHOR_EMAIL: 'releng@example.com', GIT_COMMITTER_NAME: 'Release Engineer', GIT_COMMITTER_EMAIL: 'releng@example.com' };
  const git = (args: string[], input?: string): string => execFileSync('git', ['--git-dir', fixture.gitDir, ...args], { env, encoding: 'utf8', ...(input !== undefined && { input }) }).trim();
  const parent = git(['rev-parse', fixture.defaultBranch]);
  git(['read-tree', parent]);
  const blob = git(['hash-object', '-w', '--stdin'], text);
  git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`]);
  const commit = git(['commit-tree', git(['write-tree']), '-p', parent, '-m', `Add ${file}`]);
  git(['update-ref', `refs/heads/${fixture.defaultBranch}`, commit]);
  return commit;
}

async function worker(taskQueueId: string, images?: (image: string) => boolean): Promise<RealWorker> {
  const w = await RealWorker.create(tc, { taskQueueId, env: workerEnv, ...(images && { images }) });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  if (skipped) return;
  tc = await sharedRealTaskcluster();
  releaseNames = await exclusiveFirefoxCi(tc);
  copies = applyConsumerPatches();
  tcymlText = readFileSync(copies.taskclusterYmlPath, 'utf8');
  fxci = firefoxCiResources();
  // The hook was generated from the same patched .taskcluster.yml the decision task's actions.json is made from.
  expect(fxci.world.patchedTaskclusterYml).toBe(tcymlText);
  repo = createGitFixture({ scripts: ['signingscript'], commits: 5, productionAt: 2 });
  reg = await startRegistry({ auth: 'token' });
  const consumerConfig = readFileSync(consumerConfigPath, 'utf8').replaceAll('registry: docker.io', `registry: ${reg.host}`);
  head = commitFile(repo, 'taskcluster/tc-promote.yml', consumerConfig);
  configPath = path.join(path.dirname(copies.taskclusterYmlPath), 'tc-promote-real.yml');
  writeFileSync(configPath, consumerConfig);
  repo.git('config', 'uploadpack.allowAnySHA1InWant', 'true');
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  tags = { A: `production-20240101000000-${repo.commits[1]}`, B: `production-20240201000000-${repo.commits[2]}` };
  digests = {
    A: (await buildImage(reg, { repository: signing, commit: repo.commits[1]!, tags: [tags.A] })).digest,
    B: (await buildImage(reg, { repository: signing, commit: repo.commits[2]!, tags: ['production', tags.B] })).digest,
  };
  await deployFirefoxCi(tc, fxci);
  // eslint-disable-next-line no-console
  console.log(`fxci-config's generated resources in the real Auth and Hooks: ${fxci.deployed!.roles} roles, ${fxci.deployed!.hooks} hooks in ${fxci.deployed!.ms} ms`);
  await client('Secrets', tc.rootUrl, tc.rootCredentials).set(deploySecret, {
    secret: { dockercfg: { auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } }, github_token: gh.token },
    expires: new Date(Date.now() + 86_400_000).toISOString(),
  });
  // A release engineer who may fire the promotion hook, and nothing else.
  const clientId = `tc-promote-tests/releng-oncall-${process.pid}`;
  const made = await client('Auth', tc.rootUrl, tc.rootCredentials).createClient(clientId, {
    description: 'may fire the promotion hook only',
    expires: new Date(Date.now() + 86_400_000).toISOString(),
    scopes: [`hooks:trigger-hook:${fxci.hook.hookGroupId}/in-tree-action-3-release-promotion/*`],
  });
  ui = { clientId, accessToken: made.accessToken };
  // The stand-in for GitHub: the repository URL leads to the bare fixture, the API to the emulator.
  workerEnv = { GITHUB_API_URL: gh.url, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${repo.gitDir}.insteadOf`, GIT_CONFIG_VALUE_0: repoUrl, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', TC_PROMOTE_RETRY_BASE_MS: '1' };
}, 900_000); // deployFirefoxCi: ≈760 roles into the real Auth service, minutes under load (docs/benchmarks.md), or waiting for the file that writes them

afterAll(async () => {
  try {
    for (const w of workers) await w.cleanup();
    await reg?.stop();
    await gh?.stop();
    repo?.cleanup();
    copies?.cleanup();
    fxci?.world.cleanup();
  } finally {
    releaseNames?.();
  }
});

/**
 * A decision task of a push to the default branch (level 3) or of a pull request (level 1):
 * its scopes as the GitHub service gives them, its public/actions.json (taskgraph's real one for
 * the repository with tc-promote's action merged in), published by the worker running it.
 */
async function decisionTask(level: 1 | 3 = 3): Promise<string> {
  const decisionTaskId = niceSlugid();
  const dir = path.dirname(copies.taskclusterYmlPath);
  const actionsFile = path.join(dir, `actions-${decisionTaskId}.json`);
  writeFileSync(actionsFile, readFileSync(referencePath('taskgraph', 'scriptworker-scripts.actions.json'), 'utf8').replaceAll('Cv1d8fPHRzWvO3MZbI1e3A', decisionTaskId));
  const merged = await runCli(['actions', '--merge', actionsFile, '--taskcluster-yml', copies.taskclusterYmlPath, '--decision-task-id', decisionTaskId, '--revision', head, '--branch', 'refs/heads/master', '--level', '3', '--repository-url', repoUrl, '--owner', 'releng@mozilla.com']);
  expect(merged.code, merged.stderr).toBe(0);
  const now = Date.now();
  await client('Queue', tc.rootUrl, tc.rootCredentials).createTask(decisionTaskId, {
    taskGroupId: decisionTaskId,
    schedulerId: `scriptworker-level-${level}`,
    taskQueueId: decisionQueue,
    scopes: [level === 3 ? `assume:repo:github.com/${repository}:branch:master` : `assume:repo:github.com/${repository}:pull-request`],
    created: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    expires: new Date(now + 30 * 86_400_000).toISOString(),
    payload: { image: 'mozillareleases/tc-promote:latest', maxRunTime: 60, command: ['sh', '-c', `mkdir -p /builds/worker/artifacts && cp ${JSON.stringify(actionsFile)} /builds/worker/artifacts/actions.json`], artifacts: { public: { type: 'directory', path: '/builds/worker/artifacts' } } },
    metadata: { name: 'Decision Task', description: '', owner: 'releng@mozilla.com', source: `${repoUrl}/raw/${head}/.taskcluster.yml` },
  });
  const decision = await worker(decisionQueue);
  const [run] = await decision.runTaskGroup(decisionTaskId);
  expect(run?.state, run?.log).toBe('completed');
  return decisionTaskId;
}

const trigger = (decisionTaskId: string, input: Record<string, unknown>) =>
  runCli(['trigger', '--decision-task-id', decisionTaskId, '--input', JSON.stringify(input), '--json'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: ui.clientId, TASKCLUSTER_ACCESS_TOKEN: ui.accessToken, TASKCLUSTER_PROXY_URL: undefined });

describe.skipIf(skipped)('on the real Taskcluster services: UI trigger → real Hooks → action task → graph → the registry moved, indexed', () => {
  it("the real Auth and Hooks hold exactly the roles and hooks fxci-config's generators made (none written by hand)", async () => {
    const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
    const hooks = client('Hooks', tc.rootUrl, tc.rootCredentials);
    expect(Object.keys(fxci.roles).length).toBeGreaterThan(100);
    // Every role a principal of this test can reach, and no expansion differs from one over all of them.
    expect(fxci.deployedRoleIds).toEqual(expect.arrayContaining(['anonymous', `repo:github.com/${repository}:branch:master`, `repo:github.com/${repository}:action:release-promotion`, 'hook-id:project-scriptworker/in-tree-action-3-release-promotion/*']));
    const deployedOnly = Object.fromEntries(fxci.deployedRoleIds.map((id) => [id, fxci.roles[id]!]));
    for (const seed of principalSeeds(fxci)) expect(expandScopes([seed], deployedOnly), seed).toEqual(expandScopes([seed], fxci.roles));
    const stored = new Map<string, string[]>();
    let continuationToken: string | undefined;
    do {
      const page = await auth.listRoles2(continuationToken ? { continuationToken } : {});
      for (const r of page.roles as { roleId: string; scopes: string[] }[]) stored.set(r.roleId, r.scopes);
      continuationToken = page.continuationToken;
    } while (continuationToken);
    const differ = fxci.deployedRoleIds.filter((roleId) => JSON.stringify(stored.get(roleId)) !== JSON.stringify([...fxci.roles[roleId]!].sort(scopesLib.scopeCompare)));
    expect(differ).toEqual([]);
    expect((await auth.role('anonymous')).description).toBe(fxci.world.roleDescriptions['anonymous']);
    for (const generated of fxci.hooks) {
      const { hookGroupId, hookId, ...definition } = generated;
      const real = await hooks.hook(hookGroupId, hookId);
      expect({ metadata: real.metadata, schedule: real.schedule, bindings: real.bindings, task: real.task, triggerSchema: real.triggerSchema }).toEqual(definition);
    }
    expect(fxci.hooks.map((h) => `${h.hookGroupId}/${h.hookId}`)).toContain(`${fxci.hook.hookGroupId}/${fxci.hook.hookId}`);
  }, 60_000);

  it('promotes end to end', async () => {
    const started = Date.now();
    const decisionTaskId = await decisionTask();
    const input = { script: 'signingscript', environment: 'production', reason: 'signing fails since the last deploy', fallback: true };
    const triggered = await trigger(decisionTaskId, input);
    expect(triggered.code, triggered.stderr).toBe(0);
    const actionTaskId = triggered.json().taskId as string;
    const queue = client('Queue', tc.rootUrl);
    // The action task as the real Hooks service rendered it from the patched .taskcluster.yml.
    const actionTask = await queue.task(actionTaskId);
    expect(actionTask.taskGroupId).toBe(decisionTaskId);
    expect(actionTask.scopes).toEqual([`assume:repo:github.com/${repository}:action:release-promotion`]);
    expect(actionTask.payload.command.at(-1)).toContain('exec tc-promote action-callback --config taskcluster/tc-promote.yml');
    const actionWorker = await worker(actionTask.taskQueueId);
    let action = await actionWorker.claimOne();
    for (let i = 0; !action && i < 100; i++) action = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => actionWorker.claimOne());
    expect([action?.label, action?.state], action?.log).toEqual(['Action: Promote image', 'completed']);
    // The graph, created by the action task through its proxy with its claim's credentials.
    const graph = (await listGroup(queue, decisionTaskId)).filter((t) => (t.task.tags as Record<string, string> | undefined)?.kind === 'promote' || (t.task.tags as Record<string, string> | undefined)?.kind === 'fallback');
    expect(graph.map((t) => (t.task.tags as Record<string, string>).kind).sort()).toEqual(['fallback', 'promote']);
    expect(action!.proxied.filter((p) => p.path.startsWith('/api/queue/v1/task/') && p.method === 'PUT').map((p) => p.status)).toEqual([200, 200]);
    // The in-flight entry, written through the same proxy into the real Index, so that follow <script> and status find it.
    const inFlightPath = 'scriptworker.v2.scriptworker-scripts.in-flight.signingscript.production';
    expect(action!.proxied.filter((p) => p.path.startsWith('/api/index/v1/task/') && p.method === 'PUT').map((p) => `${decodeURIComponent(p.path)} ${p.status}`)).toEqual([`/api/index/v1/task/${inFlightPath} 200`]);
    // (The log's prose is fitted to the task's width: compared with its spaces and line breaks as one space.)
    expect(action!.log.replace(/\s+/g, ' ')).toContain(`in flight: ${inFlightPath} (tc-promote follow signingscript --env production finds it)`);
    const entry = await client('Index', tc.rootUrl).findTask(inFlightPath);
    expect(entry.data).toMatchObject({ mode: 'rollback', script: 'signingscript', env: 'production', taskGroupId: decisionTaskId, reason: input.reason, from: tags.B, to: tags.A });
    expect([...entry.data.taskIds].sort()).toEqual(graph.map((t) => t.status.taskId).sort());
    const graphQueue = graph[0]!.task.taskQueueId as string;
    const graphWorker = workers.find((w) => w.options.taskQueueId === graphQueue) ?? (await worker(graphQueue));
    const runs = await graphWorker.runTaskGroup(decisionTaskId, { timeoutMs: 120_000 });
    expect(runs.map((r) => [r.label, r.state]), runs.map((r) => `${r.label}:\n${r.log}`).join('\n')).toEqual([
      ['promote-signingscript-production', 'completed'],
      ['fallback-signingscript-production', 'completed'],
    ]);
    // The registry moved, with credentials the promote task read from the real Secrets service.
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(digests.A);
    expect(runs[0]!.proxied.map((p) => `${p.path} ${p.status}`)).toEqual([`/api/secrets/v1/secret/${encodeURIComponent(deploySecret)} 200`]);
    const record = JSON.parse(runs[0]!.artifacts.get('public/promotion.json')!.toString('utf8'));
    expect(record).toMatchObject({ script: 'signingscript', env: 'production', from: tags.B, to: tags.A, digest: digests.A, outcome: 'written' });
    // Indexed by the real Index (asynchronously, by its handlers, on completion), and shown by history.
    let shown = '';
    let json = '';
    const until = Date.now() + 30_000;
    for (;;) {
      const history = await runCli(['history', 'signingscript', '--config', configPath, '--records', '--json'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: undefined, TASKCLUSTER_ACCESS_TOKEN: undefined, TASKCLUSTER_PROXY_URL: undefined });
      shown = history.stdout + history.stderr;
      json = history.stdout;
      if (shown.includes(input.reason) || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(shown).toContain(input.reason);
    // Attached because the record names the deploy (archive tag and digest) and its task was
    // scheduled by the level-3 scheduler, as the real Queue holds its definition (issue 20).
    const row = JSON.parse(json).deploys.find((d: { promotion?: unknown }) => d.promotion);
    expect(row.promotion).toMatchObject({ schedulerId: 'scriptworker-level-3', archiveTag: row.tag, digest: digests.A, reason: input.reason });
    // eslint-disable-next-line no-console
    console.log(`end-to-end on the real Taskcluster: ${1 + 1 + runs.length} task runs in ${Date.now() - started} ms; services ${tc.memoryMiB()} MiB`);
  }, 240_000);

  it("a graph whose creator lacks a scope: the real Queue refuses it, and the action task's message names the scope and the role that should hold it", async () => {
    const roleId = `repo:github.com/${repository}:action:release-promotion`;
    // The notify route's scope: only this role grants it (the deploy secret's comes from the branch roles too).
    const missing = 'queue:route:notify.email.release+scriptworker-scripts@mozilla.com.*';
    expect(fxci.roles[roleId]).toContain(missing);
    const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
    await auth.updateRole(roleId, { ...generatedRole(fxci, roleId), scopes: fxci.roles[roleId]!.filter((s) => s !== missing) });
    expect((await auth.expandScopes({ scopes: [`assume:${roleId}`] })).scopes).not.toContain(missing);
    try {
      // A new deploy (C), so that this promotion starts from a state no promotion has moved from.
      await buildImage(reg, { repository: signing, commit: repo.commits[3]!, tags: ['production', `production-20240301000000-${repo.commits[3]}`] });
      const decisionTaskId = await decisionTask();
      const triggered = await trigger(decisionTaskId, { script: 'signingscript', environment: 'production', target: tags.A, reason: 'the role lost a scope' });
      expect(triggered.code, triggered.stderr).toBe(0);
      const actionTask = await client('Queue', tc.rootUrl).task(triggered.json().taskId);
      const actionWorker = workers.find((w) => w.options.taskQueueId === actionTask.taskQueueId) ?? (await worker(actionTask.taskQueueId));
      let action = await actionWorker.claimOne();
      for (let i = 0; !action && i < 100; i++) action = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => actionWorker.claimOne());
      expect(action?.state, action?.log).toBe('failed');
      // The real Queue's own refusal …
      expect(action!.proxied.filter((p) => p.method === 'PUT' && p.path.startsWith('/api/queue/v1/task/')).map((p) => p.status)).toContain(403);
      // … and tc-promote's message: which scope, which role should hold it.
      expect(action!.log).toContain('queue:route:notify.email.release+scriptworker-scripts@mozilla.com');
      expect(action!.log).toContain(roleId);
      // Nothing of the graph was created.
      const kinds = (await listGroup(client('Queue', tc.rootUrl), decisionTaskId)).map((t) => (t.task.tags as Record<string, string> | undefined)?.kind);
      expect(kinds.filter((k) => k === 'promote' || k === 'fallback')).toEqual([]);
    } finally {
      await auth.updateRole(roleId, generatedRole(fxci, roleId));
    }
  }, 120_000);

  it('a promotion that fails is recorded by its fallback in the real Index and shown by history against the deploy it targeted', async () => {
    // A new deploy (D) to promote from; the promotion back to A is created by the action task …
    await buildImage(reg, { repository: signing, commit: repo.commits[4]!, tags: ['production', `production-20240401000000-${repo.commits[4]}`] });
    const decisionTaskId = await decisionTask();
    const reason = 'this promotion will fail';
    const triggered = await trigger(decisionTaskId, { script: 'signingscript', environment: 'production', target: tags.A, reason });
    expect(triggered.code, triggered.stderr).toBe(0);
    const actionTask = await client('Queue', tc.rootUrl).task(triggered.json().taskId);
    const actionWorker = workers.find((w) => w.options.taskQueueId === actionTask.taskQueueId) ?? (await worker(actionTask.taskQueueId));
    let action = await actionWorker.claimOne();
    for (let i = 0; !action && i < 100; i++) action = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => actionWorker.claimOne());
    expect(action?.state, action?.log).toBe('completed');
    // … and before its promote task runs, a push moves the tag (E): the compare-and-swap refuses, the promote task fails.
    await buildImage(reg, { repository: signing, commit: repo.commits[0]!, tags: ['production'] });
    const queue = client('Queue', tc.rootUrl);
    const graph = (await listGroup(queue, decisionTaskId)).filter((t) => ['promote', 'fallback'].includes((t.task.tags as Record<string, string> | undefined)?.kind ?? ''));
    const graphWorker = workers.find((w) => w.options.taskQueueId === graph[0]!.task.taskQueueId) ?? (await worker(graph[0]!.task.taskQueueId as string));
    const runs = await graphWorker.runTaskGroup(decisionTaskId, { timeoutMs: 120_000 });
    expect(runs.map((r) => [r.label, r.state]), runs.map((r) => `${r.label}:\n${r.log}`).join('\n')).toEqual([
      ['promote-signingscript-production', 'failed'],
      ['fallback-signingscript-production', 'failed'],
    ]);
    // The fallback wrote the record through its proxy, with its own scope (index:insert-task:<failureIndex>).
    const fallback = runs[1]!;
    const inserted = fallback.proxied.filter((p) => p.method === 'PUT' && p.path.startsWith('/api/index/v1/task/'));
    expect(inserted.map((p) => p.status)).toEqual([200]);
    const namespace = 'scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.failed';
    const listed = await client('Index', tc.rootUrl).listTasks(namespace);
    const entry = listed.tasks.find((t: { taskId: string }) => t.taskId === graph.find((g) => (g.task.tags as Record<string, string>).kind === 'fallback')!.status.taskId);
    expect(entry?.data).toMatchObject({ outcome: 'failed', fallback: 'not-allowed', to: tags.A, reason, taskGroupId: decisionTaskId, promoteTasks: [{ state: 'failed' }] });
    // history: the failed promotion under the table, marked on the deploy it targeted (A).
    const env = { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: undefined, TASKCLUSTER_ACCESS_TOKEN: undefined, TASKCLUSTER_PROXY_URL: undefined };
    const json = (await runCli(['history', 'signingscript', '--config', configPath, '--records', '--json'], env)).json();
    expect(json.failedPromotions).toEqual([expect.objectContaining({ outcome: 'failed', fallback: 'not-allowed', to: tags.A, reason, requester: expect.any(String), taskGroupId: decisionTaskId })]);
    expect(json.deploys.find((d: { tag: string }) => d.tag === tags.A).failedPromotions).toHaveLength(1);
    const text = await runCli(['history', 'signingscript', '--config', configPath, '--records'], env);
    expect(text.stdout).toMatch(/a promotion to it failed \(below\)/);
    expect(text.stdout).toMatch(new RegExp(`\\nfailed promotion: 20\\d\\d-\\S+ to production-20240101000000-${repo.commits[1]!.slice(0, 12)} \\(from production-20240401000000-${repo.commits[4]!.slice(0, 12)}\\) by \\S+: "${reason}"; fallback not-allowed; task group ${decisionTaskId}\\n`));
  }, 240_000);

  it('refuses to fire the level-3 hook from a level-1 (pull request) decision task, before triggering', async () => {
    const decisionTaskId = await decisionTask(1);
    const refused = await trigger(decisionTaskId, { script: 'signingscript', environment: 'production', reason: 'from a pull request' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`do not satisfy in-tree:hook-action:project-scriptworker/${fxci.hook.hookId}`);
    expect((await listGroup(client('Queue', tc.rootUrl), decisionTaskId)).length).toBe(1);
  }, 120_000);
});
