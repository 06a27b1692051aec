// Firefox-CI's part of the promotion path on the real Taskcluster services: exactly the roles and
// the hooks fxci-config's own generators make from the patched fxci-config (./fxci-generated.ts:
// ciadmin's in_tree_actions and grants over a patched copy of ../shared/reference/fxci-config,
// scriptworker-scripts' branches answered from local git repositories), put into the real Auth
// and Hooks services through their APIs, as `ci-admin apply` would: every generated hook, with its
// metadata, schedule, bindings, task template and trigger schema as generated, and every
// generated role that a principal of the tests can reach (the `anonymous` role included: the
// patched one replaces the fixture's), each with its generated description and scopes. Nothing
// is written by hand here.
//
// Why not all 761 roles: the real Auth rewrites its whole role table on each createRole (under
// an etag, so they cannot be sent at once), 0.2–0.6 s a role on this loaded machine, about four
// minutes for Firefox-CI's whole set. A role no principal of the tests can reach, through
// `assume:` scopes from the seeds below and from the roles reached (the Auth service's own
// matching: exact, a role id ending in `*`, or an assume scope ending in `*`), cannot change
// any expansion the services make here, so leaving it out changes no outcome; the selection is
// computed from the generated roles, never listed by hand.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fxciGenerated, type FxciWorld, type GeneratedHook } from './fxci-generated.js';
import type { RealTaskcluster } from './real-taskcluster.js';
import { client } from './real-worker.js';
import type { Roles } from './roles.js';

export interface FirefoxCiResources {
  /** ciadmin's whole output and the folders it ran over (cleanup() removes them). */
  world: FxciWorld;
  /** The release-promotion hook of master's patched .taskcluster.yml (level 3), as generated. */
  hook: GeneratedHook;
  /** Every hook ciadmin generated (the trust domain's in-tree action hooks). */
  hooks: GeneratedHook[];
  /** Every role ciadmin generated (grants and in_tree_actions): roleId → scopes. */
  roles: Roles;
  /** The generated roles deployFirefoxCi creates: those the tests' principals can reach (reachableRoles). */
  deployedRoleIds: string[];
  /** What deployFirefoxCi took: roles and hooks created, milliseconds. */
  deployed?: { roles: number; hooks: number; ms: number };
}

/**
 * The principals of the tests on the real services: scriptworker-scripts' decision tasks (pushes
 * to master and the deploy branches, pull requests), every generated hook (the Hooks service
 * gives a hook's task `assume:hook-id:<group>/<id>`), the action tasks, and `anonymous`, which
 * every client holds.
 */
export function principalSeeds(resources: Pick<FirefoxCiResources, 'hooks'>): string[] {
  const repo = 'repo:github.com/mozilla-releng/scriptworker-scripts';
  return [
    'assume:anonymous',
    `assume:${repo}:branch:*`,
    `assume:${repo}:pull-request`,
    `assume:${repo}:action:*`,
    ...resources.hooks.map((h) => `assume:hook-id:${h.hookGroupId}/${h.hookId}`),
  ];
}

/** The role ids reachable from `seeds` through assume: scopes (Taskcluster's role matching), to a fixed point. */
export function reachableRoles(roles: Roles, seeds: string[]): string[] {
  const reached = new Set<string>();
  const pending = [...seeds];
  const ids = Object.keys(roles);
  while (pending.length > 0) {
    const scope = pending.pop()!;
    let target: string;
    if (scope === '*' || scope === 'assume*' || scope === 'assum*' || scope === 'assu*' || scope === 'ass*' || scope === 'as*' || scope === 'a*') target = '*';
    else if (scope.startsWith('assume:')) target = scope.slice('assume:'.length);
    else continue;
    for (const id of ids) {
      if (reached.has(id)) continue;
      const matches = id === target || (id.endsWith('*') && target.startsWith(id.slice(0, -1))) || (target.endsWith('*') && id.startsWith(target.slice(0, -1)));
      if (!matches) continue;
      reached.add(id);
      pending.push(...roles[id]!);
    }
  }
  return [...reached].sort();
}

