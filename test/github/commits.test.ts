// The commits a promotion undoes, from GitHub's compare (issue 13): the newest 20 with the
// count and the compare URL, paged the way GitHub pages compare (oldest first), every field of
// the answer checked before use, and GitHub unreachable or rate-limited a note, never a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { GitHubClient } from '../../src/github/client.js';
import { commitsBetween, describeCommits } from '../../src/github/commits.js';
import { checkDeployBranch } from '../../src/github/deploy-branch.js';
import { PromoteError } from '../../src/errors.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { json, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { freePort } from '../support/registry.js';

const config = loadConfig();
const repository = config.github.repository;
let repo: GitFixture;
let gh: GitHubEmulator;
let client: GitHubClient;

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript'], commits: 60, productionAt: 10, devAt: 50 });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository, anonymousReads: true });
  client = new GitHubClient({ repository, apiUrl: gh.url, transport: { attempts: 1 } });
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});

describe('commits between current and the target', () => {
  it('a rollback: the commits current has that the target lacks, newest first, in one request when 20 or fewer', async () => {
    gh.reset();
    const [target, current] = [repo.commits[40]!, repo.commits[45]!];
    const listed = await commitsBetween(async () => client, current, target);
    expect(listed).toMatchObject({ state: 'listed', direction: 'undone', from: current, to: target, total: 5, alsoDeployed: 0, compareUrl: `${gh.url}/${repository}/compare/${target}...${current}` });
    expect(listed.commits.map((c) => c.sha)).toEqual(repo.commits.slice(41, 46).reverse());
    expect(listed.commits[0]).toEqual({ sha: repo.commits[45], title: 'Commit 45', author: 'Release Engineer', date: '2020-10-28T12:26:40Z' });
    expect(gh.requests().map((r) => r.path)).toEqual([`/repos/${repository}/compare/${target}...${current}?per_page=20&page=1`]);
    // Anonymous: a public repository needs no token.
    expect(gh.requests()[0]!.auth).toBe('none');
  });

  it('more than 20: the newest 20 from the last pages (GitHub pages oldest first), the count of all', async () => {
    gh.reset();
    const [target, current] = [repo.commits[3]!, repo.commits[59]!];
    const listed = await commitsBetween(async () => client, current, target);
    expect(listed.total).toBe(56);
    expect(listed.commits).toHaveLength(20);
    expect(listed.commits.map((c) => c.sha)).toEqual(repo.commits.slice(40, 60).reverse());
    expect(gh.requests().map((r) => new URL(r.path, gh.url).searchParams.get('page')).sort()).toEqual(['1', '2', '3']);
    const text = describeCommits(listed);
    expect(text[0]).toBe('  56 commit(s) undone, the newest 20 shown:');
    expect(text[1]).toBe(`    ${repo.commits[59]!.slice(0, 12)} Commit 59 (Release Engineer)`);
    expect(text.at(-1)).toBe(`    ${gh.url}/${repository}/compare/${target}...${current}`);
  });

  it('a promotion forward: the commits the target brings', async () => {
    const [current, target] = [repo.commits[10]!, repo.commits[13]!];
    const listed = await commitsBetween(async () => client, current, target);
    expect(listed).toMatchObject({ state: 'listed', direction: 'deployed', total: 3 });
    expect(listed.commits.map((c) => c.title)).toEqual(['Commit 13', 'Commit 12', 'Commit 11']);
    expect(describeCommits(listed)[0]).toBe('  3 commit(s) deployed:');
  });

  it('the same revision lists nothing and asks nothing', async () => {
    gh.reset();
    expect((await commitsBetween(async () => client, repo.commits[5]!, repo.commits[5]!)).state).toBe('same');
    expect(gh.requests()).toEqual([]);
  });

  it('GitHub unreachable is a note', async () => {
    const port = await freePort();
    const away = new GitHubClient({ repository, apiUrl: `http://127.0.0.1:${port}`, transport: { attempts: 1 } });
    const listed = await commitsBetween(async () => away, repo.commits[5]!, repo.commits[2]!);
    expect(listed.state).toBe('unchecked');
    expect(listed.note).toMatch(/^commits not listed: comparing \S+ in mozilla-releng\/scriptworker-scripts: cannot reach the GitHub API at http:\/\/127\.0\.0\.1:\d+: connection refused$/);
  });
});

