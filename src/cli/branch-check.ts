/**
 * When plan reads the deploy branch (SPEC: rollbacks that stay put). The check is on when
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
import type { DeployBranchCheck } from '../github/deploy-branch.js';
import type { Io } from './common.js';
import { githubTransport } from './github-options.js';

export const branchCheckOptions = {
  'no-branch-check': { type: 'boolean' },
} as const;

export const branchCheckHelp = `  --no-branch-check  do not compare the deploy branch with the target (on when GITHUB_TOKEN,
                   GITHUB_API_URL or TASKCLUSTER_PROXY_URL is set)`;

export function branchCheckEnabled(env: NodeJS.ProcessEnv, values: { 'no-branch-check'?: boolean }): boolean {
  if (values['no-branch-check']) return false;
  return [env.GITHUB_TOKEN, env.GITHUB_API_URL, env.TASKCLUSTER_PROXY_URL].some((v) => v !== undefined && v !== '');
}

/** The checker plan calls, or undefined when the check is off. GitHub code loads only when it runs. */
export function deployBranchChecker(io: Io, config: Config, values: { 'no-branch-check'?: boolean; debug?: boolean }): ((env: string, script: string, targetRevision: string | null) => Promise<DeployBranchCheck>) | undefined {
  if (!branchCheckEnabled(io.env, values)) return undefined;
  const verbose = io.isTty || values.debug === true;
  return async (env, script, targetRevision) => {
    const [{ checkDeployBranch }, { githubClientFromEnvironment }] = await Promise.all([import('../github/deploy-branch.js'), import('../github/client.js')]);
    // Reads only: a short timeout and one retry, so an unreachable API costs plan little.
    const transport = { timeoutMs: 10_000, attempts: 2, ...githubTransport(io, verbose) };
    return checkDeployBranch(() => githubClientFromEnvironment(io.env, config, { transport }), config, env, script, targetRevision);
  };
}
