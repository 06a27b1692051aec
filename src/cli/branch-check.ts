/** The GitHub flags of plan, render, submit, rollback and status, and their mapping onto src/operations/github.ts. */
import type { Config } from '../config/load.js';
import type { GitHubClient } from '../github/client.js';
import type { CommitsBetween } from '../github/commits.js';
import type { DeployBranchCheck } from '../github/deploy-branch.js';
import type { Io } from './common.js';
import { GitHubAccess } from '../operations/github.js';

export const branchCheckOptions = {
  'no-branch-check': { type: 'boolean' },
  'no-commits': { type: 'boolean' },
} as const;

export const branchCheckHelp = `  --no-branch-check  do not compare the deploy branch with the target (on when GITHUB_TOKEN,
                   GITHUB_API_URL or TASKCLUSTER_PROXY_URL is set)
  --no-commits     do not list the commits between current and the target (GitHub's compare;
                   on when GitHub is configured, as above; GITHUB_API_URL=https://api.github.com
                   reads a public repository anonymously, GITHUB_TOKEN raises the rate limit)`;

const access = new WeakMap<Io, GitHubAccess>();

/** The flags as GitHub access options; one GitHubAccess per run (the branch check and the commit list share its client). */
export function githubAccess(io: Io, config: Config, values: { 'no-branch-check'?: boolean; 'no-commits'?: boolean; debug?: boolean }): GitHubAccess {
  let found = access.get(io);
  if (!found) {
    const verbose = io.isTty || values.debug === true;
    found = new GitHubAccess(
      {
        env: io.env,
        ...(io.signal && { signal: io.signal }),
        ...(io.redactor && { redactor: io.redactor }),
        onProgress: (message) => verbose && io.stderr(`${message}\n`),
        ...(values['no-branch-check'] && { noBranchCheck: true }),
        ...(values['no-commits'] && { noCommits: true }),
      },
      config,
    );
    access.set(io, found);
  }
  return found;
}

export function githubClientOnce(io: Io, config: Config, values: { debug?: boolean }): () => Promise<GitHubClient> {
  return githubAccess(io, config, values).client;
}

export function commitLister(io: Io, config: Config, values: { 'no-commits'?: boolean; debug?: boolean }): (from: string | null, to: string | null) => Promise<CommitsBetween> {
  return githubAccess(io, config, values).commitLister(Boolean(values['no-commits']));
}

export function deployBranchChecker(io: Io, config: Config, values: { 'no-branch-check'?: boolean; debug?: boolean }): ((env: string, script: string, targetRevision: string | null) => Promise<DeployBranchCheck>) | undefined {
  return githubAccess(io, config, values).deployBranchChecker(Boolean(values['no-branch-check']));
}
