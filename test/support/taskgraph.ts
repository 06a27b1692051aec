// The real taskgraph (../shared/upstream/python/taskgraph, 24.2.0) over a real git checkout of
// scriptworker-scripts: the reference `.taskcluster.yml` and `taskcluster/` folder as the base
// commit, the consumer changes of consumers/scriptworker-scripts applied as the head commit.
// renderActions() runs what the decision task runs up to public/actions.json
// (python/taskgraph_actions.py): load_graph_config, the patched register(),
// get_decision_parameters (with the repository's own decision-parameters hook) and
// render_actions_json. Only the taskcluster Python client is a stand-in (imported, never called).
//
//   const repo = consumerCheckout();
//   const { actions } = renderActions(repo, pushTo(repo, 'master'));
//   repo.cleanup();
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ActionsFile } from '../../src/taskcluster-api/actions-schema.js';
import { consumersDir, taskclusterYmlPatch } from './consumers.js';
import { referencePath } from './reference.js';
import { makeTempDir, removeTempDir } from './registry.js';
import { python3, taskgraphPythonPath } from './upstream.js';

const driver = path.join(import.meta.dirname, 'python', 'taskgraph_actions.py');
/** Import-only stand-ins for Python packages that cannot be installed here (the taskcluster client). */
export const pythonStubs = path.join(import.meta.dirname, 'python', 'stubs');

export interface ConsumerCheckout {
  dir: string;
  /** The reference revision (before the consumer changes) and the one with them. */
  baseRev: string;
  headRev: string;
  cleanup(): void;
}

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', GIT_AUTHOR_DATE: '2026-08-20T00:00:00Z', GIT_COMMITTER_DATE: '2026-08-20T00:00:00Z' };
const git = (dir: string, ...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: gitEnv, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * A git repository holding scriptworker-scripts at the reference revision (base commit), then
 * the consumer changes (head commit): the two patches applied with `git apply`, actions.py and
 * tc-promote.yml copied in, as consumers/README.md tells the maintainer.
 */
export function consumerCheckout(options: { withChanges?: boolean; actionsModule?: string } = {}): ConsumerCheckout {
  const root = makeTempDir('taskgraph-repo-');
  const dir = path.join(root, 'scriptworker-scripts');
  execFileSync('git', ['init', '-q', '-b', 'master', dir]);
  cpSync(referencePath('consumers', 'scriptworker-scripts', 'taskcluster'), path.join(dir, 'taskcluster'), { recursive: true });
  cpSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), path.join(dir, '.taskcluster.yml'));
  execFileSync('chmod', ['-R', 'u+w', dir]);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'scriptworker-scripts at 33e63121');
  const baseRev = git(dir, 'rev-parse', 'HEAD');
  if (options.withChanges !== false) {
    git(dir, 'apply', taskclusterYmlPatch, path.join(consumersDir, 'scriptworker-scripts', 'scriptworker_taskgraph.patch'));
    const moduleFile = path.join(dir, 'taskcluster', 'scriptworker_taskgraph', 'actions.py');
    if (options.actionsModule !== undefined) writeFileSync(moduleFile, options.actionsModule);
    else cpSync(path.join(consumersDir, 'scriptworker-scripts', 'actions.py'), moduleFile);
    cpSync(path.join(consumersDir, 'scriptworker-scripts', 'tc-promote.yml'), path.join(dir, 'taskcluster', 'tc-promote.yml'));
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', "tc-promote's promote-image action");
  }
  const headRev = git(dir, 'rev-parse', 'HEAD');
  return { dir, baseRev, headRev, cleanup: () => removeTempDir(root) };
}

/** The options `taskgraph decision` is given by .taskcluster.yml (its `--head-ref`, `--level`, …). */
export interface DecisionOptions {
  decision_task_id: string;
  base_repository: string;
  head_repository: string;
  head_ref: string;
  head_rev: string;
  base_rev: string;
  base_ref?: string;
  head_tag: string;
  project: string;
  pushlog_id: string;
  pushdate: number;
  repository_type: 'git';
  owner: string;
  level: string;
  tasks_for: string;
}

const repositoryUrl = 'https://github.com/mozilla-releng/scriptworker-scripts';

/** What .taskcluster.yml passes taskgraph for a push to `branch` (level 3: a protected branch). */
export function pushTo(repo: ConsumerCheckout, branch: string, decisionTaskId = 'Cv1d8fPHRzWvO3MZbI1e3A'): DecisionOptions {
  return {
    decision_task_id: decisionTaskId,
    base_repository: repositoryUrl,
    head_repository: repositoryUrl,
    head_ref: `refs/heads/${branch}`,
    head_rev: repo.headRev,
    base_rev: repo.baseRev,
    head_tag: '',
    project: 'scriptworker-scripts',
    pushlog_id: '0',
    pushdate: 0,
    repository_type: 'git',
    owner: 'releng@mozilla.com',
    level: '3',
    tasks_for: 'github-push',
  };
}

/** A pull request from a fork: level 1, as .taskcluster.yml decides for `github-pull-request`. */
export function pullRequest(repo: ConsumerCheckout, decisionTaskId = 'Cv1d8fPHRzWvO3MZbI1e3A'): DecisionOptions {
  return {
    ...pushTo(repo, 'master', decisionTaskId),
    head_repository: 'https://github.com/contributor/scriptworker-scripts',
    head_ref: 'feature_branch',
    base_ref: 'master',
    owner: 'contributor@example.com',
    level: '1',
    tasks_for: 'github-pull-request',
  };
}

export interface Rendered {
  parameters: Record<string, unknown>;
  actions: ActionsFile;
  /** What the registered promote_image callback raised when called (null: none registered). */
  callbackError: string | null;
}

/** taskgraph's own actions.json (and the decision parameters) for a checkout and a decision. */
export function renderActions(repo: ConsumerCheckout, options: DecisionOptions): Rendered {
  const pythonPath = taskgraphPythonPath();
  const out = execFileSync(python3, [driver, JSON.stringify(options)], {
    cwd: repo.dir,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: [pythonPath, pythonStubs].join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1', TASKCLUSTER_ROOT_URL: 'https://firefox-ci-tc.services.mozilla.com' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as Rendered;
}

export const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
export const writeJson = (file: string, value: unknown): void => writeFileSync(file, JSON.stringify(value, null, 2));
