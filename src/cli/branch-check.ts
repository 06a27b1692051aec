/**
 * When plan reads the deploy branch (rollbacks that stay put). The check is on when
 * GitHub is configured for this run, so that a plan on a workstation or in CI without
 * GitHub stays a registry-only read:
 *
 *   - `GITHUB_TOKEN` or `GITHUB_API_URL` set (a public repository is read anonymously with
 *     GITHUB_API_URL=https://api.github.com);
 *   - inside a task (`TASKCLUSTER_PROXY_URL`): the token from the configured secret;
 *   - `--no-branch-check` turns it off.
 *
 * It never makes plan fail: an unreachable API or a refused token becomes a warning saying
 * the branch could not be checked.
 */
import type { Config } from '../config/load.js';
import type { GitHubClient } from '../github/client.js';
import type { CommitsBetween } from '../github/commits.js';
import type { DeployBranchCheck } from '../github/deploy-branch.js';
import type { Io } from './common.js';
import { githubTransport } from './github-options.js';

export const branchCheckOptions = {
  'no-branch-check': { type: 'boolean' },
  'no-commits': { type: 'boolean' },
} as const;

export const branchCheckHelp = `  --no-branch-check  do not compare the deploy branch with the target (on when GITHUB_TOKEN,
                   GITHUB_API_URL or TASKCLUSTER_PROXY_URL is set)
  --no-commits     do not list the commits between current and the target (GitHub's compare;
                   on when GitHub is configured, as above; GITHUB_API_URL=https://api.github.com
                   reads a public repository anonymously, GITHUB_TOKEN raises the rate limit)`;

const clients = new WeakMap<Io, Promise<GitHubClient>>();

/** One GitHub client per run (the branch check and the commit list share it); loaded on first use. */
export function githubClientOnce(io: Io, config: Config, values: { debug?: boolean }): () => Promise<GitHubClient> {
  return () => {
    let client = clients.get(io);
    if (!client) {
      const verbose = io.isTty || values.debug === true;
      // Reads only: a short timeout and one retry, so an unreachable API costs little.
      const transport = { timeoutMs: 10_000, attempts: 2, ...githubTransport(io, verbose) };
      client = import('../github/client.js').then(({ githubClientFromEnvironment }) => githubClientFromEnvironment(io.env, config, { transport, ...(io.redactor && { redactor: io.redactor }) }));
      clients.set(io, client);
    }
    return client;
  };
}

/** The commit lister plan and status call: the commits from current's revision to the target's. */
export function commitLister(io: Io, config: Config, values: { 'no-commits'?: boolean; debug?: boolean }): (from: string | null, to: string | null) => Promise<CommitsBetween> {
  const enabled = !values['no-commits'] && branchCheckEnabled(io.env, {});
  return async (from, to) => {
    const { commitsBetween, commitsNotAsked } = await import('../github/commits.js');
    if (!enabled) return values['no-commits'] ? commitsNotAsked(from, to, 'commits not listed (--no-commits)') : commitsNotAsked(from, to);
    return commitsBetween(githubClientOnce(io, config, values), from, to);
  };
}

export function branchCheckEnabled(env: NodeJS.ProcessEnv, values: { 'no-branch-check'?: boolean }): boolean {
  if (values['no-branch-check']) return false;
  return [env.GITHUB_TOKEN, env.GITHUB_API_URL, env.TASKCLUSTER_PROXY_URL].some((v) => v !== undefined && v !== '');
}

/** The checker plan calls, or undefined when the check is off. GitHub code loads only when it runs. */
export function deployBranchChecker(io: Io, config: Config, values: { 'no-branch-check'?: boolean; debug?: boolean }): ((env: string, script: string, targetRevision: string | null) => Promise<DeployBranchCheck>) | undefined {
  if (!branchCheckEnabled(io.env, values)) return undefined;
  const client = githubClientOnce(io, config, values);
  return async (env, script, targetRevision) => {
    const { checkDeployBranch } = await import('../github/deploy-branch.js');
    return checkDeployBranch(client, config, env, script, targetRevision);
  };
}
