// The GitHub emulator answers as GitHub documents: checked here with plain fetch, so the
// force-push tests can trust it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';

let repo: GitFixture;
let gh: GitHubEmulator;
const repository = 'mozilla-releng/scriptworker-scripts';

async function call(method: string, path: string, body?: unknown, token: string | null = gh.token): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gh.url}/repos/${repository}${path}`, {
    method,
    headers: { accept: 'application/vnd.github+json', ...(token !== null && { authorization: `token ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});
beforeEach(() => gh.reset());

describe('GitHub emulator', () => {
  it('builds the fixture: default branch, shared and per-script deploy branches', () => {
    const refs = repo.refs();
    expect(refs['refs/heads/master']).toBe(repo.commits[4]);
    expect(refs['refs/heads/production-signingscript']).toBe(repo.commits[1]);
    expect(refs['refs/heads/dev-signingscript']).toBe(repo.commits[3]);
    expect(refs['refs/heads/production']).toBe(repo.commits[1]);
    expect(repo.git('symbolic-ref', 'HEAD')).toBe('refs/heads/master');
  });

  it('answers 401 without a token and with a wrong one', async () => {
    expect(await call('GET', '', undefined, null)).toMatchObject({ status: 401, json: { message: 'Requires authentication' } });
    expect(await call('GET', '', undefined, 'ghp_wrong')).toMatchObject({ status: 401, json: { message: 'Bad credentials' } });
    expect(gh.requests().map((r) => r.auth)).toEqual(['none', 'invalid']);
  });

  it('serves the repository with its default branch', async () => {
    const { status, json } = await call('GET', '');
    expect(status).toBe(200);
    expect(json).toMatchObject({ full_name: repository, name: 'scriptworker-scripts', default_branch: 'master', owner: { login: 'mozilla-releng' } });
  });

  it('serves a ref in the documented shape, 404 for an unknown one', async () => {
    const { status, json } = await call('GET', '/git/ref/heads/production-signingscript');
    expect(status).toBe(200);
    expect(json).toEqual({
      ref: 'refs/heads/production-signingscript',
      node_id: expect.any(String),
      url: `${gh.url}/repos/${repository}/git/refs/heads/production-signingscript`,
      object: { sha: repo.commits[1], type: 'commit', url: `${gh.url}/repos/${repository}/git/commits/${repo.commits[1]}` },
    });
    expect((await call('GET', '/git/ref/heads%2Fproduction-signingscript')).json.object.sha).toBe(repo.commits[1]);
    expect(await call('GET', '/git/ref/heads/nope')).toMatchObject({ status: 404, json: { message: 'Not Found' } });
    // The singular endpoint does not match prefixes.
    expect((await call('GET', '/git/ref/heads/production-signing')).status).toBe(404);
  });

  it('serves commits, 422 for an unknown revision', async () => {
    const { status, json } = await call('GET', `/commits/${repo.commits[2]}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ sha: repo.commits[2], parents: [{ sha: repo.commits[1] }], commit: { message: 'Commit 2', author: { name: 'Release Engineer' } } });
    expect((await call('GET', '/commits/master')).json.sha).toBe(repo.commits[4]);
    const unknown = 'f'.repeat(40);
    expect(await call('GET', `/commits/${unknown}`)).toMatchObject({ status: 422, json: { message: `No commit found for SHA: ${unknown}` } });
    expect((await call('GET', '/commits/--all')).status).toBe(422);
  });

  it('creates refs; 422 for an existing ref and an unknown object', async () => {
    const created = await call('POST', '/git/refs', { ref: 'refs/heads/tc-promote-backup/x/1', sha: repo.commits[0] });
    expect(created).toMatchObject({ status: 201, json: { ref: 'refs/heads/tc-promote-backup/x/1', object: { sha: repo.commits[0], type: 'commit' } } });
    expect(repo.rev('refs/heads/tc-promote-backup/x/1')).toBe(repo.commits[0]);
    expect(await call('POST', '/git/refs', { ref: 'refs/heads/tc-promote-backup/x/1', sha: repo.commits[1] })).toMatchObject({ status: 422, json: { message: 'Reference already exists' } });
    expect(await call('POST', '/git/refs', { ref: 'refs/heads/y', sha: 'e'.repeat(40) })).toMatchObject({ status: 422, json: { message: 'Object does not exist' } });
    expect((await call('POST', '/git/refs', { ref: 'heads/y', sha: repo.commits[0] })).status).toBe(422);
    expect(repo.rev('refs/heads/y')).toBeNull();
  });

  it('updates refs: fast-forward only unless forced', async () => {
    const branch = 'refs/heads/dev-signingscript';
    expect(await call('PATCH', '/git/refs/heads/dev-signingscript', { sha: repo.commits[0] })).toMatchObject({ status: 422, json: { message: 'Update is not a fast forward' } });
    expect(repo.rev(branch)).toBe(repo.commits[3]);
    expect(await call('PATCH', '/git/refs/heads/dev-signingscript', { sha: repo.commits[4] })).toMatchObject({ status: 200, json: { object: { sha: repo.commits[4] } } });
    expect(await call('PATCH', '/git/refs/heads/dev-signingscript', { sha: repo.commits[0], force: true })).toMatchObject({ status: 200, json: { ref: branch, object: { sha: repo.commits[0] } } });
    expect(repo.rev(branch)).toBe(repo.commits[0]);
    expect(await call('PATCH', '/git/refs/heads/dev-signingscript', { sha: 'e'.repeat(40), force: true })).toMatchObject({ status: 422, json: { message: 'Object does not exist' } });
    expect(await call('PATCH', '/git/refs/heads/nope', { sha: repo.commits[0], force: true })).toMatchObject({ status: 422, json: { message: 'Reference does not exist' } });
    repo.git('update-ref', branch, repo.commits[3]!);
    expect(gh.writes().map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
  });

  it('compares two commits', async () => {
    const ahead = await call('GET', `/compare/${repo.commits[1]}...${repo.commits[4]}`);
    expect(ahead).toMatchObject({ status: 200, json: { status: 'ahead', ahead_by: 3, behind_by: 0, total_commits: 3, merge_base_commit: { sha: repo.commits[1] } } });
    expect(ahead.json.commits.map((c: { sha: string }) => c.sha)).toEqual(repo.commits.slice(2));
    expect((await call('GET', '/compare/master...production-signingscript')).json).toMatchObject({ status: 'behind', ahead_by: 0, behind_by: 3 });
    expect((await call('GET', '/compare/master...master')).json.status).toBe('identical');
    expect((await call('GET', `/compare/master...${'e'.repeat(40)}`)).status).toBe(404);
  });

  it('answers 404 for another repository and unknown endpoints', async () => {
    const other = await fetch(`${gh.url}/repos/someone/else`, { headers: { authorization: `token ${gh.token}` } });
    expect(other.status).toBe(404);
    expect((await call('GET', '/branches')).status).toBe(404);
  });
});
