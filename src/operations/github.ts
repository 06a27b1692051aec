/**
 * What operations ask of GitHub, and when they may: the deploy-branch check and the commit
 * list of plan (rollbacks that stay put), on only when GitHub is configured for the run
 * (GITHUB_TOKEN or GITHUB_API_URL set, or inside a task: TASKCLUSTER_PROXY_URL), so that a
 * plan on a workstation or in CI without GitHub stays a registry-only read. Neither makes plan
 * fail: an unreachable API or a refused token becomes a warning or a note. One client per run
 * (GitHubAccess), loaded on first use.
 */
import type { Config } from '../config/load.js';
import type { GitHubClient } from '../github/client.js';
import type { CommitsBetween } from '../github/commits.js';
import type { DeployBranchCheck } from '../github/deploy-branch.js';
import type { GitHubTransportOptions } from '../github/transport.js';
import type { Redactor } from '../registry/redact.js';
import { positiveInteger } from './settings.js';

export interface GitHubAccessOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  redactor?: Redactor;
  /** Told of each retry. */
  onProgress?: (message: string) => void;
  /** Do not compare the deploy branch with the target. */
  noBranchCheck?: boolean;
  /** Do not list the commits between current and the target. */
  noCommits?: boolean;
}

/** The transport of a GitHub client: timeouts and retry pacing from the environment. */
export function githubTransport(options: Pick<GitHubAccessOptions, 'env' | 'signal' | 'onProgress'>): GitHubTransportOptions {
  // Checked as the registry's are (buildRuntime): "soon" is a usage error, not a network error.
  const timeoutMs = positiveInteger(options.env.TC_PROMOTE_HTTP_TIMEOUT_MS, 'TC_PROMOTE_HTTP_TIMEOUT_MS', 3_600_000);
  const baseDelayMs = positiveInteger(options.env.TC_PROMOTE_RETRY_BASE_MS, 'TC_PROMOTE_RETRY_BASE_MS', 60_000);
  return {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(baseDelayMs !== undefined && { baseDelayMs }),
    ...(options.signal && { signal: options.signal }),
    onRetry: ({ attempt, delayMs, reason }) => options.onProgress?.(`retrying after ${reason} (attempt ${attempt}, waiting ${Math.round(delayMs)} ms)`),
  };
}

/** Whether GitHub is configured for this run (and the check not turned off). */
export function branchCheckEnabled(env: NodeJS.ProcessEnv, options: { noBranchCheck?: boolean }): boolean {
  if (options.noBranchCheck) return false;
  return [env.GITHUB_TOKEN, env.GITHUB_API_URL, env.TASKCLUSTER_PROXY_URL].some((v) => v !== undefined && v !== '');
}

/** GitHub for one run: one client, shared by the branch check and the commit list. */
export class GitHubAccess {
  #client: Promise<GitHubClient> | undefined;
  constructor(
    readonly options: GitHubAccessOptions,
    readonly config: Config,
  ) {}

  /** The client, made on first use. */
  readonly client = (): Promise<GitHubClient> => {
    // Reads only: a short timeout and one retry, so an unreachable API costs little.
    const transport = { timeoutMs: 10_000, attempts: 2, ...githubTransport(this.options) };
    this.#client ??= import('../github/client.js').then(({ githubClientFromEnvironment }) => githubClientFromEnvironment(this.options.env, this.config, { transport, ...(this.options.redactor && { redactor: this.options.redactor }) }));
    return this.#client;
  };

  /** Whether the commit list is on (GitHub configured, not turned off). */
  get listsCommits(): boolean {
    return !this.options.noCommits && branchCheckEnabled(this.options.env, {});
  }

  /** The commit lister plan and status call: the commits from current's revision to the target's. */
  commitLister(noCommits = this.options.noCommits): (from: string | null, to: string | null) => Promise<CommitsBetween> {
    const enabled = !noCommits && branchCheckEnabled(this.options.env, {});
    return async (from, to) => {
      const { commitsBetween, commitsNotAsked } = await import('../github/commits.js');
      if (!enabled) return noCommits ? commitsNotAsked(from, to, 'commits not listed (--no-commits)') : commitsNotAsked(from, to);
      return commitsBetween(this.client, from, to);
    };
  }

  /** The checker plan calls, or undefined when the check is off. GitHub code loads only when it runs. */
  deployBranchChecker(noBranchCheck = this.options.noBranchCheck): ((env: string, script: string, targetRevision: string | null) => Promise<DeployBranchCheck>) | undefined {
    if (!branchCheckEnabled(this.options.env, { ...(noBranchCheck && { noBranchCheck }) })) return undefined;
    return async (env, script, targetRevision) => {
      const { checkDeployBranch } = await import('../github/deploy-branch.js');
      return checkDeployBranch(this.client, this.config, env, script, targetRevision);
    };
  }
}
