import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { NotFoundError, RemoteError, UsageError } from '../../src/errors.js';
import { githubSecretKey, resolveGitHubToken } from '../../src/github/credentials.js';

const config = loadConfig();
const secretName = config.taskcluster.secrets.github;

/** A loopback stand-in for the task's Taskcluster proxy: GET /api/secrets/v1/secret/<name>. */
let proxyUrl: string;
let server: http.Server;
let answer: { status: number; body: unknown };
let seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  answer = { status: 200, body: { secret: { [githubSecretKey]: 'ghs_fromsecret', registries: { 'docker.io': { username: 'u', password: 'dockerpassword' } } }, expires: '2030-01-01T00:00:00.000Z' } };
});

describe('resolveGitHubToken', () => {
  it('uses GITHUB_TOKEN first, without asking the proxy', async () => {
    expect(await resolveGitHubToken({ GITHUB_TOKEN: 'ghp_env', TASKCLUSTER_PROXY_URL: proxyUrl }, config)).toEqual({ token: 'ghp_env', source: 'GITHUB_TOKEN' });
    expect(seen).toEqual([]);
  });

  it('reads the github_token field of the configured secret through the proxy', async () => {
    expect(await resolveGitHubToken({ TASKCLUSTER_PROXY_URL: proxyUrl }, config)).toEqual({
      token: 'ghs_fromsecret',
      source: `Taskcluster secret "${secretName}" (field github_token)`,
    });
    expect(seen).toEqual([`/api/secrets/v1/secret/${encodeURIComponent(secretName)}`]);
  });

  it('has no token without GITHUB_TOKEN or a proxy', async () => {
    expect(await resolveGitHubToken({ GITHUB_TOKEN: '' }, config)).toBeUndefined();
  });

  it('names a missing field without printing the secret', async () => {
    answer.body = { secret: { registries: { 'docker.io': { password: 'dockerpassword' } } } };
    const error = await resolveGitHubToken({ TASKCLUSTER_PROXY_URL: proxyUrl }, config).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('no non-empty string field "github_token"');
    expect((error as Error).message).not.toContain('dockerpassword');
  });

  it('turns proxy failures into typed errors', async () => {
    answer = { status: 404, body: { message: 'not found' } };
    await expect(resolveGitHubToken({ TASKCLUSTER_PROXY_URL: proxyUrl }, config)).rejects.toBeInstanceOf(NotFoundError);
    answer = { status: 403, body: { message: 'insufficient scopes' } };
    await expect(resolveGitHubToken({ TASKCLUSTER_PROXY_URL: proxyUrl }, config)).rejects.toThrow(new RemoteError(`Taskcluster secret "${secretName}" through TASKCLUSTER_PROXY_URL: HTTP 403; the task needs the scope secrets:get:${secretName}`));
  });

  it('refuses a token that would break the Authorization header, without quoting it', async () => {
    const error = await resolveGitHubToken({ GITHUB_TOKEN: 'ghp_abc\r\nx-evil: 1' }, config).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe('GITHUB_TOKEN: the token contains white space or control characters');
  });
});
