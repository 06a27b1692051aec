// consumers/: the changes a maintainer of scriptworker-scripts and of fxci-config applies, held
// against the real files in ../shared/reference (copies in a temporary folder, patched with
// git apply and patch -p1), and against what fxci-config's generator and grants make of them.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { actionName, buildAction, callbackName, hookIdFor } from '../../src/graph/actions.js';
import { fireHookTask, inTreeActionHookTemplate, parseTaskclusterYml, renderForGithub, renderJsone } from '../../src/graph/taskcluster-yml.js';
import { checkGrants, requiredGrants } from '../../src/taskcluster/grants.js';
import { applyConsumerPatches, consumerConfigPath, fxciDeploymentRoles, fxciPatches, hookFor, referenceHook, taskclusterYmlPatch, type PatchedCopies } from '../support/consumers.js';
import { referencePath } from '../support/reference.js';
import { expandScopes } from '../support/roles.js';
import { makeTempDir, removeTempDir } from '../support/registry.js';

const referenceTcyml = readFileSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), 'utf8');
const repositoryUrl = 'https://github.com/mozilla-releng/scriptworker-scripts';
const actionRole = 'assume:repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion';
let copies: PatchedCopies;
let patchedTcyml: string;

beforeAll(() => {
  copies = applyConsumerPatches();
  patchedTcyml = readFileSync(copies.taskclusterYmlPath, 'utf8');
});
afterAll(() => copies?.cleanup());

describe('the patches', () => {
  it('are unified diffs as git diff writes them, with paths relative to each repository', () => {
    const heads = [taskclusterYmlPatch, ...fxciPatches].map((p) => readFileSync(p, 'utf8').split('\n').slice(0, 4).filter((l) => !l.startsWith('index ')));
    expect(heads).toEqual([
      ['diff --git a/.taskcluster.yml b/.taskcluster.yml', '--- a/.taskcluster.yml', '+++ b/.taskcluster.yml'],
      ['diff --git a/actions.yml b/actions.yml', '--- a/actions.yml', '+++ b/actions.yml'],
      ['diff --git a/grants.d/scriptworker.yml b/grants.d/scriptworker.yml', '--- a/grants.d/scriptworker.yml', '+++ b/grants.d/scriptworker.yml'],
    ]);
  });

  it('remove no line they do not replace: the fxci-config ones only add, the .taskcluster.yml one replaces only the image line', () => {
    const removed = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('-') && !line.startsWith('--- '));
    for (const patch of fxciPatches) expect(removed(patch), path.basename(patch)).toEqual([]);
    expect(removed(taskclusterYmlPatch).map((line) => line.trim())).toEqual([expect.stringMatching(/^-\s*image: mozillareleases\/taskgraph:decision-/)]);
    // Every comment line of the reference files is still there after the patches.
    const comments = (text: string) => text.split('\n').filter((line) => line.trimStart().startsWith('#'));
    for (const file of ['actions.yml', 'grants.d/scriptworker.yml']) {
      const after = comments(readFileSync(path.join(copies.fxciDir, file), 'utf8'));
      for (const line of comments(readFileSync(referencePath('fxci-config', file), 'utf8'))) expect(after, file).toContain(line);
    }
    const after = comments(patchedTcyml);
    for (const line of comments(referenceTcyml)) expect(after, '.taskcluster.yml').toContain(line);
  });

  it('apply with patch -p1 too, to fresh copies of the reference files', () => {
    const dir = makeTempDir('patch-p1-');
    try {
      cpSync(referencePath('fxci-config'), path.join(dir, 'fxci'), { recursive: true });
      cpSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), path.join(dir, 'sws', '.taskcluster.yml'));
      execFileSync('chmod', ['-R', 'u+w', dir]);
      for (const patch of fxciPatches) execFileSync('patch', ['-p1', '--quiet', '-i', patch], { cwd: path.join(dir, 'fxci') });
      execFileSync('patch', ['-p1', '--quiet', '-i', taskclusterYmlPatch], { cwd: path.join(dir, 'sws') });
      expect(readFileSync(path.join(dir, 'sws', '.taskcluster.yml'), 'utf8')).toBe(patchedTcyml);
      expect(readFileSync(path.join(dir, 'fxci', 'grants.d', 'scriptworker.yml'), 'utf8')).toBe(readFileSync(path.join(copies.fxciDir, 'grants.d', 'scriptworker.yml'), 'utf8'));
    } finally {
      removeTempDir(dir);
    }
  });
});

