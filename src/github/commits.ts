/**
 * The commits a promotion undoes (or brings): GitHub's compare between the target's revision
 * and current's, at most `limit` of them (the newest) with the count and the compare URL.
 * It never fails a command: GitHub unreachable, rate-limited or answering out of shape is a
 * note saying so, and the command goes on without the list.
 */
import { PromoteError } from '../errors.js';
import type { CommitSummary, GitHubClient } from './client.js';

export interface CommitsBetween {
  /**
   * listed: the commits are below; same: one revision; unchecked: GitHub was asked and did
   * not answer usefully (note says why); not-asked: GitHub is not configured for this run.
   */
  state: 'listed' | 'same' | 'unchecked' | 'not-asked';
  /** undone: commits current has that the target lacks (a rollback); deployed: the target's that current lacks. */
  direction: 'undone' | 'deployed' | null;
  /** From → to of the promotion: current's revision and the target's. */
  from: string | null;
  to: string | null;
  /** How many commits in that direction (the list holds at most the newest `limit`). */
  total: number | null;
  /** Commits the target has that current lacks (with direction undone), when current and target diverged. */
  alsoDeployed: number | null;
  commits: CommitSummary[];
  compareUrl: string | null;
  note: string | null;
}

export const notAskedNote = 'commits not listed: GitHub is not configured for this run (set GITHUB_TOKEN, or GITHUB_API_URL=https://api.github.com to read a public repository anonymously)';

export function commitsNotAsked(from: string | null, to: string | null, note = notAskedNote): CommitsBetween {
  return { state: 'not-asked', direction: null, from, to, total: null, alsoDeployed: null, commits: [], compareUrl: null, note };
}

/**
 * What moving from `from` (current's revision) to `to` (the target's) changes: the commits
 * undone (in from, not in to) or, for a promotion forward, those deployed (in to, not in from).
 */
export async function commitsBetween(client: () => Promise<GitHubClient>, from: string | null, to: string | null, limit = 20): Promise<CommitsBetween> {
  if (from === null || to === null) return commitsNotAsked(from, to, `commits not listed: ${from === null ? 'current' : 'the target'} has no known revision`);
  if (from === to) return { state: 'same', direction: null, from, to, total: 0, alsoDeployed: 0, commits: [], compareUrl: null, note: null };
  try {
    const github = await client();
    // base = the target, head = current: ahead_by counts the commits the promotion undoes.
    const undone = await github.commitsBetween(to, from, limit);
    if (undone.aheadBy > 0 || undone.behindBy === 0) {
      return { state: 'listed', direction: 'undone', from, to, total: undone.total, alsoDeployed: undone.behindBy, commits: undone.commits, compareUrl: github.compareUrl(to, from), note: null };
    }
    const deployed = await github.commitsBetween(from, to, limit);
    return { state: 'listed', direction: 'deployed', from, to, total: deployed.total, alsoDeployed: 0, commits: deployed.commits, compareUrl: github.compareUrl(from, to), note: null };
  } catch (error) {
    if (!(error instanceof PromoteError)) throw error;
    return { ...commitsNotAsked(from, to), state: 'unchecked', note: `commits not listed: ${error.message}` };
  }
}

/** The list as text lines (plan, rollback): the count, up to `shown` commits, and the compare URL. */
export function describeCommits(c: CommitsBetween, indent = '  ', shown = 20): string[] {
  if (c.state === 'same') return [];
  if (c.state !== 'listed') return c.note ? [`${indent}${c.note}`] : [];
  const lines = [`${indent}${c.total} commit(s) ${c.direction === 'undone' ? 'undone' : 'deployed'}${c.alsoDeployed ? ` (and ${c.alsoDeployed} of the target's that current lacks: the two diverged)` : ''}${c.total! > c.commits.length ? `, the newest ${Math.min(shown, c.commits.length)} shown` : ''}:`];
  for (const commit of c.commits.slice(0, shown)) lines.push(`${indent}  ${commit.sha.slice(0, 12)} ${commit.title}${commit.author ? ` (${commit.author})` : ''}`);
  if (c.compareUrl) lines.push(`${indent}  ${c.compareUrl}`);
  return lines;
}
