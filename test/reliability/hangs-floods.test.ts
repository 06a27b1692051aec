// Hangs and floods (issue 12, items 7, 8 and 11): a malicious server on 127.0.0.1 trickles its
// answer a byte at a time, pages forever, or answers more than any limit. Each ends bounded,
// with one clear line that names what was hit, and exit 1.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { json, startHostileServer, trickle, type HostileServer } from '../support/hostile-server.js';

const repository = 'mozilla/releng-signingscript';
let servers: HostileServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});
async function hostile(...args: Parameters<typeof startHostileServer>): Promise<HostileServer> {
  const server = await startHostileServer(...args);
  servers.push(server);
  return server;
}

/**
 * A server hostile in its tag listing only: history asks for the moving tag's manifest beside
 * the tag list, and that HEAD is answered at once (no such tag), so the listing decides.
 */
async function hostileTags(handler: Parameters<typeof startHostileServer>[0]): Promise<HostileServer> {
  return hostile((req, res, socket) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end();
    } else handler(req, res, socket);
  });
}
/** The listing requests a server saw (not the moving tag's HEAD). */
const listings = (server: HostileServer) => server.requests().filter((r) => !r.path.includes('/manifests/'));

const fast = { TC_PROMOTE_RETRY_BASE_MS: '1' };
const history = (server: HostileServer, env: Record<string, string> = {}) => runCli(['history', 'signingscript', '--registry', server.url], { ...fast, ...env });

function expectOneLine(result: CliResult, message: RegExp | string): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error/);
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await run();
  return { result, ms: performance.now() - start };
}

const tagsBody = JSON.stringify({ name: repository, tags: ['production'] });
const answers = {
  'the status line': `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${tagsBody.length}\r\n\r\n${tagsBody}`,
  'the headers': `HTTP/1.1 200 OK\r\n${'x-padding: trickle\r\n'.repeat(40)}content-length: ${tagsBody.length}\r\n\r\n${tagsBody}`,
  'the body': `${tagsBody}${' '.repeat(400)}`,
};