/** ciadmin's hooks and roles for the patched fxci-config (scriptworker-scripts' master on the patched .taskcluster.yml). */
export function firefoxCiResources(): FirefoxCiResources {
  const world = fxciGenerated();
  const resources: FirefoxCiResources = { world, hook: world.promotionHook, hooks: world.hooks, roles: world.roles, deployedRoleIds: [] };
  resources.deployedRoleIds = reachableRoles(world.roles, principalSeeds(resources));
  return resources;
}

/** A generated role as ci-admin writes it: its description and scopes as ciadmin made them. */
export const generatedRole = (resources: FirefoxCiResources, roleId: string): { description: string; scopes: string[] } => ({
  description: resources.world.roleDescriptions[roleId] || `ci-admin: ${roleId}`,
  scopes: resources.roles[roleId]!,
});

/**
 * Create (or update) every generated role and hook in the real services, through their APIs with
 * the root client. Roles are written one at a time, as ci-admin does (the Auth service rewrites
 * its whole role table on each change, under an etag: concurrent writes would conflict).
 */
export async function deployFirefoxCi(tc: Pick<RealTaskcluster, 'rootUrl' | 'rootCredentials'> & { stateDir?: string }, resources: FirefoxCiResources): Promise<{ written: number; unchanged: number }> {
  // One test file at a time per fixture: two writing the same roles at once would each pay the
  // whole cost (and race on Auth's role table); the second finds them there and skips them.
  if (tc.stateDir === undefined) return deploy(tc, resources);
  const release = await fixtureLock(tc.stateDir, 'fxci-deploy');
  try {
    return await deploy(tc, resources);
  } finally {
    release();
  }
}

/**
 * Firefox-CI's own names, for one test file at a time: the deploy secret the generated roles
 * grant (`project/releng/scriptworker-scripts/deploy`, holding that file's registry and GitHub
 * stand-in credentials) and the release-promotion hook whose fires a file counts. Two files on
 * the shared services at once overwrite each other's secret and fire each other's hook; each
 * holds this from its beforeAll to its afterAll. Returns the release.
 */
export async function exclusiveFirefoxCi(tc: { stateDir: string }): Promise<() => void> {
  return fixtureLock(tc.stateDir, 'firefox-ci-names');
}

/** A lock folder in the fixture's state folder, taken over from a process no longer alive. */
async function fixtureLock(stateDir: string, name: string): Promise<() => void> {
  const lock = path.join(stateDir, `${name}.lock`);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const owner = Number(existsSync(path.join(lock, 'pid')) ? readFileSync(path.join(lock, 'pid'), 'utf8') : '0');
      if (owner && !pidAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  writeFileSync(path.join(lock, 'pid'), String(process.pid));
  return () => rmSync(lock, { recursive: true, force: true });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function deploy(tc: Pick<RealTaskcluster, 'rootUrl' | 'rootCredentials'>, resources: FirefoxCiResources): Promise<{ written: number; unchanged: number }> {
  const started = Date.now();
  const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
  // Roles already there as generated (another test file of the same run deployed them into the
  // shared fixture) are left alone: each write rewrites Auth's whole role table.
  const listed = (await auth.listRoles()) as { roleId: string; description: string; scopes: string[] }[];
  const existing = new Map(listed.map((r) => [r.roleId, r]));
  const same = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  let written = 0;
  let unchanged = 0;
  for (const roleId of resources.deployedRoleIds) {
    const role = generatedRole(resources, roleId);
    const there = existing.get(roleId);
    if (there && there.description === role.description && same(there.scopes, role.scopes)) {
      unchanged += 1;
      continue;
    }
    written += 1;
    await auth.createRole(roleId, role).catch(async (error: { statusCode?: number }) => {
      if (error.statusCode === 409) await auth.updateRole(roleId, role);
      else throw error;
    });
  }
  const hooks = client('Hooks', tc.rootUrl, tc.rootCredentials);
  for (const generated of resources.hooks) {
    const { hookGroupId, hookId, ...hook } = generated;
    await hooks.createHook(hookGroupId, hookId, hook).catch(async (error: { statusCode?: number }) => {
      if (error.statusCode === 409) await hooks.updateHook(hookGroupId, hookId, hook);
      else throw error;
    });
  }
  resources.deployed = { roles: resources.deployedRoleIds.length, hooks: resources.hooks.length, ms: Date.now() - started };
  return { written, unchanged };
}
