// Docker Hub's tag API (loopback server with the documented response shape) as the tag and
// digest source, in front of a real registry that serves the manifests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { archiveTag, buildImage, headManifest, listTags } from '../support/fixtures.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

const repo = 'mozilla/releng-signingscript';
let reg: RunningRegistry;
let hub: http.Server;
let hubUrl: string;
let hubRequests: string[] = [];
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
  for (const name of await listTags(reg, repo)) entries.push({ name, digest: (await headManifest(reg, repo, name))!.digest });
  // GET /v2/namespaces/{namespace}/repositories/{repository}/tags?page_size=&page=
  hub = http.createServer((req, res) => {
    hubRequests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://hub');
    const match = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags$/.exec(url.pathname);
    if (!match || `${match[1]}/${match[2]}` !== repo) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'object not found', errinfo: {} }));
      return;
    }
    const pageSize = Number(url.searchParams.get('page_size') ?? 10);
    const page = Number(url.searchParams.get('page') ?? 1);
    if (hubBody) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(hubBody(page));
      return;
    }
    const slice = entries.slice((page - 1) * pageSize, page * pageSize);
    const more = page * pageSize < entries.length;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        count: entries.length,
        next: more ? `${hubUrl}${url.pathname}?page_size=${pageSize}&page=${page + 1}` : null,
        previous: page > 1 ? `${hubUrl}${url.pathname}?page_size=${pageSize}&page=${page - 1}` : null,
        results: slice.map((e, i) => ({
          creator: 1,
          id: i,
          images: [{ architecture: 'amd64', os: 'linux', digest: e.digest, size: 1000, status: 'active' }],
          last_updated: '2021-01-20T00:00:00.000000Z',
          last_updater_username: 'mozillarelengbot',
          name: e.name,
          repository: 2,
          full_size: 1000,
          v2: true,
          tag_status: 'active',
          tag_last_pulled: '2021-01-21T00:00:00.000000Z',
          tag_last_pushed: '2021-01-20T00:00:00.000000Z',
          media_type: 'application/vnd.oci.image.manifest.v1+json',
          content_type: 'image',
          digest: e.digest,
        })),
      }),
    );
  });
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hub?.close();
  await reg?.stop();
});

const env = { TC_PROMOTE_NOW: '2021-02-01T00:00:00Z', TC_PROMOTE_RETRY_BASE_MS: '5' };

describe('Docker Hub tag API', () => {
  it('gives the same history as the registry, with digests from the listing and no HEAD per tag', async () => {
    const direct = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env)).json();
    hubRequests = [];
    await reg.accessLog();
    reg.clearAccessLog();
    const viaHub = await runCli(['history', 'signingscript', '--registry', reg.url, '--hub-api', hubUrl, '--json'], env);
    expect(viaHub.code).toBe(0);
    const h = viaHub.json();
    expect(h.deploys.map((d: { tag: string }) => d.tag)).toEqual(direct.deploys.map((d: { tag: string }) => d.tag));
    expect(h.current).toEqual(direct.current);
    // Every deploy's digest is known from the listing.
    expect(h.deploys.every((d: { digest?: string }) => typeof d.digest === 'string')).toBe(true);
    expect(hubRequests).toHaveLength(1);
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
