// fxci-config's own generators (ciadmin's in_tree_actions and grants, run by
// test/support/fxci-generated.ts over a patched copy of ../shared/reference/fxci-config, GitHub
// answered from local git repositories) make the promotion hook, its hook-id: role, the action
// role's grant and the trigger grant: what the end-to-end test on the real Taskcluster creates.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { hookIdFor, taskclusterYmlHash } from '../../src/graph/actions.js';
import { inTreeActionHookTemplate, parseTaskclusterYml } from '../../src/graph/taskcluster-yml.js';
import { consumerConfigPath, referenceHook } from '../support/consumers.js';
import { fxciGenerated, runFxciGenerators, repositoryWithBranches, type FxciWorld } from '../support/fxci-generated.js';
import { referencePath } from '../support/reference.js';
import { expandScopes } from '../support/roles.js';
import { checkHoldGrants, checkScopes, requiredGrants } from '../../src/taskcluster/grants.js';
import { makeTempDir, removeTempDir } from '../support/registry.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const config = loadConfig(consumerConfigPath);
const hookRole = 'hook-id:project-scriptworker/in-tree-action-3-release-promotion/*';
const actionRole = 'repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion';
const triggerScope = 'hooks:trigger-hook:project-scriptworker/in-tree-action-3-release-promotion/*';
let world: FxciWorld;
beforeAll(() => {
  world = fxciGenerated();
});
afterAll(() => world?.cleanup());

const promotionHooks = (w: FxciWorld) => w.hooks.filter((h) => h.hookGroupId === 'project-scriptworker' && h.hookId.startsWith('in-tree-action-3-release-promotion/'));

describe("the promotion hook and its role, as ciadmin's in_tree_actions generates them", () => {
  it('the hook-id role holds two scopes: the action role of each level-3 project of trust domain scriptworker', () => {
    expect(world.roles[hookRole]).toEqual([
      'assume:repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion',
      'assume:repo:github.com/mozilla-releng/scriptworker:action:release-promotion',
    ]);
    expect(world.roleSource[hookRole]).toBe('in_tree_actions');
  });

  it('makes a hook per distinct .taskcluster.yml of the level-3 branches (master, production*, dev*), none for other branches', () => {
    const hashes = new Set(['master', 'production-signingscript', 'dev-treescript'].map((b) => taskclusterYmlHash(world.branches[b]!)));
    expect(hashes.size).toBe(2);
    const scriptworkerMain = world.hooks.find((h) => h.metadata.description.includes("scriptworker, branch: 'main'") && h.hookId.startsWith('in-tree-action-3-release-promotion/'));
    expect(scriptworkerMain).toBeDefined();
    expect(promotionHooks(world).map((h) => h.hookId.split('/')[1]).sort()).toEqual([...hashes, scriptworkerMain!.hookId.split('/')[1]!].sort());
    // feature-x is not a configured branch of projects.yml: its file has no hook.
    expect(promotionHooks(world).some((h) => h.hookId.endsWith(taskclusterYmlHash(world.branches['feature-x']!)))).toBe(false);
    // The branches were read from GitHub (the stand-in over local git repositories).
    expect(world.githubRequests.filter((r) => r.served).map((r) => r.endpoint)).toContain('/repos/mozilla-releng/scriptworker-scripts/branches');
  });

  it('13 deploy branches each on its own .taskcluster.yml: 13 hooks, plus master and the other project', () => {
    const many = fxciGenerated({
      branches: ({ patched }) => Object.fromEntries([['master', patched], ...config.scripts.map((s) => [`production-${s}`, `${patched}# deployed ${s}\n`])]),
    });
    try {
      const distinct = new Set(Object.values(many.branches).map((t) => taskclusterYmlHash(t)));
      expect(distinct.size).toBe(14);
      expect(promotionHooks(many)).toHaveLength(15);
      // And as many generic hooks: the permission is per trust domain, each hook per file.
      expect(many.hooks.filter((h) => h.hookGroupId === 'project-scriptworker' && h.hookId.startsWith('in-tree-action-3-generic/'))).toHaveLength(15);
    } finally {
      many.cleanup();
    }
  });

  it("wraps master's patched .taskcluster.yml as src/graph/taskcluster-yml.ts does, under the id `tc-promote actions` names", () => {
    const hook = world.promotionHook;
    expect(hook.hookId).toBe(hookIdFor(3, world.patchedTaskclusterYml));
    expect(hook.task).toEqual(inTreeActionHookTemplate(parseTaskclusterYml(world.patchedTaskclusterYml, 'patched')));
    expect(hook.metadata).toMatchObject({ name: `project-scriptworker/${hook.hookId}`, owner: 'taskcluster-notifications@mozilla.com', emailOnError: true });
    // The reference hook of ../shared/reference/fxci-config is this generator's output for the unpatched file.
    const reference = referenceHook();
    const unpatched = promotionHooks(world).find((h) => h.hookId === reference.hookId)!;
    expect(unpatched.task).toEqual(reference.hook.task);
    const squash = (v: unknown): unknown => JSON.parse(JSON.stringify(v), (k, x: unknown) => (k === 'description' && typeof x === 'string' ? x.replace(/\s+/g, ' ').trim() : x));
    expect(squash(unpatched.triggerSchema)).toEqual(squash(reference.hook.triggerSchema));
  });

  it('makes no release-promotion hook or role before the actions.yml patch', () => {
    const root = makeTempDir('fxci-unpatched-');
    try {
      mkdirSync(path.join(root, 'r'));
      const repo = repositoryWithBranches(path.join(root, 'r'), { master: readFileSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), 'utf8') });
      const before = runFxciGenerators(referencePath('fxci-config'), { 'mozilla-releng/scriptworker-scripts': repo });
      expect(before.hooks.some((h) => h.hookId.includes('release-promotion') && h.hookGroupId === 'project-scriptworker')).toBe(false);
      expect(before.roles[hookRole]).toBeUndefined();
      expect(Object.values(before.roles).some((scopes) => scopes.includes(triggerScope))).toBe(false);
    } finally {
      removeTempDir(root);
    }
  });
});

