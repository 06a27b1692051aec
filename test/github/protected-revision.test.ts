// action-callback's revision pin (src/github/protected-revision.ts) against the GitHub
// emulator over a real git repository: the revision whose configuration the action task read
// must be on the default branch (compare) or the head of a level-3 (shared or deploy) branch.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { GitHubClient } from '../../src/github/client.js';
import { checkProtectedRevision, level3Branches } from '../../src/github/protected-revision.js';
import { runCli } from '../support/cli.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';

const config = loadConfig();
const url = `https://github.com/${config.github.repository}`;
let repo: GitFixture;
let gh: GitHubEmulator;
let client: GitHubClient;
/** A pull request's head: a commit on no branch of the repository (GitHub serves it by id). */
let prHead: string;
/** A commit only production-signingscript has (a hotfix pushed to the deploy branch). */
let hotfix: string;
/** The parent of that hotfix on the deploy branch's own line: on no branch's head, not on master. */
let unprotected: string;

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript'] });
  const tree = repo.git('rev-parse', `${repo.commits[1]}^{tree}`);
  const env = { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@example.com', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@example.com' };
  const commit = (parent: string, message: string): string => execFileSync('git', ['--git-dir', repo.gitDir, 'commit-tree', tree, '-p', parent, '-m', message], { env, encoding: 'utf8' }).trim();
  prHead = commit(repo.commits.at(-1)!, 'pull request');
  repo.git('update-ref', 'refs/pull/7/head', prHead);
  unprotected = commit(repo.commits[1]!, 'on the deploy branch');
  hotfix = commit(unprotected, 'hotfix');
  repo.git('update-ref', 'refs/heads/production-signingscript', hotfix);
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: config.github.repository });
  client = new GitHubClient({ repository: config.github.repository, apiUrl: gh.url, credential: { token: gh.token, source: 'GITHUB_TOKEN' } });
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});

describe('checkProtectedRevision', () => {
  it("accepts master's head and any revision master reaches", async () => {
    await expect(checkProtectedRevision(client, config, repo.commits.at(-1)!, url)).resolves.toEqual({ revision: repo.commits.at(-1), how: 'the head of master' });
    await expect(checkProtectedRevision(client, config, repo.commits[0]!, url)).resolves.toEqual({ revision: repo.commits[0], how: `on master (${repo.commits.length - 1} commit(s) behind its head)` });
  });

  it('accepts the head of a deploy branch that master does not reach', async () => {
    await expect(checkProtectedRevision(client, config, hotfix, url)).resolves.toEqual({ revision: hotfix, how: 'the head of production-signingscript' });
  });

  it("refuses a pull request's head, a deploy branch's older commit, and a commit GitHub lacks (exit 2, saying why)", async () => {
    await expect(checkProtectedRevision(client, config, prHead, url)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`revision ${prHead} is not protected: it is not on master (GitHub's compare: ahead, 1 commit(s) not on master) and is not the head of a level-3 branch`),
    });
    await expect(checkProtectedRevision(client, config, unprotected, url)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('is not the head of a level-3 branch') });
    await expect(checkProtectedRevision(client, config, 'f'.repeat(40), url)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining(`GitHub has no such commit in ${config.github.repository}`) });
  });

  it('refuses a short or symbolic revision and another repository before asking GitHub', async () => {
    const before = gh.requests().length;
    for (const bad of ['cafe', 'deadbee', 'master', repo.commits[0]!.toUpperCase()]) {
      await expect(checkProtectedRevision(client, config, bad, url)).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('is not a full revision (40 lowercase hex)') });
    }
    await expect(checkProtectedRevision(client, config, repo.commits[0]!, 'https://github.com/contributor/scriptworker-scripts')).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining("is not the configuration's repository") });
    expect(gh.requests().length).toBe(before);
  });

  it('names the level-3 branches from the configuration: shared and deploy branches', () => {
    expect(level3Branches(config)).toEqual(expect.arrayContaining(['production', 'dev', 'production-signingscript', 'dev-treescript']));
    expect(level3Branches(config)).toHaveLength(2 + 2 * config.scripts.length);
  });
});

describe('action-callback --revision', () => {
  const actionEnv = (extra: Record<string, string> = {}) => ({
    ACTION_CALLBACK: 'promote_image',
    ACTION_TASK_GROUP_ID: 'Cv1d8fPHRzWvO3MZbI1e3A',
    ACTION_TASK_ID: 'null',
    TASK_ID: 'fUAi2wXRRdGZcxKDrDiRZw',
    ACTION_INPUT: JSON.stringify({ script: 'signingscript', environment: 'production', reason: 'r' }),
    GITHUB_API_URL: gh.url,
    GITHUB_TOKEN: gh.token,
    ...extra,
  });

  it("refuses a pull request's head before planning (exit 2): no registry is read", async () => {
    const r = await runCli(['action-callback', '--dry-run', '--revision', prHead, '--repository', url, '--registry', 'http://127.0.0.1:9'], actionEnv());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`revision ${prHead} is not protected`);
    expect(r.stderr).not.toContain('127.0.0.1:9');
  });

  it('requires --revision with --config, and --repository with it', async () => {
    const noPin = await runCli(['action-callback', '--config', 'config/scriptworker-scripts.yml'], actionEnv());
    expect([noPin.code, noPin.stderr]).toEqual([2, expect.stringContaining('a configuration read from a checkout needs --revision')]);
    const half = await runCli(['action-callback', '--revision', repo.commits[0]!], actionEnv());
    expect([half.code, half.stderr]).toEqual([2, expect.stringContaining('--revision and --repository go together')]);
  });

  it('says how the revision was found protected, then plans (here the registry is unreachable: exit 1, not 2)', async () => {
    const r = await runCli(['action-callback', '--dry-run', '--revision', hotfix, '--repository', url, '--registry', 'http://127.0.0.1:9'], { ...actionEnv(), TC_PROMOTE_HTTP_TIMEOUT_MS: '2000', TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.stderr).toContain(`revision ${hotfix}: the head of production-signingscript`);
    expect(r.code, r.stderr).not.toBe(2);
  });
});
