// forcePushBranch against the GitHub emulator and a real bare repository: every move is
// checked with git itself.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConflictError, NotFoundError, RemoteError, UsageError } from '../../src/errors.js';
import { GitHubClient } from '../../src/github/client.js';
import { forcePushBranch } from '../../src/github/force-push.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { resetGitHubFixture } from '../support/stacks.js';

const config = loadConfig();
const repository = config.github.repository;
const branch = 'production-signingscript';
const ref = `refs/heads/${branch}`;
const nowMs = Date.UTC(2024, 4, 6, 7, 8, 9);
const stamp = '20240506070809';

let repo: GitFixture;
let gh: GitHubEmulator;
let client: GitHubClient;

function clientFor(apiUrl: string): GitHubClient {
  return new GitHubClient({ repository, apiUrl, credential: { token: gh.token, source: 'GITHUB_TOKEN' }, transport: { baseDelayMs: 1 } });
}

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript', 'beetmoverscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  client = clientFor(gh.url);
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});
beforeEach(() => {
  // Every test starts from the fixture's refs: production-* at commit 1, no backups.
  resetGitHubFixture(repo, gh, ref);
  gh.setBeforeRequest(undefined);
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('forcePushBranch', () => {
  it('keeps a backup of the old head, moves the real branch and reads it back', async () => {
    const [oldHead, target] = [repo.commits[1]!, repo.commits[3]!];
    const result = await forcePushBranch(client, { config, branch, revision: target, expect: oldHead, nowMs });
    const backupRef = `refs/heads/tc-promote-backup/${branch}/${stamp}-${oldHead}`;
    expect(result).toEqual({ repository, branch, revision: target, oldHead, backupRef, moved: true, dryRun: false });
    expect(repo.rev(ref)).toBe(target);
    expect(repo.rev(backupRef)).toBe(oldHead);
    expect(gh.requests().map((r) => `${r.method} ${r.decodedPath.replace(`/repos/${repository}`, '')} ${r.status}`)).toEqual([
      'GET  200',
      `GET /commits/${target} 200`,
      `GET /git/ref/heads/${branch} 200`,
      'POST /git/refs 201',
      `GET /git/ref/heads/${branch} 200`,
      `PATCH /git/refs/heads/${branch} 200`,
      `GET /git/ref/heads/${branch} 200`,
    ]);
    expect(gh.writes().find((r) => r.method === 'PATCH')?.body).toEqual({ sha: target, force: true });
    expect(gh.requests().every((r) => r.auth === 'valid' && r.userAgent?.startsWith('tc-promote'))).toBe(true);
  });

  it('moves backwards (not a fast-forward) and forwards again', async () => {
    await forcePushBranch(client, { config, branch, revision: repo.commits[0]!, nowMs });
    expect(repo.rev(ref)).toBe(repo.commits[0]);
    await forcePushBranch(client, { config, branch, revision: repo.commits[4]!, nowMs: nowMs + 1000 });
    expect(repo.rev(ref)).toBe(repo.commits[4]);
    expect(Object.keys(repo.refs()).filter((r) => r.includes('tc-promote-backup'))).toHaveLength(2);
  });

  it('refuses with ConflictError when the lease is broken, and changes nothing', async () => {
    const error = await rejection(forcePushBranch(client, { config, branch, revision: repo.commits[3]!, expect: repo.commits[2]!, nowMs }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(`is at ${repo.commits[1]}, not at the expected ${repo.commits[2]}`);
    expect(repo.rev(ref)).toBe(repo.commits[1]);
    expect(gh.writes()).toEqual([]);
  });

  it('does nothing when the branch is already at the revision, whatever the lease said', async () => {
    const result = await forcePushBranch(client, { config, branch, revision: repo.commits[1]!, expect: repo.commits[0]!, nowMs });
    expect(result).toMatchObject({ oldHead: repo.commits[1], backupRef: null, moved: false, dryRun: false });
    expect(gh.writes()).toEqual([]);
  });

  it('dry-run reads everything and writes nothing', async () => {
    const result = await forcePushBranch(client, { config, branch, revision: repo.commits[3]!, expect: repo.commits[1]!, dryRun: true, nowMs });
    expect(result).toMatchObject({ oldHead: repo.commits[1], backupRef: `refs/heads/tc-promote-backup/${branch}/${stamp}-${repo.commits[1]}`, moved: false, dryRun: true });
    expect(gh.requests()).toHaveLength(3);
    expect(gh.writes()).toEqual([]);
    expect(repo.rev(ref)).toBe(repo.commits[1]);
  });

  it('refuses an unknown revision with NotFoundError before any write', async () => {
    const error = await rejection(forcePushBranch(client, { config, branch, revision: 'e'.repeat(40), nowMs }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toBe(`revision ${'e'.repeat(40)} does not exist in ${repository} (HTTP 422 "No commit found for SHA: ${'e'.repeat(40)}")`);
    expect(gh.writes()).toEqual([]);
  });

  it('refuses a configured deploy branch the repository does not have', async () => {
    const error = await rejection(forcePushBranch(client, { config, branch: 'production-treescript', revision: repo.commits[2]!, nowMs }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('branch "production-treescript" does not exist');
    expect(gh.writes()).toEqual([]);
  });

  it('refuses a disallowed branch without a single request', async () => {
    for (const bad of ['master', 'production', 'dev', 'production-unknownscript', 'production-signingscript;rm -rf /', '../x', 'production-signingscript\n']) {
      const error = await rejection(forcePushBranch(client, { config, branch: bad, revision: repo.commits[2]!, nowMs }));
      expect(error).toBeInstanceOf(UsageError);
    }
    expect(gh.requests()).toEqual([]);
  });

  it("refuses the repository's actual default branch even when the configuration names another", async () => {
    const other = createGitFixture({ scripts: ['signingscript'], defaultBranch: 'production-signingscript' });
    const emulator = await startGitHubEmulator({ gitDir: other.gitDir, repository, tokens: [gh.token] });
    try {
      const error = await rejection(forcePushBranch(clientFor(emulator.url), { config, branch, revision: other.commits[0]!, nowMs }));
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toContain('is the default branch of mozilla-releng/scriptworker-scripts on GitHub');
      expect(emulator.writes()).toEqual([]);
    } finally {
      await emulator.stop();
      other.cleanup();
    }
  });

  it('stops when the branch moves while the backup is made (second lease check)', async () => {
    gh.setBeforeRequest((r) => {
      if (r.method === 'POST') repo.git('update-ref', ref, repo.commits[2]!);
    });
    const error = await rejection(forcePushBranch(client, { config, branch, revision: repo.commits[3]!, nowMs }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(`moved from ${repo.commits[1]} to ${repo.commits[2]} while it was being backed up`);
    expect(repo.rev(ref)).toBe(repo.commits[2]);
    expect(gh.writes().map((r) => r.method)).toEqual(['POST']);
  });

  it('reports a branch that something else moved right after the update', async () => {
    let patched = false;
    gh.setBeforeRequest((r) => {
      if (r.method === 'PATCH') patched = true;
      else if (patched && r.method === 'GET') repo.git('update-ref', ref, repo.commits[4]!);
    });
    const error = await rejection(forcePushBranch(client, { config, branch, revision: repo.commits[3]!, nowMs }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain(`is at ${repo.commits[4]} after the update to ${repo.commits[3]}`);
    expect(error.message).toContain(`keeps the old head ${repo.commits[1]}`);
  });

  it('reuses a backup ref of the same head made in the same second', async () => {
    await forcePushBranch(client, { config, branch, revision: repo.commits[3]!, nowMs });
    repo.git('update-ref', ref, repo.commits[1]!);
    const again = await forcePushBranch(client, { config, branch, revision: repo.commits[3]!, nowMs });
    expect(again.moved).toBe(true);
    expect(gh.requests().filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([201, 422]);
  });
});

describe('forcePushBranch over a faulty network', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(gh.url);
  });
  afterAll(() => proxy?.stop());
  afterEach(() => proxy.clear());

  it('retries reads that failed with 5xx', async () => {
    proxy.add({ method: 'GET', path: /\/commits\//, fault: { kind: 'status', status: 503 }, times: 2 });
    const result = await forcePushBranch(clientFor(proxy.url), { config, branch, revision: repo.commits[3]!, nowMs });
    expect(result.moved).toBe(true);
    expect(proxy.requests().filter((r) => r.path.includes('/commits/')).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('never replays a failed update, and says the branch did not move', async () => {
    proxy.add({ method: 'PATCH', path: /./, fault: { kind: 'status', status: 502, body: '{"message":"Server Error"}' } });
    const error = await rejection(forcePushBranch(clientFor(proxy.url), { config, branch, revision: repo.commits[3]!, nowMs }));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.message).toMatch(/HTTP 502 "Server Error"; read back: the branch was not moved; refs\/heads\/tc-promote-backup\/.* keeps /);
    expect(proxy.requests().filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(repo.rev(ref)).toBe(repo.commits[1]);
  });

  it('trusts the read-back when the answer to an applied update is lost', async () => {
    proxy.add({ method: 'PATCH', path: /./, fault: { kind: 'truncate', bytes: 5 } });
    const result = await forcePushBranch(clientFor(proxy.url), { config, branch, revision: repo.commits[3]!, nowMs });
    expect(result.moved).toBe(true);
    expect(repo.rev(ref)).toBe(repo.commits[3]);
  });

  it('reports a GitHub API it cannot reach', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const error = await rejection(forcePushBranch(clientFor(closed), { config, branch, revision: repo.commits[3]!, nowMs }));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.message).toBe(`reading repository ${repository}: cannot reach the GitHub API at ${closed}: connection refused`);
  });
});
