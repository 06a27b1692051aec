/**
 * Does a script's deploy branch still point past a rollback target? If it does, the next
 * push to that branch (or a rerun of its image task) rebuilds what is being rolled back:
 * `plan` warns, and the promotion record says so, with a compare URL.
 */
import type { Config } from '../config/load.js';
import { PromoteError, RemoteError, quote } from '../errors.js';
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

/** The branch head was read, but comparing it with the target failed. */
export class BranchCompareError extends RemoteError {
  readonly head: string;
  constructor(message: string, head: string) {
    super(message);
    this.head = head;
  }
}

/** Compare `<env deploy branch for script>` with the target revision; null when the branch does not exist. */
export async function compareDeployBranch(client: GitHubClient, config: Config, env: string, script: string, targetRevision: string): Promise<DeployBranchComparison | null> {
  const branch = deployBranchFor(config, env, script);
  const target = validateRevision(targetRevision, 'target revision');
  const ref = await client.getRef(`refs/heads/${branch}`);
  if (!ref) return null;
  // The head was read: a comparison that fails keeps it (the lease stays known).
  const comparison = await client.compare(target, ref.sha).catch((error: unknown) => {
    throw error instanceof PromoteError ? new BranchCompareError(error.message, ref.sha) : error;
  });
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

/**
 * What `plan` records about the deploy branch: compared with the target (`checked`), absent
 * (`missing`), or not asked (`unchecked`, with the reason: GitHub unreachable, no credentials
 * for a private repository, no target revision). Never an error: plan goes on without it.
 */
export interface DeployBranchCheck {
  branch: string;
  state: 'checked' | 'missing' | 'unchecked';
  /** The branch head now: the force-push lease of the graph's fallback and force-push tasks. */
  head: string | null;
  target: string | null;
  status: DeployBranchComparison['status'] | null;
  aheadBy: number | null;
  compareUrl: string | null;
  /** The branch is newer than the target: the next push to it redeploys what is being rolled back. */
  warning: string | null;
  /** Why it was not checked. */
  reason: string | null;
}

export function uncheckedDeployBranch(branch: string, reason: string, target: string | null = null): DeployBranchCheck {
  return { branch, state: 'unchecked', head: null, target, status: null, aheadBy: null, compareUrl: null, warning: null, reason };
}

/** compareDeployBranch, with every failure turned into an `unchecked` answer. */
export async function checkDeployBranch(client: () => Promise<GitHubClient>, config: Config, env: string, script: string, targetRevision: string | null): Promise<DeployBranchCheck> {
  const branch = deployBranchFor(config, env, script);
  if (targetRevision === null) return uncheckedDeployBranch(branch, 'the target has no known revision to compare with');
  try {
    const comparison = await compareDeployBranch(await client(), config, env, script, targetRevision);
    if (!comparison) return { branch, state: 'missing', head: null, target: targetRevision, status: null, aheadBy: null, compareUrl: null, warning: null, reason: null };
    return { ...comparison, state: 'checked', reason: null };
  } catch (error) {
    if (!(error instanceof PromoteError)) throw error;
    const unchecked = uncheckedDeployBranch(branch, error.message, targetRevision);
    return error instanceof BranchCompareError ? { ...unchecked, head: error.head } : unchecked;
  }
}

/**
 * What a release engineer must know about the deploy branch. A retag or rerun leaves the
 * branch where it is, so a branch newer than the target redeploys the rolled-back code on
 * its next push; a rebuild moves the branch itself, and changes nothing when it is there already.
 */
export function deployBranchWarnings(check: DeployBranchCheck, route: 'retag' | 'rebuild' | 'rerun'): string[] {
  if (check.state === 'unchecked') return [`could not check deploy branch ${quote(check.branch)} against the target: ${check.reason}`];
  if (check.state === 'missing') {
    return route === 'rebuild' ? [`deploy branch ${quote(check.branch)} does not exist: the force-push task will fail; create it first`] : [];
  }
  if (route === 'rebuild') {
    return check.status === 'identical' ? [`deploy branch ${quote(check.branch)} is at the target ${check.target} already: a force-push changes nothing and starts no build; use --route rerun`] : [];
  }
  return check.warning ? [check.warning] : [];
}
