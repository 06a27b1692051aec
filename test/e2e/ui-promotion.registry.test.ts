// The real promotion path, end to end, with nothing written here standing in for a part that
// exists (SPEC sections 7 to 9; issue 10):
//
//   a UI-style `tc-promote trigger` (the UI's authorisation check and json-e context)
//   → the in-tree action hook fxci-config generates (../shared/reference/fxci-config), rebuilt
//     for the patched scriptworker-scripts .taskcluster.yml (consumers/, applied with git apply
//     to copies in a temporary folder), fired with the hooks service's rules and role check
//   → the action task: its image, command, env and scopes as the patched file renders them
//   → `tc-promote action-callback`, run as that task by the local worker (its proxy holds only
//     its scopes), reading its configuration from the pushed revision with git
//   → the graph created in the emulator under exactly the role scopes the fxci-config patch
//     grants (roles computed from the patched grants.d as ciadmin computes them)
//   → the promote and fallback tasks run by the same worker
//   → the real registry in token-auth mode, whose credentials exist only in the emulator's
//     secret (field dockercfg): the moving tag moved, the archive tag written, and
//     public/promotion.json published.
// Also: a promote that fails → the fallback force-pushes on the GitHub emulator; a second
// trigger from the same state → refused; a level-1 decision task cannot fire the level-3 hook.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookIdFor } from '../../src/graph/actions.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli } from '../support/cli.js';
import { applyConsumerPatches, consumerConfigPath, fxciDeploymentRoles, hookFor, type PatchedCopies } from '../support/consumers.js';
import { buildImage, headManifest } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { referencePath } from '../support/reference.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { LocalTaskRunner, type TaskRun } from '../support/task-runner.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const repository = 'mozilla-releng/scriptworker-scripts';
const repoUrl = `https://github.com/${repository}`;
const signing = 'mozilla/releng-signingscript';
const deploySecret = 'project/releng/scriptworker-scripts/deploy';

let copies: PatchedCopies;
let tc: TaskclusterEmulator;
let reg: RunningRegistry;
let repo: GitFixture;
let gh: GitHubEmulator;
let runner: LocalTaskRunner;
let tcymlText: string;
let hookId: string;
let head: string;
let ui: { clientId: string; accessToken: string };
/** Archive tags: A (older, the previous-known-good), B (current). */
let tags: { A: string; B: string };
let digests: { A: string; B: string };
/** The scopes the action task's role expands to (the hook role → the action role). */
let roleScopes: string[];

beforeAll(async () => {
  copies = applyConsumerPatches();
  tcymlText = readFileSync(copies.taskclusterYmlPath, 'utf8');
  const hook = hookFor(tcymlText);
  hookId = hook.hookId;

  // scriptworker-scripts: a real git repository whose default branch holds the consumer's
  // configuration, pointed at the test registry; served by the GitHub API emulator.
  repo = createGitFixture({ scripts: ['signingscript'], commits: 5, productionAt: 2 });
  reg = await startRegistry({ auth: 'token' });
  const consumerConfig = readFileSync(consumerConfigPath, 'utf8').replaceAll('registry: docker.io', `registry: ${reg.host}`);
  head = commitFile(repo, 'taskcluster/tc-promote.yml', consumerConfig);
  repo.git('config', 'uploadpack.allowAnySHA1InWant', 'true');
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });

  tags = { A: `production-20240101000000-${repo.commits[1]}`, B: `production-20240201000000-${repo.commits[2]}` };
  const a = await buildImage(reg, { repository: signing, commit: repo.commits[1]!, tags: [tags.A] });
  const b = await buildImage(reg, { repository: signing, commit: repo.commits[2]!, tags: ['production', tags.B] });
  digests = { A: a.digest, B: b.digest };

  // Firefox-CI: roles from the patched grants, the hook from the patched .taskcluster.yml.
  tc = await startTaskclusterEmulator({ roles: fxciDeploymentRoles(copies.fxciDir, hook) });
  tc.defineHook(hook.hookGroupId, hook.hookId, { task: hook.hook.task, triggerSchema: hook.hook.triggerSchema });
  roleScopes = tc.expand([`assume:hook-id:${hook.hookGroupId}/${hook.hookId}`]);
  // The deploy secret: the only place the registry's credentials and the GitHub token exist.
  tc.setSecret(deploySecret, {
    dockercfg: { auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } },
    github_token: gh.token,
  });
  // A release engineer who may fire the promotion hook, and nothing else.
  ui = tc.addClient('releng-oncall', [`hooks:trigger-hook:${hook.hookGroupId}/in-tree-action-3-release-promotion/*`]);
  runner = new LocalTaskRunner(tc, {
    // What the worker's network would be: GitHub's API and repository URLs lead to the emulator and the fixture.
    env: { GITHUB_API_URL: gh.url, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${repo.gitDir}.insteadOf`, GIT_CONFIG_VALUE_0: repoUrl, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}, 120_000);

afterAll(async () => {
  await runner?.cleanup();
  await tc?.close();
  await reg?.stop();
  await gh?.stop();
  repo?.cleanup();
  copies?.cleanup();
});

/** A commit on the default branch adding one file (git plumbing on the bare fixture). */
function commitFile(fixture: GitFixture, file: string, text: string): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(fixture.gitDir, 'tc-promote-index'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Release Engineer', GIT_AUTHOR_EMAIL: 'releng@example.com', GIT_COMMITTER_NAME: 'Release Engineer', GIT_COMMITTER_EMAIL: 'releng@example.com' };
  const git = (args: string[], input?: string): string => execFileSync('git', ['--git-dir', fixture.gitDir, ...args], { env, encoding: 'utf8', ...(input !== undefined && { input }) }).trim();
  const parent = git(['rev-parse', fixture.defaultBranch]);
  git(['read-tree', parent]);
  const blob = git(['hash-object', '-w', '--stdin'], text);
  git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`]);
  const tree = git(['write-tree']);
  const commit = git(['commit-tree', tree, '-p', parent, '-m', `Add ${file}`]);
  git(['update-ref', `refs/heads/${fixture.defaultBranch}`, commit]);
  return commit;
}

