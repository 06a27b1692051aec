// Firefox-CI's part of the promotion path on the real Taskcluster services: the roles and the
// in-tree action hook as fxci-config makes them, put into the real Auth and Hooks services.
//
// ONE place to switch: today the roles come from the patched fxci-config's grants.d as
// ./fxci-grants.ts computes them (ciadmin's rules, rewritten here) and the hook from the
// reference hook with the patched .taskcluster.yml (./consumers.ts: hookFor); once fxci-config's
// own generators run in the tests (issue 20), `firefoxCiResources` returns their output instead.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fxciDeploymentRoles, hookFor, type HookDefinitionFile, type PatchedCopies } from './consumers.js';
import type { RealTaskcluster } from './real-taskcluster.js';
import { client } from './real-worker.js';

export interface FirefoxCiResources {
  hook: HookDefinitionFile;
  roles: Record<string, string[]>;
}

/** The hook and the roles fxci-config would deploy for the patched consumer files. */
export function firefoxCiResources(copies: PatchedCopies, taskclusterYmlText: string): FirefoxCiResources {
  const hook = hookFor(taskclusterYmlText);
  const roles = fxciDeploymentRoles(copies.fxciDir, hook);
  return { hook, roles };
}

/**
 * Create (or update) every role but `anonymous` (the fixture's, Firefox-CI's) and the hook in the
 * real services; how many roles were written and how many were there already as they should be.
 */
export async function deployFirefoxCi(tc: Pick<RealTaskcluster, 'rootUrl' | 'rootCredentials'> & { stateDir?: string }, resources: FirefoxCiResources): Promise<{ written: number; unchanged: number }> {
  // One test file at a time per fixture: two writing the same 760 roles at once would each pay
  // the whole cost (and race on Auth's role list); the second finds them there.
  if (tc.stateDir === undefined) return deploy(tc, resources);
  const lock = path.join(tc.stateDir, 'fxci-deploy.lock');
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
  try {
    return await deploy(tc, resources);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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
  const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
  // The real Auth service rewrites its whole role list on every createRole (about 760 roles:
  // minutes on this machine), so roles already there as they should be (another test file of
  // the same run deployed them into the shared fixture) are left alone.
  const listed = (await auth.listRoles()) as { roleId: string; description: string; scopes: string[] }[];
  const existing = new Map(listed.map((r) => [r.roleId, r]));
  let written = 0;
  let unchanged = 0;
  const same = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  for (const [roleId, scopes] of Object.entries(resources.roles)) {
    if (roleId === 'anonymous') continue;
    const role = { description: `fxci-config (tc-promote tests): ${roleId}`, scopes };
    const there = existing.get(roleId);
    if (there && there.description === role.description && same(there.scopes, scopes)) {
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
  const { hookGroupId, hookId, hook } = resources.hook;
  await hooks.createHook(hookGroupId, hookId, hook).catch(async (error: { statusCode?: number }) => {
    if (error.statusCode === 409) await hooks.updateHook(hookGroupId, hookId, hook);
    else throw error;
  });
  return { written, unchanged };
}
