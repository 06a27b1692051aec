// The hooks and roles fxci-config's own generators make (ciadmin's in_tree_actions and grants
// update_resources, ../shared/upstream/fxci-config/src/ciadmin) over a copy of
// ../shared/reference/fxci-config with consumers/fxci-config's patches applied, and GitHub
// answered from real local git repositories (python/fxci_generate.py; stand-ins only for the
// imports that do not exist here: tcadmin, aiohttp, simple_github, the taskcluster client).
//
// For the end-to-end test on the real Taskcluster (create exactly what ciadmin generates):
//   const generated = fxciGenerated();                // JSON-serialisable
//   generated.hooks                                   // [{hookGroupId, hookId, metadata, schedule, bindings, task, triggerSchema}]
//   generated.roles['hook-id:project-scriptworker/in-tree-action-3-release-promotion/*']
//   generated.promotionHook                           // the release-promotion hook of master's .taskcluster.yml
//   generated.cleanup()
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hookIdFor } from '../../src/graph/actions.js';
import { applyConsumerPatches } from './consumers.js';
import { referencePath } from './reference.js';
import { makeTempDir, removeTempDir } from './registry.js';
import type { Roles } from './roles.js';
import { python3, taskgraphPythonPath } from './upstream.js';
import { pythonStubs } from './taskgraph.js';

const driver = path.join(import.meta.dirname, 'python', 'fxci_generate.py');

export interface GeneratedHook {
  hookGroupId: string;
  hookId: string;
  metadata: { name: string; description: string; owner: string; emailOnError: boolean };
  schedule: string[];
  bindings: unknown[];
  task: { $let: Record<string, unknown>; in: unknown };
  triggerSchema: Record<string, unknown>;
}

export interface GithubRequest {
  endpoint?: string;
  url?: string;
  params?: Record<string, string>;
  served: boolean;
}

export interface FxciGenerated {
  hooks: GeneratedHook[];
  /** roleId → scopes, of both generators (in_tree_actions' hook-id: roles, grants' roles). */
  roles: Roles;
  /** Which generator made each role. */
  roleSource: Record<string, 'in_tree_actions' | 'grants'>;
  /** Each role's description, as ciadmin gives it (what ci-admin apply writes). */
  roleDescriptions: Record<string, string>;
  githubRequests: GithubRequest[];
}

/** Run ciadmin's generators over an fxci-config folder, GitHub answered from `repos` ({owner/repo: git dir}). */
export function runFxciGenerators(fxciDir: string, repos: Record<string, string>): FxciGenerated {
  const out = execFileSync(python3, [driver], {
    cwd: fxciDir,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONPATH: [taskgraphPythonPath(), pythonStubs].join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1', TC_PROMOTE_FXCI_REPOS: JSON.stringify(repos) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const raw = JSON.parse(out) as { hooks: GeneratedHook[]; roles: { roleId: string; scopes: string[]; description?: string; generator: 'in_tree_actions' | 'grants' }[]; githubRequests: GithubRequest[] };
  const roles: Roles = {};
  const roleSource: FxciGenerated['roleSource'] = {};
  const roleDescriptions: FxciGenerated['roleDescriptions'] = {};
  for (const r of raw.roles) {
    if (roles[r.roleId]) throw new Error(`fxci-config generated role ${r.roleId} twice (${roleSource[r.roleId]}, ${r.generator})`);
    roles[r.roleId] = r.scopes;
    roleSource[r.roleId] = r.generator;
    roleDescriptions[r.roleId] = r.description ?? '';
  }
  return { hooks: raw.hooks, roles, roleSource, roleDescriptions, githubRequests: raw.githubRequests };
}

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_AUTHOR_DATE: '2026-08-20T00:00:00Z', GIT_COMMITTER_DATE: '2026-08-20T00:00:00Z' };

/** A bare-enough git repository whose branches hold the given .taskcluster.yml texts. */
export function repositoryWithBranches(dir: string, branches: Record<string, string>): string {
  const git = (...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: gitEnv, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  execFileSync('git', ['init', '-q', dir]);
  for (const [branch, text] of Object.entries(branches)) {
    git('checkout', '-q', '--orphan', branch);
    writeFileSync(path.join(dir, '.taskcluster.yml'), text);
    git('add', '.taskcluster.yml');
    git('commit', '-q', '-m', `.taskcluster.yml of ${branch}`);
  }
  return path.join(dir, '.git');
}

export interface FxciWorld extends FxciGenerated {
  /** The release-promotion hook of master's (patched) .taskcluster.yml, as ciadmin generated it. */
  promotionHook: GeneratedHook;
  /** The patched .taskcluster.yml master holds. */
  patchedTaskclusterYml: string;
  /** The patched fxci-config folder the generators ran over. */
  fxciDir: string;
  /** scriptworker-scripts' branches and the .taskcluster.yml each holds. */
  branches: Record<string, string>;
  cleanup(): void;
}

/**
 * ciadmin's output for the patched fxci-config, with scriptworker-scripts' master on the
 * patched .taskcluster.yml and, unless `branches` says otherwise, `production-signingscript`
 * still on the reference one (a deploy branch not yet merged forward) and `dev-treescript` on
 * the patched one, plus a feature branch (not configured: no hook). mozilla-releng/scriptworker
 * (the trust domain's other level-3 project) has `main` holding a small .taskcluster.yml of its
 * own (a stand-in: its real file is not in ../shared/reference).
 */
export function fxciGenerated(options: { branches?: (texts: { patched: string; reference: string }) => Record<string, string> } = {}): FxciWorld {
  const copies = applyConsumerPatches();
  const root = makeTempDir('fxci-generated-');
  try {
    const reference = readFileSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), 'utf8');
    const patched = readFileSync(copies.taskclusterYmlPath, 'utf8');
    const branches = options.branches?.({ patched, reference }) ?? { master: patched, 'production-signingscript': reference, 'dev-treescript': patched, 'feature-x': patched + '# a feature branch\n' };
    mkdirSync(path.join(root, 'scriptworker-scripts'));
    mkdirSync(path.join(root, 'scriptworker'));
    const repos = {
      'mozilla-releng/scriptworker-scripts': repositoryWithBranches(path.join(root, 'scriptworker-scripts'), branches),
      'mozilla-releng/scriptworker': repositoryWithBranches(path.join(root, 'scriptworker'), {
        main: 'version: 1\n# stand-in for mozilla-releng/scriptworker\'s .taskcluster.yml\ntasks:\n  - {taskId: x, payload: {}}\n',
      }),
    };
    const generated = runFxciGenerators(copies.fxciDir, repos);
    const promotionHookId = hookIdFor(3, patched);
    const promotionHook = generated.hooks.find((h) => h.hookGroupId === 'project-scriptworker' && h.hookId === promotionHookId);
    if (!promotionHook) throw new Error(`ciadmin generated no hook project-scriptworker/${promotionHookId}: ${generated.hooks.filter((h) => h.hookGroupId === 'project-scriptworker').map((h) => h.hookId).join(', ')}`);
    return {
      ...generated,
      promotionHook,
      patchedTaskclusterYml: patched,
      fxciDir: copies.fxciDir,
      branches,
      cleanup: () => {
        removeTempDir(root);
        copies.cleanup();
      },
    };
  } catch (error) {
    removeTempDir(root);
    copies.cleanup();
    throw error;
  }
}