/**
 * A decision task with the actions.json taskgraph wrote and tc-promote's action merged in
 * (taskgraph, which cannot run here, writes the same entry from the registration in
 * consumers/scriptworker-scripts/actions.py: test/consumers/taskgraph-module.test.ts):
 * a push to the default branch (level 3), or a pull request's (level 1) whose actions.json
 * names the level-3 hook anyway (its author controls that file).
 */
async function decisionTask(level: 1 | 3 = 3): Promise<string> {
  const decisionTaskId = niceSlugid();
  const dir = path.dirname(copies.taskclusterYmlPath);
  const actionsFile = path.join(dir, `actions-${decisionTaskId}.json`);
  // taskgraph's real actions.json for the repository, with the decision's group.
  writeFileSync(actionsFile, readFileSync(referencePath('taskgraph', 'scriptworker-scripts.actions.json'), 'utf8').replaceAll('Cv1d8fPHRzWvO3MZbI1e3A', decisionTaskId));
  const merged = await runCli(['actions', '--merge', actionsFile, '--taskcluster-yml', copies.taskclusterYmlPath, '--decision-task-id', decisionTaskId, '--revision', head, '--branch', 'refs/heads/master', '--level', '3', '--repository-url', repoUrl, '--owner', 'releng@mozilla.com']);
  expect(merged.code, merged.stderr).toBe(0);
  const now = Date.now();
  tc.insertTask(decisionTaskId, {
    taskGroupId: decisionTaskId,
    schedulerId: `scriptworker-level-${level}`,
    taskQueueId: `scriptworker-${level}/decision`,
    // What the GitHub service gives a push's decision task (a pull request's, at level 1).
    scopes: [level === 3 ? `assume:repo:github.com/${repository}:branch:master` : `assume:repo:github.com/${repository}:pull-request`],
    created: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    payload: {},
    metadata: { name: 'Decision Task', description: '', owner: 'releng@mozilla.com', source: `${repoUrl}/raw/${head}/.taskcluster.yml` },
  });
  tc.putArtifact(decisionTaskId, 'public/actions.json', readFileSync(actionsFile));
  return decisionTaskId;
}

const trigger = (decisionTaskId: string, input: Record<string, unknown>) =>
  runCli(['trigger', '--decision-task-id', decisionTaskId, '--input', JSON.stringify(input), '--json'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: ui.clientId, TASKCLUSTER_ACCESS_TOKEN: ui.accessToken });

const secretValues = (): string[] => [reg.password!, Buffer.from(`${reg.username}:${reg.password}`).toString('base64'), gh.token, Buffer.from(gh.token).toString('base64')];

function expectNoSecret(runs: TaskRun[]): void {
  for (const run of runs) {
    for (const value of secretValues()) {
      expect(run.log).not.toContain(value);
      for (const [name, body] of run.artifacts) expect(body.toString('utf8'), `${run.label} ${name}`).not.toContain(value);
    }
  }
  for (const stored of tc.tasks.values()) for (const value of secretValues()) expect(JSON.stringify(stored.task)).not.toContain(value);
}

