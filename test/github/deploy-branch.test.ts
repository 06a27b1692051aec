import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { GitHubClient } from '../../src/github/client.js';
import { compareDeployBranch } from '../../src/github/deploy-branch.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';

const config = loadConfig();
let repo: GitFixture;
let gh: GitHubEmulator;
let client: GitHubClient;

beforeAll(async () => {
  // production-signingscript at commit 1, dev-signingscript at commit 3.
  repo = createGitFixture({ scripts: ['signingscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: config.github.repository });
  client = new GitHubClient({ repository: config.github.repository, apiUrl: gh.url, credential: { token: gh.token, source: 'GITHUB_TOKEN' } });
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});

describe('compareDeployBranch', () => {
  it('warns when the deploy branch is ahead of the rollback target, with a compare URL', async () => {
    const result = await compareDeployBranch(client, config, 'dev', 'signingscript', repo.commits[1]!);
    const compareUrl = `${gh.url}/${config.github.repository}/compare/${repo.commits[1]}...${repo.commits[3]}`;
    expect(result).toEqual({
      branch: 'dev-signingscript',
      head: repo.commits[3],
      target: repo.commits[1],
      status: 'ahead',
      aheadBy: 2,
      compareUrl,
      warning: `deploy branch "dev-signingscript" is at ${repo.commits[3]}, 2 commit(s) newer than the target ${repo.commits[1]}: the next push to it redeploys what is being rolled back (${compareUrl})`,
    });
  });

  it('says nothing when the branch is at or behind the target', async () => {
    expect((await compareDeployBranch(client, config, 'production', 'signingscript', repo.commits[1]!))?.warning).toBeNull();
    expect(await compareDeployBranch(client, config, 'production', 'signingscript', repo.commits[3]!)).toMatchObject({ status: 'behind', aheadBy: 0, warning: null });
  });

  it('returns null for a deploy branch the repository does not have, and refuses unknown scripts', async () => {
    expect(await compareDeployBranch(client, config, 'production', 'treescript', repo.commits[1]!)).toBeNull();
    await expect(compareDeployBranch(client, config, 'production', 'nosuchscript', repo.commits[1]!)).rejects.toBeInstanceOf(UsageError);
  });

  it('builds github.com compare URLs for the public API', () => {
    const pub = new GitHubClient({ repository: config.github.repository });
    expect(pub.compareUrl('a', 'b')).toBe('https://github.com/mozilla-releng/scriptworker-scripts/compare/a...b');
    const ghe = new GitHubClient({ repository: config.github.repository, apiUrl: 'https://ghe.example.com/api/v3/' });
    expect(ghe.apiUrl).toBe('https://ghe.example.com/api/v3');
    expect(ghe.compareUrl('a', 'b')).toBe('https://ghe.example.com/mozilla-releng/scriptworker-scripts/compare/a...b');
  });
});
