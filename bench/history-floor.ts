// The floor of `tc-promote history` for any Node.js program on this machine: a fresh process
// that makes the same requests in the same pattern (the tag list, following Link pages, at
// once with the moving tag's HEAD; then a HEAD of each tag whose digest history resolved, all
// at once over 16 connections, as tc-promote's transport allows) with node:http, and nothing
// else: no configuration, no tag grammar, no analysis, no output. The history benchmark times
// it as a process beside tc-promote, so the table shows what tc-promote adds to the requests.
//
// usage: node history-floor.js <registry base URL (http or https)> <repository> <moving tag> <file: tags to HEAD, one a line>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// As tc-promote does: node:http imported as an ES module also loads Node's bundled undici.
const { readFileSync } = require('node:fs') as typeof import('node:fs');

const [base, repository, movingTag, tagsFile] = process.argv.slice(2) as [string, string, string, string];
// An https base (the TLS delay proxy) is trusted through NODE_EXTRA_CA_CERTS, as tc-promote is.
const http = require(base.startsWith('https:') ? 'node:https' : 'node:http') as typeof import('node:https');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

function request(method: string, url: string): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { accept }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listTags(): Promise<number> {
  let url: string | undefined = `${base}/v2/${repository}/tags/list?n=1000`;
  let count = 0;
  while (url) {
    const page = await request('GET', url);
    count += (JSON.parse(page.body.toString('utf8')) as { tags: string[] }).tags.length;
    const link = /<([^>]+)>;\s*rel="?next"?/.exec(String(page.headers.link ?? ''));
    url = link ? new URL(link[1]!, url).toString() : undefined;
  }
  return count;
}

const toHead = readFileSync(tagsFile, 'utf8').split('\n').filter(Boolean);
const manifest = (tag: string): string => `${base}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
const [listed, moving] = await Promise.all([listTags(), request('HEAD', manifest(movingTag))]);
const heads = await Promise.all(toHead.map((tag) => request('HEAD', manifest(tag))));
agent.destroy();
if (listed === 0 || moving.status !== 200 || heads.some((h) => h.status !== 200 && h.status !== 404)) {
  console.error(`floor failed: ${listed} tags, moving ${moving.status}`);
  process.exit(1);
}