describe('Taskcluster UI → fxci-config hook → patched .taskcluster.yml → action-callback → promote', () => {
  it('promotes: the action task and the graph run with exactly the granted scopes, against the token-auth registry', async () => {
    const started = Date.now();
    const decisionTaskId = await decisionTask();
    // The hook id names the patched file's hash, as fxci-config would generate it.
    expect(hookId).toBe(hookIdFor(3, tcymlText));
    const input = { script: 'signingscript', environment: 'production', reason: 'signing fails since the last deploy', fallback: true };
    const triggered = await trigger(decisionTaskId, input);
    expect(triggered.code, triggered.stderr).toBe(0);
    const actionTaskId = triggered.json().taskId as string;
    // A second on-call engineer triggers the same promotion from the same state.
    const again = await trigger(decisionTaskId, input);
    expect(again.code, again.stderr).toBe(0);
    const secondActionTaskId = again.json().taskId as string;

    // The action task as the hook created it from the patched .taskcluster.yml.
    const actionTask = tc.tasks.get(actionTaskId)!.task as unknown as { payload: { image: string; command: string[]; env: Record<string, string> }; scopes: string[]; taskGroupId: string; created: string; deadline: string; expires: string };
    const consumerConfig = parseYaml(readFileSync(consumerConfigPath, 'utf8')) as { taskcluster: { image: string } };
    expect(actionTask.payload.image).toBe(consumerConfig.taskcluster.image);
    expect(actionTask.payload.image).toMatch(/^mozillareleases\/tc-promote:[\w.-]+@sha256:[0-9a-f]{64}$/);
    expect(actionTask.payload.command.at(-1)).toContain('exec tc-promote action-callback --config taskcluster/tc-promote.yml');
    expect(actionTask.payload.env).toMatchObject({ ACTION_CALLBACK: 'promote_image', ACTION_TASK_GROUP_ID: decisionTaskId, ACTION_TASK_ID: JSON.stringify(decisionTaskId), SCRIPTWORKER_HEAD_REV: head, SCRIPTWORKER_HEAD_REF: 'refs/heads/master' });
    expect(JSON.parse(actionTask.payload.env.ACTION_INPUT!)).toEqual(input);
    expect(actionTask.scopes).toEqual([`assume:repo:github.com/${repository}:action:release-promotion`]);
    expect(actionTask.taskGroupId).toBe(decisionTaskId);

    const all = await runner.runUntilIdle();
    // The second action task ran while the first graph waited: its graph is refused (the
    // promote task's id is keyed on the state it moves from), and it creates nothing.
    const second = all.filter((r) => r.taskId === secondActionTaskId);
    expect(second.map((r) => [r.label, r.state, r.exitCode]), second[0]?.log).toEqual([['Action: Promote image', 'failed', 3]]);
    expect(second[0]!.log).toMatch(/409|already used/);
    expect([...tc.tasks.values()].filter((t) => t.task.dependencies.includes(secondActionTaskId))).toEqual([]);
    const runs = all.filter((r) => r.taskId !== secondActionTaskId);
    const byKind = (kind: string) => runs.filter((r) => (tc.tasks.get(r.taskId)!.task.tags as Record<string, string>).kind === kind);
    expect(runs.map((r) => [r.label, r.state]), runs.map((r) => `${r.label}:\n${r.log}`).join('\n')).toEqual([
      ['Action: Promote image', 'completed'],
      ['promote-signingscript-production', 'completed'],
      ['fallback-signingscript-production', 'completed'],
    ]);
    // The action task created the graph through its proxy, with its own credentials only.
    const creates = tc.callsOf('createTask').filter((c) => c.clientId === `task-client/${actionTaskId}/0`);
    expect(creates.map((c) => c.status)).toEqual([200, 200]);
    // Exactly the role scopes the patches grant, no more (anonymous's reads aside).
    expect(creates[0]!.scopes).toEqual(tc.expand([`assume:repo:github.com/${repository}:action:release-promotion`, 'assume:anonymous']));
    expect(roleScopes).toContain(`secrets:get:${deploySecret}`);

    // The registry moved, with credentials read from the secret by the promote task.
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(digests.A);
    const [promote] = byKind('promote');
    const record = JSON.parse(promote!.artifacts.get('public/promotion.json')!.toString('utf8'));
    expect(record).toMatchObject({ script: 'signingscript', env: 'production', from: tags.B, to: tags.A, digest: digests.A, revision: repo.commits[1], reason: input.reason, outcome: 'written' });
    expect((await headManifest(reg, signing, record.archiveTag.tag))!.digest).toBe(digests.A);
    expect(tc.tasks.get(promote!.taskId)!.artifacts.has('public/promotion.json')).toBe(true);
    expect(promote!.proxied.map((p) => `${p.path} ${p.status}`)).toEqual([`/api/secrets/v1/secret/${encodeURIComponent(deploySecret)} 200`]);
    expect(JSON.parse(byKind('fallback')[0]!.artifacts.get('public/promotion.json')!.toString('utf8'))).toMatchObject({ outcome: 'not-needed' });
    expect(gh.writes()).toEqual([]);
    expectNoSecret(runs);

    expectNoSecret(second);
    // eslint-disable-next-line no-console
    console.log(`end-to-end: ${all.length} task runs (${tc.tasks.size} tasks in the emulator) in ${Date.now() - started} ms`);
  }, 120_000);

  it('a promote that fails → the fallback force-pushes the target revision on the GitHub emulator', async () => {
    // A new deploy (C) that needs rolling back; a state no promotion has moved from before.
    await buildImage(reg, { repository: signing, commit: repo.commits[3]!, tags: ['production', `production-20240301000000-${repo.commits[3]}`] });
    const decisionTaskId = await decisionTask();
    const branchBefore = repo.rev('refs/heads/production-signingscript');
    const triggered = await trigger(decisionTaskId, { script: 'signingscript', environment: 'production', target: tags.A, reason: 'roll back; fall back to a rebuild', fallback: true });
    expect(triggered.code, triggered.stderr).toBe(0);
    const action = await runner.runTask(triggered.json().taskId);
    // Someone deploys between the plan and the promote task: the compare-and-swap fails.
    const moved = await buildImage(reg, { repository: signing, commit: repo.commits[4]!, tags: ['production'] });
    const runs = [action, ...(await runner.runUntilIdle())];
    expect(runs.map((r) => [r.label, r.state])).toEqual([
      ['Action: Promote image', 'completed'],
      ['promote-signingscript-production', 'failed'],
      ['fallback-signingscript-production', 'completed'],
    ]);
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(moved.digest);
    const fallback = JSON.parse(runs[2]!.artifacts.get('public/promotion.json')!.toString('utf8'));
    expect(fallback).toMatchObject({ outcome: 'force-pushed', branch: 'production-signingscript', oldHead: branchBefore });
    expect(repo.rev('refs/heads/production-signingscript')).toBe(repo.commits[1]);
    expectNoSecret(runs);
  }, 120_000);

  it('an action task whose payload was not written by a decision task (triggerHook called directly) runs no git option it carries', async () => {
    const decisionTaskId = await decisionTask();
    const actions = JSON.parse(tc.tasks.get(decisionTaskId)!.artifacts.get('public/actions.json')!.body.toString('utf8'));
    const action = actions.actions.find((a: { name: string }) => a.name === 'promote-image');
    const payload = JSON.parse(JSON.stringify(action.hookPayload).replaceAll('{"$eval":"input"}', '{"script":"signingscript","environment":"production","reason":"x"}').replaceAll('{"$eval":"taskId"}', `"${decisionTaskId}"`).replaceAll('{"$eval":"taskGroupId"}', `"${decisionTaskId}"`));
    payload.decision.push.revision = '--upload-pack=touch /tmp/tc-promote-pwned';
    const { default: taskcluster } = await import('taskcluster-client');
    const hooks = new taskcluster.Hooks({ rootUrl: tc.rootUrl, credentials: ui, retries: 0 });
    const fired = await hooks.triggerHook('project-scriptworker', hookId, payload);
    const [run] = [await runner.runTask(fired.taskId!)];
    expect([run!.state, run!.exitCode]).toEqual(['failed', 2]);
    expect(run!.log).toContain('SCRIPTWORKER_HEAD_REV is not a full revision (40 hex)');
    expect(tc.callsOf('createTask').filter((c) => c.clientId === `task-client/${fired.taskId}/0`)).toEqual([]);
  }, 60_000);

  it('refuses to fire the level-3 hook from a level-1 (pull request) decision task, before triggering', async () => {
    const decisionTaskId = await decisionTask(1);
    const fired = tc.callsOf('triggerHook').length;
    const refused = await trigger(decisionTaskId, { script: 'signingscript', environment: 'production', reason: 'from a pull request' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`do not satisfy in-tree:hook-action:project-scriptworker/${hookId}`);
    expect(tc.callsOf('triggerHook').length).toBe(fired);
  }, 60_000);
});
