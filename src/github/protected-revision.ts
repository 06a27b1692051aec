/**
 * Inside the action task, before planning: is the revision whose configuration the task read
 * (the checkout of `taskcluster/tc-promote.yml`) a protected one? The hook's payload names the
 * revision, and a direct `hooks.triggerHook` can name any commit GitHub serves for the
 * repository (a pull request's head too), so it is checked here, against GitHub:
 *
 *   - reachable from the repository's default branch (as GitHub says it is, not as the
 *     configuration read at that revision says): GitHub's compare `<default>...<revision>`
 *     is `identical` or `behind`;
 *   - or the head of a level-3 branch: a shared branch (`production`, `dev`) or a deploy
 *     branch of a configured script (`production-<script>`, `dev-<script>`), the branches
 *     fxci-config's projects.yml gives level 3 (`master`, `production*`, `dev*`).
 *
 * Anything else is refused (exit 2), saying why; GitHub unreachable is exit 1: the revision
 * cannot be checked, and nothing is planned.
 */
import type { Config } from '../config/load.js';
import { PromoteError, UsageError, quote } from '../errors.js';
import { mapLimit } from '../util/concurrency.js';
import type { GitHubClient } from './client.js';

export const fullRevisionPattern = /^[0-9a-f]{40}$/;

export interface ProtectedRevision {
  revision: string;
  /** How it was found protected, for the log: `on master (…)`, `the head of production-signingscript`. */
  how: string;
}

/** Every level-3 branch but the default one: the shared and the deploy branches of the configuration. */
export function level3Branches(config: Config): string[] {
  const branches = new Set<string>();
  for (const env of Object.values(config.environments)) {
    branches.add(env.sharedBranch);
    for (const script of config.scripts) branches.add(env.deployBranch.replaceAll('{script}', script));
  }
  return [...branches];
}

/** The repository a GitHub https URL names (`https://github.com/<owner>/<repo>`), or a UsageError. */
export function repositoryOfUrl(url: string, field: string): string {
  const m = /^https:\/\/github\.com\/([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
  if (!m) throw new UsageError(`${field}: ${quote(url)} is not a GitHub repository URL (https://github.com/<owner>/<repo>)`);
  return m[1]!;
}

export async function checkProtectedRevision(client: GitHubClient, config: Config, revision: string, repositoryUrl: string): Promise<ProtectedRevision> {
  if (!fullRevisionPattern.test(revision)) throw new UsageError(`--revision: ${quote(revision)} is not a full revision (40 lowercase hex): a branch name or a short id could name another commit`);
  const repository = repositoryOfUrl(repositoryUrl, '--repository');
  if (repository.toLowerCase() !== config.github.repository.toLowerCase()) {
    throw new UsageError(`--repository: ${quote(repositoryUrl)} is not the configuration's repository ${config.github.repository}: refusing to promote with another repository's configuration`);
  }
  const refuse = (why: string): never => {
    throw new UsageError(
      `revision ${revision} is not protected: ${why}. The promotion reads its configuration at that revision, so only a revision on ${config.github.repository}'s default branch or the head of a level-3 branch (${level3Branches(config).slice(0, 3).join(', ')}, …) may be used; fire the action from a decision task of one of them`,
    );
  };
  try {
    const { defaultBranch } = await client.getRepository();
    const comparison = await client.compare(defaultBranch, revision).catch((error: unknown) => {
      // 404: GitHub does not have the commit in this repository at all.
      if (error instanceof PromoteError && error.exitCode === 4) return null;
      throw error;
    });
    if (comparison && (comparison.status === 'identical' || comparison.status === 'behind')) {
      return { revision, how: comparison.status === 'identical' ? `the head of ${defaultBranch}` : `on ${defaultBranch} (${comparison.behindBy} commit(s) behind its head)` };
    }
    const branches = level3Branches(config);
    const heads = await mapLimit(branches, 8, async (branch) => (await client.getRef(`refs/heads/${branch}`))?.sha ?? null);
    const index = heads.indexOf(revision);
    if (index >= 0) return { revision, how: `the head of ${branches[index]}` };
    return refuse(
      comparison === null
        ? `GitHub has no such commit in ${config.github.repository}`
        : `it is not on ${defaultBranch} (GitHub's compare: ${comparison.status}, ${comparison.aheadBy} commit(s) not on ${defaultBranch}) and is not the head of a level-3 branch`,
    );
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof PromoteError) throw new PromoteError(`revision ${revision} could not be checked against GitHub (${error.message}); nothing was planned`, 1, { cause: error });
    throw error;
  }
}