describe('item 7: a whole-request deadline and a command deadline', () => {
  it.each(Object.keys(answers) as (keyof typeof answers)[])('a server trickling %s a byte every 100 ms ends at the request deadline', async (part) => {
    const server = await hostileTags((req, res, socket) => {
      if (part === 'the body') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(answers[part].length) });
        res.flushHeaders();
        trickle(socket, answers[part], 100);
      } else trickle(socket, answers[part], 100);
    });
    // The idle timeout (1 s) never fires: a byte comes every 100 ms.
    const { result, ms } = await timed(() => history(server, { TC_PROMOTE_HTTP_TIMEOUT_MS: '1000', TC_PROMOTE_HTTP_DEADLINE_MS: '700' }));
    expectOneLine(result, `/tags/list?n=1000: no complete answer within 700 ms (the request deadline, TC_PROMOTE_HTTP_DEADLINE_MS)`);
    // Five attempts of 700 ms and short backoffs, not the 90 s and more a trickle took.
    expect(ms).toBeLessThan(8_000);
    expect(listings(server).length).toBe(5);
  });

  it('the command deadline ends a command however its requests behave, as a real process', async () => {
    const server = await hostile((_req, _res, socket) => trickle(socket, answers['the status line'], 200));
    const { result, ms } = await timed(() => runCliProcess(['history', 'signingscript', '--registry', server.url], { ...fast, TC_PROMOTE_COMMAND_TIMEOUT_MS: '1500' }));
    expectOneLine(result, /the command deadline of 1500 ms passed \(TC_PROMOTE_COMMAND_TIMEOUT_MS\)/);
    expect(ms).toBeLessThan(6_000);
  });

  it('refuses a deadline that is not a number of milliseconds (exit 2)', async () => {
    for (const [name, value] of [['TC_PROMOTE_HTTP_DEADLINE_MS', '2s'], ['TC_PROMOTE_COMMAND_TIMEOUT_MS', '-1']] as const) {
      const result = await runCli(['history', 'signingscript', '--registry', 'http://127.0.0.1:9'], { [name]: value });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${name}: "${value}" is not a whole number`);
    }
  });
});

describe('item 8: endless pagination is capped', () => {
  it('stops a Link: rel="next" that always names a new page at the page cap, and says which cap', async () => {
    let page = 0;
    const server = await hostileTags((_req, res) => json(res, 200, { name: repository, tags: [`t${page}`] }, { link: `</v2/${repository}/tags/list?n=1&last=t${page++}>; rel="next"` }));
    const { result } = await timed(() => history(server, { TC_PROMOTE_MAX_TAG_PAGES: '50' }));
    expectOneLine(result, `${server.host}/${repository} tags: stopped after 50 pages, the page cap (TC_PROMOTE_MAX_TAG_PAGES): the registry keeps linking to a next page`);
    expect(listings(server)).toHaveLength(50);
  });

  it('stops at the default page cap of 10,000 pages', async () => {
    let page = 0;
    const server = await hostileTags((_req, res) => json(res, 200, { name: repository, tags: [] }, { link: `</v2/${repository}/tags/list?n=1&last=x${page++}>; rel="next"` }));
    const { result, ms } = await timed(() => history(server));
    expectOneLine(result, 'stopped after 10000 pages, the page cap (TC_PROMOTE_MAX_TAG_PAGES)');
    expect(listings(server)).toHaveLength(10_000);
    expect(ms).toBeLessThan(45_000);
  }, 60_000);

  it('stops at the tag cap, and says which cap', async () => {
    const server = await hostile((_req, res) => json(res, 200, { name: repository, tags: Array.from({ length: 600 }, (_, i) => `noise-${i}`) }));
    const result = await history(server, { TC_PROMOTE_MAX_TAGS: '500' });
    expectOneLine(result, `${server.host}/${repository} tags: more than 500 tags by page 1, the tag cap (TC_PROMOTE_MAX_TAGS)`);
  });

  it("refuses a Docker Hub count beyond the page cap or the tag cap after its first page", async () => {
    let count = 3000;
    const server = await hostile((req, res) => {
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? 1);
      if (req.url?.startsWith('/v2/namespaces/')) json(res, 200, { count, next: `/v2/namespaces/mozilla/repositories/releng-signingscript/tags?page=${page + 1}`, results: [{ name: `t${page}`, digest: `sha256:${'a'.repeat(64)}` }] });
      else json(res, 404, { errors: [{ code: 'NOT_FOUND' }] });
    });
    const result = await runCli(['history', 'signingscript', '--registry', server.url, '--hub-api', server.url], { ...fast, TC_PROMOTE_MAX_TAG_PAGES: '30' });
    expectOneLine(result, 'Docker Hub API mozilla/releng-signingscript: counts 3000 tags in 3000 pages of 1, more than the page cap of 30 (TC_PROMOTE_MAX_TAG_PAGES)');
    expect(listings(server)).toHaveLength(1);
    count = 1e9;
    const flood = await runCli(['history', 'signingscript', '--registry', server.url, '--hub-api', server.url], fast);
    expectOneLine(flood, 'Docker Hub API mozilla/releng-signingscript: counts 1000000000 tags, more than the tag cap of 1000000 (TC_PROMOTE_MAX_TAGS)');
  });
});

describe('item 11: oversized answers name the host, the request and the limit', () => {
  it.each([
    ['announced in Content-Length', true],
    ['streamed without a length', false],
  ])('a tag list over 32 MiB, %s', async (_name, announced) => {
    const server = await hostileTags((_req, res) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.writeHead(200, { 'content-type': 'application/json', ...(announced && { 'content-length': String(33 * 1024 * 1024) }) });
      let sent = 0;
      const pump = (): void => {
        while (sent < 33 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const result = await history(server);
    expectOneLine(result, `GET ${server.url}/v2/${repository}/tags/list?n=1000: the answer is larger than the limit of 32 MiB (33554432 bytes); refusing to read it`);
    // Not retried: a flood is not a transient failure.
    expect(listings(server)).toHaveLength(1);
  });

  it('a token answer over 1 MiB', async () => {
    const server = await hostile((req, res) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'x'.repeat(2 * 1024 * 1024) }));
        return;
      }
      json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="hostile"` });
    });
    const result = await history(server);
    expectOneLine(result, new RegExp(`GET ${server.url}/token\\?service=hostile&scope=repository%3Amozilla%2Freleng-signingscript%3Apull: the answer is larger than the limit of 1 MiB \\(1048576 bytes\\)`));
  });
});