describe("fxci-config: the hook it generates and the roles its grants make", () => {
  it('generates the promotion hook for trust domain scriptworker only once actions.yml gives the permission', () => {
    const perms = (file: string) => (parseYaml(readFileSync(file, 'utf8')) as { trust_domain: string; levels: number[]; action_perms: string[] }[]).find((a) => a.trust_domain === 'scriptworker')!;
    expect(perms(referencePath('fxci-config', 'actions.yml')).action_perms).not.toContain('release-promotion');
    const patched = perms(path.join(copies.fxciDir, 'actions.yml'));
    expect(patched.action_perms).toEqual(['generic', 'release-promotion']);
    expect(patched.levels).toContain(3);
  });

  it("wraps .taskcluster.yml exactly as src/graph/taskcluster-yml.ts does (the reference hook is the generator's output)", () => {
    const hook = referenceHook();
    const tcyml = parseTaskclusterYml(referenceTcyml, 'reference');
    expect(hook.hook.task).toEqual(inTreeActionHookTemplate(tcyml));
    expect(hook.hookId).toBe(hookIdFor(3, referenceTcyml));
    // The patched file is another hook, with the same template around its own first task.
    const rebuilt = hookFor(patchedTcyml);
    expect(rebuilt.hookId).toBe(hookIdFor(3, patchedTcyml));
    expect(rebuilt.hookId).not.toBe(hook.hookId);
    expect(rebuilt.hook.task).toEqual(inTreeActionHookTemplate(parseTaskclusterYml(patchedTcyml, 'patched')));
  });

  it("computes today's action role as fxci-config's README states it", () => {
    const roles = fxciDeploymentRoles(referencePath('fxci-config'));
    const expanded = expandScopes(['assume:repo:github.com/mozilla-releng/scriptworker-scripts:action:*'], roles);
    expect(expanded).toEqual(
      expect.arrayContaining([
        'queue:scheduler-id:scriptworker-level-3',
        'queue:create-task:highest:scriptworker-3/*',
        'queue:create-task:highest:scriptworker-k8s/scriptworker-t-*',
        'queue:route:index.scriptworker.v2.scriptworker-scripts.*',
        'queue:route:index.scriptworker.cache.level-3.*',
        'queue:rerun-task:scriptworker-level-3/*',
        'in-tree:hook-action:project-scriptworker/in-tree-action-3-*',
        'queue:scheduler-id:scriptworker-level-1',
        'queue:create-task:highest:scriptworker-1/*',
        'queue:route:index.scriptworker.cache.level-1.*',
      ]),
    );
    expect(expanded).not.toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
    expect(expanded.some((s) => s.startsWith('queue:route:notify'))).toBe(false);
    expect(expandScopes(['assume:anonymous'], roles)).toEqual(expect.arrayContaining(['queue:status:*', 'queue:list-task-group:*', 'index:find-task:*', 'queue:create-task:project:none']));
    // Only the branch roles hold the deploy secret.
    expect(expandScopes(['assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:production-signingscript'], roles)).toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
  });

  it('grants the action role what `tc-promote grants` lists: today it lacks exactly the secret, the notify routes and the branch roles', () => {
    const grants = requiredGrants(loadConfig());
    const held = (dir: string) => expandScopes([actionRole, 'assume:anonymous'], fxciDeploymentRoles(dir));
    const before = checkGrants(grants, held(referencePath('fxci-config')));
    expect(before.satisfied).toBe(false);
    const missing = before.missing.map((m) => m.scope);
    expect(missing).toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
    expect(missing).toContain('queue:route:notify.email.release+scriptworker-scripts@mozilla.com.on-failed');
    expect(missing).toContain('assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:production-signingscript');
    expect(missing.every((s) => s.startsWith('secrets:get:') || s.startsWith('queue:route:notify.') || s.startsWith('assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:'))).toBe(true);
    expect(checkGrants(grants, held(copies.fxciDir))).toEqual({ satisfied: true, missing: [] });
    // The hook's role reaches the action role.
    const hookScopes = expandScopes(['assume:hook-id:project-scriptworker/in-tree-action-3-release-promotion/0123456789'], fxciDeploymentRoles(copies.fxciDir));
    expect(hookScopes).toContain(actionRole);
    expect(hookScopes).toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
  });

  it('grants nothing new to pull requests, other jobs or other repositories', () => {
    const before = fxciDeploymentRoles(referencePath('fxci-config'));
    const after = fxciDeploymentRoles(copies.fxciDir);
    const changed = Object.keys(after).filter((role) => JSON.stringify(after[role]) !== JSON.stringify(before[role]));
    // fxci-config's generators: the action role (grants), the trigger grant's group (grants), and
    // the hook-id roles of the new permission (in_tree_actions; no level-1 project: an empty one).
    expect(changed.sort()).toEqual([
      'hook-id:project-scriptworker/in-tree-action-1-release-promotion/*',
      'hook-id:project-scriptworker/in-tree-action-3-release-promotion/*',
      'project:releng:ci-group:team_services_ops',
      'repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion',
    ]);
    expect(after['hook-id:project-scriptworker/in-tree-action-1-release-promotion/*']).toEqual([]);
    // The group gains the trigger, and the hold entries, the in-flight entry and cancelTask's scope `tc-promote grants` lists
    // (holding and releasing, following and cancelling: a person's part of a rollback).
    const listed = requiredGrants(loadConfig(consumerConfigPath));
    expect(after['project:releng:ci-group:team_services_ops']!.filter((s) => !before['project:releng:ci-group:team_services_ops']!.includes(s)).sort()).toEqual(
      ['hooks:trigger-hook:project-scriptworker/in-tree-action-3-release-promotion/*', ...[...listed.hold, ...listed.inFlight, ...listed.cancel].map((h) => h.scope)].sort(),
    );
    // What the action role gains, expanded (the deploy-branch roles included): exactly the grant.
    const gained = expandScopes([actionRole], after).filter((s) => !expandScopes([actionRole], before).includes(s));
    const config = loadConfig(consumerConfigPath);
    expect(gained.sort()).toEqual(
      [
        ...['production', 'dev'].flatMap((env) => config.scripts.map((s) => `assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:${env}-${s}`)),
        'queue:route:notify.email.release+scriptworker-scripts@mozilla.com.*',
        'secrets:get:project/releng/scriptworker-scripts/deploy',
      ].sort(),
    );
  });
});

