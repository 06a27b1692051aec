// The floor of a same-repository promotion for any Node.js program on this machine: a fresh
// process that makes the same four requests tc-promote copy makes (HEAD the destination tag,
// GET the source manifest, PUT it under the tag, HEAD the tag again) with node:http and
// nothing else: no configuration, no argument checks, no digest verification, no retries.
// The copy benchmark times it as a process beside tc-promote and skopeo, so the table shows
// how much of tc-promote's time is Node.js itself.
//
// usage: node copy-floor.js <host:port> <repository> <source digest> <tag>
import { createRequire } from 'node:module';

// As tc-promote does: node:http imported as an ES module also loads Node's bundled undici for
// its WebSocket export (~25 ms here); require() does not.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

const [host, repository, digest, tag] = process.argv.slice(2) as [string, string, string, string];
const agent = new http.Agent({ keepAlive: true });
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

function request(method: string, path: string, body?: Buffer, contentType?: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept, ...(body && { 'content-type': contentType!, 'content-length': String(body.length) }) };
    const req = http.request(`http://${host}/v2/${repository}/manifests/${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const mark = (label: string): void => {
  if (process.env.FLOOR_TIMES) console.error(`${label} ${performance.now().toFixed(1)}`);
};
mark('start');
await request('HEAD', tag);
mark('head');
const manifest = await request('GET', digest);
mark('get');
const put = await request('PUT', tag, manifest.body, manifest.type);
mark('put');
const check = await request('HEAD', tag);
mark('head');
agent.destroy();
if (put.status !== 201 || check.status !== 200) {
  console.error(`floor copy failed: PUT ${put.status}, HEAD ${check.status}`);
  process.exit(1);
}
