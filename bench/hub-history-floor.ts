// The floor of `tc-promote history` over Docker Hub's tag API for any Node.js program on this
// machine: a fresh process that makes the same requests in the same pattern (the first page of
// tags, 100 a page, newest first, at once with the moving tag's HEAD at the registry; then
// every other page the first page's count names, in rounds of <concurrency> sent at once
// over keep-alive connections, as tc-promote does) with node:http(s), and parses each page's JSON,
// nothing else: no configuration, no tag grammar, no analysis, no output.
//
// usage: node hub-history-floor.js <Hub API base> <namespace/repository> <registry base> <moving tag> <concurrency>
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [hubBase, repository, registryBase, movingTag, concurrencyText] = process.argv.slice(2) as [string, string, string, string, string];
const concurrency = Number(concurrencyText);
// https bases (the TLS delay proxy) are trusted through NODE_EXTRA_CA_CERTS, as tc-promote's are.
const httpsModule = require('node:https') as typeof import('node:https');
const httpModule = require('node:http') as typeof import('node:http');
const agents = new Map<string, import('node:http').Agent>();
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

function request(method: string, url: string, headers: Record<string, string>): Promise<{ status: number; body: Buffer }> {
  const secure = url.startsWith('https:');
  const origin = new URL(url).origin;
  let agent = agents.get(origin);
  if (!agent) agents.set(origin, (agent = new (secure ? httpsModule : httpModule).Agent({ keepAlive: true, maxSockets: 16 })));
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsModule : httpModule).request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const [namespace, name] = repository.split('/') as [string, string];
const page = (n: number): string => `${hubBase}/v2/namespaces/${namespace}/repositories/${name}/tags?page=${n}&page_size=100&ordering=last_updated`;
const read = async (n: number): Promise<{ count: number; results: unknown[] }> => {
  const answer = await request('GET', page(n), { accept: 'application/json' });
  if (answer.status !== 200) throw new Error(`page ${n}: HTTP ${answer.status}`);
  return JSON.parse(answer.body.toString('utf8')) as { count: number; results: unknown[] };
};
const [first, moving] = await Promise.all([read(1), request('HEAD', `${registryBase}/v2/${repository}/manifests/${movingTag}`, { accept })]);
const pages = Math.ceil(first.count / 100);
let tags = first.results.length;
// In rounds of <concurrency> pages, each round sent at once, as tc-promote reads them.
for (let from = 2; from <= pages; from += concurrency) {
  const round = await Promise.all(Array.from({ length: Math.min(concurrency, pages - from + 1) }, (_, i) => read(from + i)));
  for (const page of round) tags += page.results.length;
}
for (const agent of agents.values()) agent.destroy();
if (tags !== first.count || moving.status !== 200) {
  console.error(`floor failed: ${tags} of ${first.count} tags, moving ${moving.status}`);
  process.exit(1);
}