describe('every field of a compare answer is checked', () => {
  let hostile: HostileServer;
  let answer: (path: string) => { status: number; body: unknown; headers?: Record<string, string> };
  beforeAll(async () => {
    hostile = await startHostileServer((req, res) => {
      const a = answer(req.url ?? '/');
      json(res, a.status, a.body, a.headers);
    });
  });
  afterAll(async () => hostile?.stop());
  const base = '1'.repeat(40);
  const head = '2'.repeat(40);
  const good = () => ({ status: 'ahead', ahead_by: 1, behind_by: 0, total_commits: 1, html_url: 'https://github.com/x/y/compare/a...b', merge_base_commit: { sha: base }, commits: [{ sha: head, commit: { message: 'Fix it\n\nlong text', author: { name: 'A', date: '2021-01-01T00:00:00Z' } } }] });

  it.each([
    ['merge_base_commit without sha (once: "Cannot read properties of undefined")', (b: Record<string, unknown>) => ({ ...b, merge_base_commit: {} }), 'merge_base_commit.sha'],
    ['no merge_base_commit', (b: Record<string, unknown>) => ({ ...b, merge_base_commit: undefined }), 'merge_base_commit.sha'],
    ['a status GitHub never sends', (b: Record<string, unknown>) => ({ ...b, status: 'sideways' }), 'status'],
    ['a negative count', (b: Record<string, unknown>) => ({ ...b, ahead_by: -1 }), 'ahead_by'],
    ['commits not a list', (b: Record<string, unknown>) => ({ ...b, commits: {} }), 'commits'],
    ['a commit without sha', (b: Record<string, unknown>) => ({ ...b, commits: [{ commit: { message: 'x' } }] }), 'commits[0]'],
    ['a commit without a message', (b: Record<string, unknown>) => ({ ...b, commits: [{ sha: head, commit: {} }] }), 'commits[0]'],
  ])('%s: a clear error naming the field, and a note in the commit list', async (_, change, field) => {
    answer = () => ({ status: 200, body: change(good()) });
    const hostileClient = new GitHubClient({ repository, apiUrl: hostile.url, transport: { attempts: 1 } });
    const error = await hostileClient.commitsBetween(base, head).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromoteError);
    expect((error as Error).message).toBe(`comparing ${base}...${head} in ${repository}: GitHub's answer does not have the documented shape (${field} missing or malformed)`);
    expect((await commitsBetween(async () => hostileClient, head, base)).note).toContain('does not have the documented shape');
    // The deploy-branch check, which compares too, says it could not check instead of crashing.
    answer = (path) => (path.includes('/git/ref/') ? { status: 200, body: { ref: 'refs/heads/production-signingscript', object: { sha: head, type: 'commit' } } } : { status: 200, body: change(good()) });
    const check = await checkDeployBranch(async () => hostileClient, config, 'production', 'signingscript', base);
    expect(check).toMatchObject({ state: 'unchecked', head });
    expect(check.reason).toContain(`(${field} missing or malformed)`);
  });

  it('a good answer is read, and the title is the first line', async () => {
    answer = () => ({ status: 200, body: good() });
    const hostileClient = new GitHubClient({ repository, apiUrl: hostile.url, transport: { attempts: 1 } });
    expect((await hostileClient.commitsBetween(base, head)).commits).toEqual([{ sha: head, title: 'Fix it', author: 'A', date: '2021-01-01T00:00:00Z' }]);
  });

  it('rate-limited is a note naming the limit and when it resets', async () => {
    answer = () => ({ status: 403, body: { message: 'API rate limit exceeded for 127.0.0.1.' }, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1900000000' } });
    const hostileClient = new GitHubClient({ repository, apiUrl: hostile.url, transport: { attempts: 1 } });
    const listed = await commitsBetween(async () => hostileClient, head, base);
    expect(listed.state).toBe('unchecked');
    expect(listed.note).toBe(`commits not listed: comparing ${base}...${head} in ${repository}: GitHub API rate limit exhausted until 2030-03-17T17:46:40.000Z (HTTP 403)`);
  });
});
