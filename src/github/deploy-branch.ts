/**
 * Does a script's deploy branch still point past a rollback target? If it does, the next
 * push to that branch (or a rerun of its image task) rebuilds what is being rolled back:
 * `plan` warns, and the promotion record says so, with a compare URL.
 */
import type { Config } from '../config/load.js';
import { quote } from '../errors.js';
import type { GitHubClient } from './client.js';
import { validateRevision } from './names.js';
import { deployBranchFor } from './policy.js';

export interface DeployBranchComparison {
  branch: string;
  /** The branch head now. */
  head: string;
  target: string;
  /** How the branch head relates to the target. */
  status: 'identical' | 'ahead' | 'behind' | 'diverged';
  /** Commits on the branch that the target does not have. */
  aheadBy: number;
  compareUrl: string;
  /** Set when the branch holds commits the target lacks. */
  warning: string | null;
}

/** Compare `<env deploy branch for script>` with the target revision; null when the branch does not exist. */
export async function compareDeployBranch(client: GitHubClient, config: Config, env: string, script: string, targetRevision: string): Promise<DeployBranchComparison | null> {
  const branch = deployBranchFor(config, env, script);
  const target = validateRevision(targetRevision, 'target revision');
  const ref = await client.getRef(`refs/heads/${branch}`);
  if (!ref) return null;
  const comparison = await client.compare(target, ref.sha);
  const compareUrl = client.compareUrl(target, ref.sha);
  const ahead = comparison.status === 'ahead' || comparison.status === 'diverged';
  return {
    branch,
    head: ref.sha,
    target,
    status: comparison.status,
    aheadBy: comparison.aheadBy,
    compareUrl,
    warning: ahead
      ? `deploy branch ${quote(branch)} is at ${ref.sha}, ${comparison.aheadBy} commit(s) newer than the target ${target}: the next push to it redeploys what is being rolled back (${compareUrl})`
      : null,
  };
}
