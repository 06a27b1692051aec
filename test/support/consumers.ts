// The consumer changes in consumers/, applied as a maintainer would apply them: copies of the
// real files in ../shared/reference/ in a temporary folder, patched with `git apply`; and the
// in-tree action hook and the roles fxci-config's own generators make (fxci-generated.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hookIdFor } from '../../src/graph/actions.js';
import { repositoryRoot } from './reference.js';
import { referencePath } from './reference.js';
import { repositoryWithBranches, runFxciGenerators } from './fxci-generated.js';
import type { Roles } from './roles.js';
import { makeTempDir, removeTempDir } from './registry.js';

export const consumersDir = path.join(repositoryRoot, 'consumers');
export const fxciPatches = ['actions.yml.patch', 'scriptworker-grants.patch'].map((f) => path.join(consumersDir, 'fxci-config', f));
export const taskclusterYmlPatch = path.join(consumersDir, 'scriptworker-scripts', 'taskcluster.yml.patch');
export const consumerConfigPath = path.join(consumersDir, 'scriptworker-scripts', 'tc-promote.yml');
export const referenceHookPath = referencePath('fxci-config', 'in-tree-action-hook.scriptworker-3-release-promotion.json');

export interface PatchedCopies {
  /** A copy of ../shared/reference/fxci-config with the fxci-config patches applied. */
  fxciDir: string;
  /** A copy of scriptworker-scripts' .taskcluster.yml with the patch applied, in a folder of its own. */
  taskclusterYmlPath: string;
  cleanup(): void;
}

/** `git apply` in `dir` (a work tree of its own, so the project's repository is never touched). */
export function gitApply(dir: string, patches: string[], check = false): void {
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'apply', ...(check ? ['--check'] : []), ...patches], { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function applyConsumerPatches(): PatchedCopies {
  const root = makeTempDir('consumers-');
  const fxciDir = path.join(root, 'fxci-config');
  cpSync(referencePath('fxci-config'), fxciDir, { recursive: true });
  const consumer = path.join(root, 'scriptworker-scripts');
  mkdirSync(consumer);
  cpSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), path.join(consumer, '.taskcluster.yml'));
  // The reference folder is read-only; the copies are not.
  for (const dir of [fxciDir, consumer]) execFileSync('chmod', ['-R', 'u+w', dir]);
  chmodSync(root, 0o755);
  gitApply(fxciDir, fxciPatches);
  gitApply(consumer, [taskclusterYmlPatch]);
  return { fxciDir, taskclusterYmlPath: path.join(consumer, '.taskcluster.yml'), cleanup: () => removeTempDir(root) };
}

export interface HookDefinitionFile {
  hookGroupId: string;
  hookId: string;
  role: { roleId: string; scopes: string[] };
  hook: { metadata: Record<string, unknown>; task: { $let: Record<string, unknown>; in: unknown }; triggerSchema: object };
}

export function referenceHook(): HookDefinitionFile {
  return JSON.parse(readFileSync(referenceHookPath, 'utf8')) as HookDefinitionFile;
}

const generatedHooks = new Map<string, HookDefinitionFile>();

/**
 * The release-promotion hook fxci-config's own generator (ciadmin's in_tree_actions,
 * test/support/fxci-generated.ts) makes for a .taskcluster.yml on scriptworker-scripts'
 * master, over the patched fxci-config, with its hook-id: role, in the reference file's shape.
 */
export function hookFor(taskclusterYmlText: string): HookDefinitionFile {
  const cached = generatedHooks.get(taskclusterYmlText);
  if (cached) return structuredClone(cached);
  const copies = applyConsumerPatches();
  const root = makeTempDir('hook-for-');
  try {
    mkdirSync(path.join(root, 'repo'));
    const generated = runFxciGenerators(copies.fxciDir, { 'mozilla-releng/scriptworker-scripts': repositoryWithBranches(path.join(root, 'repo'), { master: taskclusterYmlText }) });
    const hookId = hookIdFor(3, taskclusterYmlText);
    const hook = generated.hooks.find((h) => h.hookGroupId === 'project-scriptworker' && h.hookId === hookId);
    if (!hook) throw new Error(`fxci-config's generator made no hook project-scriptworker/${hookId}`);
    const roleId = 'hook-id:project-scriptworker/in-tree-action-3-release-promotion/*';
    const definition: HookDefinitionFile = {
      hookGroupId: hook.hookGroupId,
      hookId: hook.hookId,
      role: { roleId, scopes: generated.roles[roleId] ?? [] },
      hook: { metadata: hook.metadata, task: hook.task, triggerSchema: hook.triggerSchema },
    };
    generatedHooks.set(taskclusterYmlText, definition);
    return structuredClone(definition);
  } finally {
    removeTempDir(root);
    copies.cleanup();
  }
}

const generatedRoles = new Map<string, Roles>();

/**
 * Firefox-CI's roles as fxci-config's own generators (grants and in_tree_actions) make them
 * from an fxci-config folder (patched or not), scriptworker-scripts' master holding the
 * reference .taskcluster.yml; with `hook`, its role as given.
 */
export function fxciDeploymentRoles(fxciDir: string, hook?: HookDefinitionFile): Roles {
  let roles = generatedRoles.get(fxciDir);
  if (!roles) {
    const root = makeTempDir('fxci-roles-');
    try {
      mkdirSync(path.join(root, 'repo'));
      const master = readFileSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), 'utf8');
      roles = runFxciGenerators(fxciDir, { 'mozilla-releng/scriptworker-scripts': repositoryWithBranches(path.join(root, 'repo'), { master }) }).roles;
    } finally {
      removeTempDir(root);
    }
    generatedRoles.set(fxciDir, roles);
  }
  const copy = structuredClone(roles);
  if (hook) copy[hook.role.roleId] = hook.role.scopes;
  return copy;
}
