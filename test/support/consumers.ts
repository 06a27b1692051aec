// The consumer changes in consumers/, applied as a maintainer would apply them: copies of the
// real files in ../shared/reference/ in a temporary folder, patched with `git apply`; and the
// in-tree action hook fxci-config generates, rebuilt for the patched .taskcluster.yml.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { hookIdFor } from '../../src/graph/actions.js';
import { repositoryRoot } from './reference.js';
import { referencePath } from './reference.js';
import { fxciRoles, grantFiles, loadProjects } from './fxci-grants.js';
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

/**
 * The hook fxci-config generates for a .taskcluster.yml: the reference definition with its
 * task template around this file's first task and the hook id of this file's hash
 * (in_tree_actions.py make_hook: `<prefix>/<sha256[:10]>`, the template's `in` is tasks[0]).
 */
export function hookFor(taskclusterYmlText: string): HookDefinitionFile {
  const reference = referenceHook();
  const tasks = (parseYaml(taskclusterYmlText) as { tasks: unknown[] }).tasks;
  const hookId = hookIdFor(3, taskclusterYmlText);
  return {
    ...reference,
    hookId,
    // metadata.description as fxci-config's make_hook writes it (the reference file lacks it; the
    // real Hooks service requires it: create-hook-request.json).
    hook: { ...reference.hook, metadata: { ...reference.hook.metadata, name: `${reference.hookGroupId}/${hookId}`, description: `Action task release-promotion at level 3, with \`.taskcluster.yml\` hash ${hookId.split('/').at(-1)}.\n\nFor (project, branch) combinations:\nscriptworker-scripts, branch: 'master'\n\nThis hook is fired in response to actions defined in a\nGecko decision task's \`actions.json\`.\n` }, task: { $let: reference.hook.task.$let, in: tasks[0] } },
  };
}

/** Firefox-CI's roles from a (patched) fxci-config folder, with the hook's role. */
export function fxciDeploymentRoles(fxciDir: string, hook: HookDefinitionFile = referenceHook()): Roles {
  const roles = fxciRoles(grantFiles(fxciDir), loadProjects(fxciDir), ['scriptworker-scripts']);
  roles[hook.role.roleId] = hook.role.scopes;
  return roles;
}