describe("the grants, as ciadmin's grants generator makes them from the patched grants.d", () => {
  it('lets the group that operates the pools hold and release every configured environment (what `tc-promote grants` lists), nobody else by name; pull requests cannot', () => {
    const grants = requiredGrants(config);
    expect(grants.hold).toHaveLength(26);
    expect(grants.hold.every((h) => /^index:insert-task:scriptworker\.v2\.scriptworker-scripts\.hold\.[a-z]+\.(production|dev)$/.test(h.scope))).toBe(true);
    const member = expandScopes(['assume:mozilla-group:team_services_ops'], world.roles);
    expect(checkHoldGrants(grants, member)).toEqual({ satisfied: true, missing: [] });
    // fxci-config already grants every non-pull-request job of the repository index:insert-task:scriptworker.v2.scriptworker-scripts.*
    // (grants.yml, "routes to support indexing by product"): the action task and branch pushes reach the hold entries
    // without the patch (docs/security.md, Holds); a pull request does not.
    for (const role of [actionRole, 'repo:github.com/mozilla-releng/scriptworker-scripts:branch:production-signingscript']) {
      expect(checkHoldGrants(grants, expandScopes([`assume:${role}`], world.roles)).satisfied).toBe(true);
    }
    expect(checkHoldGrants(grants, expandScopes(['assume:repo:github.com/mozilla-releng/scriptworker-scripts:pull-request'], world.roles)).missing).toHaveLength(26);
    // The patch's own grant: to the group only, each entry by name.
    const holders = Object.entries(world.roles).filter(([, scopes]) => scopes.some((s) => s.startsWith('index:insert-task:scriptworker.v2.scriptworker-scripts.hold.'))).map(([role]) => role);
    expect(holders).toEqual(['project:releng:ci-group:team_services_ops']);
  });

  it('lets the group follow and cancel (the in-flight entry, cancelTask) and the action task write the in-flight entry, as `tc-promote grants` lists them; pull requests cannot', () => {
    const grants = requiredGrants(config);
    const member = expandScopes(['assume:mozilla-group:team_services_ops'], world.roles);
    expect(checkScopes([...grants.inFlight, ...grants.cancel], member)).toEqual({ satisfied: true, missing: [] });
    // The action task writes the in-flight entry (through fxci-config's {trust_domain}.v2.{alias}.* grant) and cancels nothing.
    const action = expandScopes([`assume:${actionRole}`], world.roles);
    expect(checkScopes(grants.inFlight, action).satisfied).toBe(true);
    const pullRequest = expandScopes(['assume:repo:github.com/mozilla-releng/scriptworker-scripts:pull-request'], world.roles);
    expect(checkScopes(grants.inFlight, pullRequest).satisfied).toBe(false);
    // The patch's own grant of cancel: to the group only.
    const cancellers = Object.entries(world.roles).filter(([, scopes]) => scopes.includes(grants.cancel[0]!.scope)).map(([role]) => role);
    expect(cancellers).toContain('project:releng:ci-group:team_services_ops');
  });

  it("grants the action role exactly the patch's scopes, with one branch role per configured deploy branch (no wildcard)", () => {
    const branches = Object.values(config.environments).flatMap((env) => config.scripts.map((s) => env.deployBranch.replace('{script}', s)));
    expect(branches).toHaveLength(26);
    expect(world.roles[actionRole]).toEqual(
      [
        ...branches.map((b) => `assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:${b}`),
        'queue:route:notify.email.release+scriptworker-scripts@mozilla.com.*',
        'secrets:get:project/releng/scriptworker-scripts/deploy',
      ].sort(),
    );
    expect(world.roles[actionRole]!.some((s) => s.endsWith('*') && s.includes(':branch:'))).toBe(false);
    expect(world.roleSource[actionRole]).toBe('grants');
  });

  it('lets the group that operates the scriptworker pools fire the hook, and nobody else new', () => {
    const group = 'project:releng:ci-group:team_services_ops';
    expect(world.roles[group]).toContain(triggerScope);
    // The group already holds scriptworker's production powers in fxci-config's grants.
    expect(world.roles[group]).toContain('auth:reset-access-token:project/releng/scriptworker/cloudops-canary');
    // A member (mozilla-group:team_services_ops) reaches it through the group role.
    expect(expandScopes(['assume:mozilla-group:team_services_ops'], world.roles)).toContain(triggerScope);
    const holders = Object.entries(world.roles).filter(([, scopes]) => scopes.includes(triggerScope)).map(([role]) => role);
    expect(holders).toEqual([group]);
    // Nothing a pull request or another action can reach.
    for (const role of ['repo:github.com/mozilla-releng/scriptworker-scripts:pull-request', 'repo:github.com/mozilla-releng/scriptworker-scripts:action:*', 'repo:github.com/mozilla-releng/scriptworker-scripts:branch:master']) {
      expect(expandScopes([`assume:${role}`], world.roles)).not.toContain(triggerScope);
    }
  });
});