describe("scriptworker-scripts' patched .taskcluster.yml", () => {
  const config = loadConfig(consumerConfigPath);
  const hook = () => hookFor(patchedTcyml);
  const fire = (tcymlText: string, cbName: string, actionNameText = actionName, permission = 'release-promotion', clientId?: string) => {
    const decisionTaskId = 'Cv1d8fPHRzWvO3MZbI1e3A';
    const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl, level: 3, revision: 'a'.repeat(40), branch: 'master', owner: 'releng@mozilla.com' }, tcymlText);
    const payload = renderJsone(action.hookPayload, { taskGroupId: decisionTaskId, taskId: decisionTaskId, input: { script: 'signingscript', environment: 'production', reason: 'r' } }, 'hookPayload') as { decision: { action: Record<string, string> } };
    payload.decision.action.cb_name = cbName;
    payload.decision.action.name = actionNameText;
    const taskId = 'fUAi2wXRRdGZcxKDrDiRZw';
    const now = new Date('2026-11-30T12:00:00.000Z');
    return fireHookTask(inTreeActionHookTemplate(parseTaskclusterYml(tcymlText, 'tcyml'), { actionPermission: permission }), { firedBy: 'triggerHook', payload, ...(clientId !== undefined && { clientId }) }, taskId, now)!;
  };

  it("runs tc-promote action-callback in the configuration's pinned image for tc-promote's callback", () => {
    const task = fire(patchedTcyml, callbackName) as { payload: { image: string; command: string[]; env: Record<string, string>; artifacts: Record<string, unknown> }; scopes: string[] };
    expect(task.payload.image).toBe(config.taskcluster.image);
    expect(config.taskcluster.image).toMatch(/^mozillareleases\/tc-promote:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(task.payload.command.slice(0, 2)).toEqual(['sh', '-ec']);
    expect(task.payload.command[2]).toMatch(
      /git fetch -q --depth 1 -- "\$SCRIPTWORKER_HEAD_REPOSITORY" "\$SCRIPTWORKER_HEAD_REV" && git checkout -q FETCH_HEAD && exec tc-promote action-callback --config taskcluster\/tc-promote\.yml --revision "\$SCRIPTWORKER_HEAD_REV" --repository "\$SCRIPTWORKER_HEAD_REPOSITORY"$/,
    );
    // Input reaches the task only through the environment.
    expect(task.payload.command.join(' ')).not.toContain('signingscript');
    expect(task.payload.env).toMatchObject({ ACTION_CALLBACK: callbackName, TC_PROMOTE_ARTIFACTS: '/builds/worker/artifacts' });
    expect(Object.keys(task.payload.artifacts)).toEqual(['public']);
    expect(task.scopes).toEqual([actionRole]);
  });

  it("carries who fired the hook (the hooks service's clientId) into metadata.owner and TC_PROMOTE_REQUESTER", () => {
    const clientId = 'mozilla-auth0/ad|Mozilla-LDAP|oncall/taskcluster-ui';
    const task = fire(patchedTcyml, callbackName, actionName, 'release-promotion', clientId) as { metadata: { owner: string }; payload: { env: Record<string, string> } };
    expect(task.metadata.owner).toBe(clientId);
    expect(task.payload.env.TC_PROMOTE_REQUESTER).toBe(clientId);
    // Another callback keeps the file's owner (action@noreply.mozilla.org), as before.
    const other = fire(patchedTcyml, 'cancel-all', 'x', 'release-promotion', clientId) as { metadata: { owner: string }; payload: { env: Record<string, string> } };
    expect(other).toEqual(fire(referenceTcyml, 'cancel-all', 'x', 'release-promotion', clientId));
    expect(other.metadata.owner).toBe('action@noreply.mozilla.org');
  });

  it("the action task's shell accepts only a full 40-hex revision and a GitHub https repository (run with sh, git and tc-promote recorded)", () => {
    const task = fire(patchedTcyml, callbackName) as { payload: { command: string[] } };
    const dir = makeTempDir('action-shell-');
    try {
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      for (const tool of ['git', 'tc-promote']) {
        // git init makes the folder the next line enters, as git does.
        const init = tool === 'git' ? `[ "$1" = init ] && mkdir -p "$3"\n` : '';
        writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> ${JSON.stringify(path.join(dir, 'calls'))}\n${init}exit 0\n`, { mode: 0o755 });
      }
      const script = task.payload.command[2]!.replaceAll('/builds/worker/checkouts/src', path.join(dir, 'src'));
      const run = (rev: string, repo = repositoryUrl) => spawnSync('sh', ['-ec', script], { env: { PATH: `${bin}:/usr/bin:/bin`, SCRIPTWORKER_HEAD_REV: rev, SCRIPTWORKER_HEAD_REPOSITORY: repo }, encoding: 'utf8' });
      for (const bad of ['', 'cafe', 'deadbee', 'master', 'A'.repeat(40), 'a'.repeat(39), 'a'.repeat(41), `${'a'.repeat(40)}\n${'b'.repeat(40)}`, `-${'a'.repeat(39)}`]) {
        const r = run(bad);
        expect([r.status, r.stderr.trim()], JSON.stringify(bad)).toEqual([2, 'SCRIPTWORKER_HEAD_REV is not a full revision (40 hex)']);
      }
      expect(existsSync(path.join(dir, 'calls'))).toBe(false);
      const notGithub = run('a'.repeat(40), 'file:///etc');
      expect([notGithub.status, notGithub.stderr.trim()]).toEqual([2, 'SCRIPTWORKER_HEAD_REPOSITORY is not a GitHub repository']);
      const ok = run('a'.repeat(40));
      expect(ok.status, ok.stderr).toBe(0);
      expect(readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter(Boolean)).toEqual([
        'git init -q ' + path.join(dir, 'src'),
        `git fetch -q --depth 1 -- ${repositoryUrl} ${'a'.repeat(40)}`,
        'git checkout -q FETCH_HEAD',
        `tc-promote action-callback --config taskcluster/tc-promote.yml --revision ${'a'.repeat(40)} --repository ${repositoryUrl}`,
      ]);
    } finally {
      removeTempDir(dir);
    }
  });

  it('renders exactly what it rendered before for every other callback and every other event', () => {
    for (const cb of ['retrigger-decision', 'cancel-all', 'release-promotion']) expect(fire(patchedTcyml, cb, 'x')).toEqual(fire(referenceTcyml, cb, 'x'));
    const before = parseTaskclusterYml(referenceTcyml, 'reference');
    const after = parseTaskclusterYml(patchedTcyml, 'patched');
    const repo = { html_url: repositoryUrl, name: 'scriptworker-scripts', full_name: 'mozilla-releng/scriptworker-scripts' };
    const push = { ref: 'refs/heads/production-signingscript', before: 'b'.repeat(40), after: 'c'.repeat(40), repository: repo, pusher: { email: 'dev@mozilla.com' } };
    const pr = { action: 'opened', number: 3, pull_request: { number: 3, head: { ref: 'topic', sha: 'd'.repeat(40), repo }, base: { sha: 'e'.repeat(40), repo }, user: { login: 'someone' } } };
    const now = '2026-11-30T12:00:00.000Z';
    // The GitHub service names each decision task anew: compare with its own id in place of the id.
    const strip = (tasks: { taskId: string; task: Record<string, unknown> }[]) => tasks.map(({ taskId, task }) => JSON.parse(JSON.stringify(task).replaceAll(taskId, 'OWN-TASK-ID')) as unknown);
    expect(strip(renderForGithub(after, 'github-push', push, 'patched', now))).toEqual(strip(renderForGithub(before, 'github-push', push, 'reference', now)));
    expect(strip(renderForGithub(after, 'github-pull-request', pr, 'patched', now))).toEqual(strip(renderForGithub(before, 'github-pull-request', pr, 'reference', now)));
  });

  it("runs tc-promote only under the release-promotion hook: tc-promote's callback fired through another hook (generic) renders what it rendered before", () => {
    // fxci-config generates a hook per action permission around the same file; a holder of the
    // (wider) generic hook's trigger scope must not get tc-promote run with the generic role.
    // taskgraph refuses the same (sanity_check_task_scope); the file then runs taskgraph.
    for (const permission of ['generic', 'retrigger-decision']) {
      expect(fire(patchedTcyml, callbackName, actionName, permission)).toEqual(fire(referenceTcyml, callbackName, actionName, permission));
    }
    expect((fire(patchedTcyml, callbackName, actionName, 'release-promotion') as { payload: { image: string } }).payload.image).toBe(config.taskcluster.image);
  });

  it('is the hook fxci-config would generate for it, with a new hook id', () => {
    expect(hook().hookId).toMatch(/^in-tree-action-3-release-promotion\/[0-9a-f]{10}$/);
  });
});
