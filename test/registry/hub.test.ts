// Docker Hub's tag API (test/support/hub-api.ts: a loopback stand-in in Hub's documented
// shapes, since Hub's API cannot run here) as the tag and digest source, in front of a real
// registry that serves the manifests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { archiveTag, buildImage } from '../support/fixtures.js';
import { hubEntriesFromRegistry, startHubApi, type HubApi } from '../support/hub-api.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

const repo = 'mozilla/releng-signingscript';
let reg: RunningRegistry;
let hub: HubApi;
let hubUrl: string;
let hubBody: ((page: number) => string) | undefined;
let entries: { name: string; digest: string }[] = [];

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  const revs = ['1', '2', '3', '4', '5'].map((c) => c.repeat(40));
  for (const [i, rev] of revs.entries()) {
    const tags = [archiveTag('production', new Date(Date.UTC(2021, 0, 1 + i * 3)), rev)];
    if (i === revs.length - 1) tags.unshift('production');
    await buildImage(reg, { repository: repo, commit: rev, tags });
  }
  const hubEntries = await hubEntriesFromRegistry(reg, repo, Date.UTC(2021, 0, 20));
  entries = hubEntries;
  hub = await startHubApi(new Map([[repo, hubEntries]]));
  hub.intercept = (req, res) => {
    if (!hubBody) return false;
    const page = Number(new URL(req.url ?? '/', 'http://hub').searchParams.get('page') ?? 1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(hubBody(page));
    return true;
  };
  hubUrl = hub.url;
});
afterAll(async () => {
  await hub?.stop();
  await reg?.stop();
});

const env = { TC_PROMOTE_NOW: '2021-02-01T00:00:00Z', TC_PROMOTE_RETRY_BASE_MS: '5' };

describe('Docker Hub tag API', () => {
  it('gives the same history as the registry, with digests from the listing and no HEAD per tag', async () => {
    const direct = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env)).json();
    hub.clear();
    await reg.accessLog();
    reg.clearAccessLog();
    const viaHub = await runCli(['history', 'signingscript', '--registry', reg.url, '--hub-api', hubUrl, '--json'], env);
    expect(viaHub.code).toBe(0);
    const h = viaHub.json();
    expect(h.deploys.map((d: { tag: string }) => d.tag)).toEqual(direct.deploys.map((d: { tag: string }) => d.tag));
    expect(h.current).toEqual(direct.current);
    // Every deploy's digest is known from the listing.
    expect(h.deploys.every((d: { digest?: string }) => typeof d.digest === 'string')).toBe(true);
    // One page, asked as Hub documents it: newest first, 100 a page.
    expect(hub.requests().map((r) => r.path)).toEqual([`/v2/namespaces/mozilla/repositories/releng-signingscript/tags?page=1&page_size=100&ordering=last_updated`]);
    const registryRequests = (await reg.accessLog()).filter((e) => e.path !== '/v2/');
    // Only the moving tag is asked of the registry (it is authoritative for what deploys).
    expect(registryRequests.map((e) => `${e.method} ${e.path}`)).toEqual([`HEAD /v2/${repo}/manifests/production`]);
  });

  it('fails clearly on a malformed response', async () => {
    hubBody = () => JSON.stringify({ count: 1, next: null, results: 'nope' });
    const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--hub-api', hubUrl], env);
    hubBody = undefined;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Docker Hub API mozilla\/releng-signingscript: response has no results array/);
  });

  it('pages with next until null', async () => {
    let pages = 0;
    hubBody = (page) => {
      pages++;
      const slice = entries.slice((page - 1) * 2, page * 2);
      const more = page * 2 < entries.length;
      return JSON.stringify({ count: entries.length, next: more ? `${hubUrl}/v2/namespaces/mozilla/repositories/releng-signingscript/tags?page_size=2&page=${page + 1}` : null, previous: null, results: slice.map((e) => ({ name: e.name, digest: e.digest, last_updated: '2021-01-20T00:00:00Z', tag_last_pushed: '2021-01-20T00:00:00Z' })) });
    };
    const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--hub-api', hubUrl, '--json'], env);
    hubBody = undefined;
    expect(result.code).toBe(0);
    expect(pages).toBe(Math.ceil(entries.length / 2));
    expect(result.json().deploys).toHaveLength(5);
  });
});
