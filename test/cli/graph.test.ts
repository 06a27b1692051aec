// The graph commands at the CLI edge: render, validate, actions, submit, trigger and
// action-callback, their output formats, exit codes and error messages.
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTemplatesDir } from '../../src/graph/templates.js';
import { inTreeActionHookTemplate, parseTaskclusterYml } from '../../src/graph/taskcluster-yml.js';
import { isSlugid, niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli, runCliProcess } from '../support/cli.js';
import { grantProjectAction, projectRepository, submitterScopes, triggerScopes } from '../support/clients.js';
import { movingDigest, revision, targetDigest } from '../support/plans.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { makeTempDir } from '../support/registry.js';

const targetTag = `production-20210929025643-${revision}`;
const offline = ['signingscript', '--offline', '--target-tag', targetTag, '--target-digest', targetDigest];
const tmp: string[] = [];
const tempDir = (): string => {
  const dir = makeTempDir('tc-promote-cli-');
  tmp.push(dir);
  return dir;
};
let tc: TaskclusterEmulator;
beforeAll(async () => {
  tc = await startTaskclusterEmulator();
  // A release engineer holding what `tc-promote grants` lists, and who may fire the promotion hook.
  tc.addClient('releng-cli', [...submitterScopes(), ...triggerScopes()], 'tok-DO-NOT-PRINT');
  // Without the deploy secret (nor the branch roles, which hold it too).
  tc.addClient('releng-limited', submitterScopes().filter((s) => !s.startsWith('secrets:get:') && !s.startsWith('assume:')), 'tok-DO-NOT-PRINT');
  grantProjectAction(tc);
});
afterAll(async () => {
  await tc?.close();
  tmp.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tcEnv = (): Record<string, string> => ({ TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'releng-cli', TASKCLUSTER_ACCESS_TOKEN: 'tok-DO-NOT-PRINT' });

describe('render', () => {
  it('prints the graph as JSON, works offline, and sends warnings to stderr', async () => {
    const r = await runCli(['render', ...offline, '--moving-digest', movingDigest, '--task-group-id', 'AAAAAAAAQACAAAAAAAAAAQ', '--reason', 'bad deploy']);
    expect(r.code).toBe(0);
    const doc = r.json();
    expect(doc.taskGroupId).toBe('AAAAAAAAQACAAAAAAAAAAQ');
    expect(doc.tasks.map((t: { label: string }) => t.label)).toEqual(['promote-signingscript-production', 'fallback-signingscript-production']);
    expect(doc.tasks[0].task.payload.command).toContain(movingDigest);
    expect(r.stderr).toMatch(/^warning: offline: /m);
  });

  it('prints yaml, dot and mermaid', async () => {
    const yaml = await runCli(['render', ...offline, '--format', 'yaml']);
    expect((load(yaml.stdout) as { tasks: unknown[] }).tasks).toHaveLength(2);
    expect((await runCli(['render', ...offline, '--format', 'dot'])).stdout).toMatch(/^digraph /);
    expect((await runCli(['render', ...offline, '--format', 'mermaid'])).stdout).toMatch(/^flowchart TB\n/);
    const rebuild = await runCli(['render', 'signingscript', '--offline', '--target-tag', targetTag, '--route', 'rebuild']);
    expect(rebuild.json().tasks.map((t: { label: string }) => t.label)).toEqual(['force-push-signingscript-production']);
  });

  it('exits 2 naming the flag and value for bad input', async () => {
    const cases: [string[], RegExp][] = [
      [['render', ...offline, '--format', 'svg'], /--format: "svg" is not a format/],
      [['render', 'signingscript', '--offline', '--target-tag', 'latest'], /--target-tag: "latest" is not an archive tag/],
      [['render', 'signingscript', '--offline', '--target-digest', 'sha256:xyz'], /--target-digest: "sha256:xyz" is not a sha256 digest/],
      [['render', 'signingscript', '--target-digest', targetDigest], /--target-digest: only with --offline/],
      [['render', ...offline, '--to', 'abcdef0'], /--to: resolves a target from the registry/],
      [['render', ...offline, '--task-group-id', 'nope'], /--task-group-id: "nope" is not a task id/],
      [['render', 'nosuchscript', '--offline', '--target-digest', targetDigest], /script: unknown script "nosuchscript"/],
      [['render', ...offline, '--route', 'retag', '--env', 'staging'], /--env: unknown environment "staging"/],
    ];
    for (const [argv, message] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('has help with an example', async () => {
    for (const command of ['render', 'submit', 'validate', 'actions', 'trigger', 'action-callback']) {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples?( \(what the action task runs\))?:\n  (tc-promote|ACTION_CALLBACK)/);
    }
  });
});

describe('validate', () => {
  it('passes on the repository', async () => {
    const r = await runCli(['validate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 156 tasks in 104 graphs/);
  });

  it('fails with exit 2 on a broken template copy, one line per problem', async () => {
    const dir = tempDir();
    cpSync(defaultTemplatesDir, dir, { recursive: true });
    const file = path.join(dir, 'fallback.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^requires: all-resolved$/m, 'requires: whenever'));
    const r = await runCli(['validate', '--templates', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toBe(`${file}: addonscript/production/retag: /requires: must be equal to one of the allowed values (got "whenever") (and 51 more script/env/route)`);
    expect(r.stdout).toMatch(/^1 problem\(s\); /m);
  });

  it("also validates against a deployment's published schemas with --root-url", async () => {
    const r = await runCli(['validate', '--root-url', tc.rootUrl, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, problems: [], publishedSchemas: tc.rootUrl });
    expect(tc.callsOf('schema').map((c) => c.path)).toEqual(expect.arrayContaining(['/schemas/queue/v1/create-task-request.json', '/schemas/queue/v1/task.json', '/schemas/docker-worker/v1/payload.json', '/schemas/common/action-schema-v1.json']));
  });
});

describe('actions', () => {
  const tcyml = fileURLToPathSafe(new URL('../../.taskcluster.yml', import.meta.url));
  const decision = ['--taskcluster-yml', tcyml, '--decision-task-id', 'AAAAAAAAQACAAAAAAAAAAQ', '--revision', revision];

  it('writes actions.json version 1 with the hook action', async () => {
    const r = await runCli(['actions', ...decision]);
    expect(r.code).toBe(0);
    const file = r.json();
    expect(file.version).toBe(1);
    const hash = createHash('sha256').update(readFileSync(tcyml)).digest('hex').slice(0, 10);
    expect(file.actions).toMatchObject([{ name: 'promote-image', kind: 'hook', hookId: `in-tree-action-3-release-promotion/${hash}`, context: [] }]);
  });

  it('merges into an existing actions.json in place, without duplicates', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'actions.json');
    writeFileSync(file, JSON.stringify({ version: 1, variables: {}, actions: [{ name: 'retrigger', kind: 'task', title: 'Retrigger', description: '', task: {} }] }));
    expect((await runCli(['actions', ...decision, '--merge', file])).code).toBe(0);
    expect((await runCli(['actions', ...decision, '--merge', file])).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).actions.map((a: { name: string }) => a.name)).toEqual(['retrigger', 'promote-image']);
    const out = path.join(dir, 'out.json');
    expect((await runCli(['actions', ...decision, '--merge', file, '--output', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).actions).toHaveLength(2);
  });

  it('takes the decision from the environment of a decision task, and exits 2 without one', async () => {
    const r = await runCli(['actions', '--taskcluster-yml', tcyml], { TASK_ID: 'AAAAAAAAQACAAAAAAAAAAQ', TC_PROMOTE_HEAD_REV: revision, TC_PROMOTE_HEAD_REF: 'refs/heads/main', TC_PROMOTE_LEVEL: '1' });
    expect(r.code).toBe(0);
    // As taskgraph writes it: the full ref.
    expect(r.json().actions[0].hookPayload.decision.push.branch).toBe('refs/heads/main');
    expect(r.json().actions[0].hookId).toMatch(/^in-tree-action-1-/);
    const missing = await runCli(['actions', '--taskcluster-yml', tcyml]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/--decision-task-id: missing/)]);
  });
});

describe('submit, trigger and action-callback against the emulator', () => {
  it('submit --offline creates the graph and prints the task group URL, never the token', async () => {
    const r = await runCli(['submit', ...offline, '--moving-digest', movingDigest, '--reason', 'cli test'], tcEnv());
    expect(r.code).toBe(0);
    const group = /task group: (\S+)\/tasks\/groups\/(\S+)/.exec(r.stdout);
    expect(group?.[1]).toBe(tc.rootUrl);
    expect(isSlugid(group?.[2])).toBe(true);
    expect([...tc.tasks.values()].filter((t) => t.task.taskGroupId === group?.[2])).toHaveLength(2);
    expect(tc.callsOf('createTask').at(-1)!.clientId).toBe('releng-cli');
    expect(r.stdout + r.stderr).not.toContain('tok-DO-NOT-PRINT');
  });

  it('submit works as a real process too (the built CLI, Node ESM loading taskcluster-client)', async () => {
    // A second graph from the same state (tag and digest) is a new attempt, or the Queue refuses it.
    const r = await runCliProcess(['submit', ...offline, '--moving-digest', movingDigest, '--route', 'retag', '--attempt', '2', '--json'], tcEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ created: [{ label: 'promote-signingscript-production' }, { label: 'fallback-signingscript-production' }], failed: [], notCreated: [] });
    expect(r.json().url).toBe(`${tc.rootUrl}/tasks/groups/${r.json().taskGroupId}`);
  });

  it('submit --dry-run creates nothing; a retag submitted offline needs the compare-and-swap digest', async () => {
    const before = tc.callsOf('createTask').length;
    const dry = await runCli(['submit', ...offline, '--dry-run', '--json'], tcEnv());
    expect(dry.code).toBe(0);
    expect(dry.json().tasks).toHaveLength(2);
    const refused = await runCli(['submit', ...offline], tcEnv());
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/--moving-digest/)]);
    expect(tc.callsOf('createTask').length).toBe(before);
  });

  it('submit --dry-run without --json: a summary, and the Queue asked whether the task ids exist', async () => {
    // Without --json, a summary (issue 22): tasks, dependencies, scopes, what would move, and the Queue asked about the ids.
    const summary = await runCli(['submit', ...offline, '--dry-run', '--attempt', '7'], tcEnv());
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toMatch(/^dry run: nothing was created\n {2}task group: {2}\S+\n {2}tasks: {7}2\n {4}promote-signingscript-production: .*\n {4}fallback-signingscript-production \(after promote-signingscript-production, whatever their outcome\): /);
    expect(summary.stdout).toContain('\n  dependencies: 1\n');
    expect(summary.stdout).toContain('\n    secrets:get:project/releng/scriptworker-scripts/deploy\n');
    expect(summary.stdout).toContain(`\n  would move:  docker.io/mozilla/releng-signingscript:production to ${targetDigest}`);
    expect(summary.stdout).toContain(`\n  task ids:    none exists yet in ${tc.rootUrl} (the Queue was asked)\n`);
    // The same graph once created: the promote task's id is derived from the state it moves from, and the dry run says it exists.
    expect((await runCli(['submit', ...offline, '--attempt', '7', '--moving-digest', `sha256:${'e'.repeat(64)}`, '--reason', 'x'], tcEnv())).code).toBe(0);
    const again = await runCli(['submit', ...offline, '--dry-run', '--attempt', '7', '--moving-digest', `sha256:${'e'.repeat(64)}`, '--reason', 'x'], tcEnv());
    expect(again.stdout).toMatch(new RegExp(`\\n  task ids: {4}1 exists already in ${tc.rootUrl.replace(/[.]/g, '\\.')}: promote-signingscript-production \\(submitting creates nothing for them\\)`));
    const none = await runCli(['submit', ...offline, '--dry-run']);
    expect(none.stdout).toContain('  task ids:    not checked with the Queue: no credentials (TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN)\n');
  });

  it('submit exits 1 and lists what was not created when the Queue refuses a create (a scope is missing)', async () => {
    const group = niceSlugid();
    const r = await runCli(['submit', ...offline, '--moving-digest', movingDigest, '--task-group-id', group, '--attempt', '3'], { ...tcEnv(), TASKCLUSTER_CLIENT_ID: 'releng-limited' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /nothing was created: the Queue refused the task and the 1 after it were not sent:\n {2}promote-signingscript-production \(\S+\): createTask \S+: 403 InsufficientScopes: Client ID releng-limited does not have sufficient scopes and is missing the following scopes: secrets:get:project\/releng\/scriptworker-scripts\/deploy \(check the credentials' scopes\)/,
    );
    expect(r.stderr).toMatch(/not created because a task they depend on was not \(1\):\n {2}fallback-signingscript-production \(\S+\), after promote-signingscript-production/);
    expect(r.stderr).not.toContain('tok-DO-NOT-PRINT');
    expect([...tc.tasks.values()].filter((t) => t.task.taskGroupId === group)).toEqual([]);
  });

  it('trigger prints the action task id; action-callback refuses a foreign environment', async () => {
    const tcymlText = readFileSync(new URL('../../.taskcluster.yml', import.meta.url), 'utf8');
    const decisionTaskId = niceSlugid();
    const actions = await runCli(['actions', '--taskcluster-yml', fileURLToPathSafe(new URL('../../.taskcluster.yml', import.meta.url)), '--decision-task-id', decisionTaskId, '--revision', revision, '--repository-url', 'https://github.com/mozilla-releng/tc-promote']);
    tc.insertTask(decisionTaskId, { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', scopes: [`assume:repo:${projectRepository}:branch:main`], created: new Date().toISOString(), deadline: new Date(Date.now() + 3600_000).toISOString(), payload: {}, metadata: {} });
    tc.putArtifact(decisionTaskId, 'public/actions.json', actions.stdout);
    const action = actions.json().actions[0];
    tc.defineHook(action.hookGroupId, action.hookId, { task: inTreeActionHookTemplate(parseTaskclusterYml(tcymlText, '.taskcluster.yml')) });
    const input = JSON.stringify({ script: 'treescript', environment: 'dev', reason: 'roll back dev' });
    const r = await runCli(['trigger', '--decision-task-id', decisionTaskId, '--input', input], tcEnv());
    expect(r.code, r.stderr).toBe(0);
    const [taskId, url] = r.stdout.trim().split('\n');
    expect(url).toBe(`${tc.rootUrl}/tasks/${taskId}`);
    const env = (tc.tasks.get(taskId!)!.task.payload as { env: Record<string, string> }).env;
    expect(JSON.parse(env.ACTION_INPUT!)).toEqual(JSON.parse(input));
    const asProcess = await runCliProcess(['trigger', '--decision-task-id', decisionTaskId, '--input', input, '--json'], tcEnv());
    expect(asProcess.code, asProcess.stderr).toBe(0);
    expect(tc.tasks.has(asProcess.json().taskId)).toBe(true);
    const bad = await runCli(['trigger', '--decision-task-id', decisionTaskId, '--input', '{"script": "treescript"}'], tcEnv());
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/--input: \/environment: is required/)]);

    const callback = await runCli(['action-callback'], { ...env, ACTION_CALLBACK: 'something_else', TASK_ID: taskId });
    expect([callback.code, callback.stderr]).toEqual([2, expect.stringMatching(/ACTION_CALLBACK: "something_else" is not tc-promote's callback/)]);
    const noTask = await runCli(['action-callback'], { ...env });
    expect([noTask.code, noTask.stderr]).toEqual([2, expect.stringMatching(/TASK_ID: missing/)]);
  });
});

function fileURLToPathSafe(url: URL): string {
  return decodeURIComponent(url.pathname);
}
