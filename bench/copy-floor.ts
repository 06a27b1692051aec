// The floor of a same-repository retag for any Node.js program on this machine: a fresh
// process that makes the requests tc-promote copy makes, in the same round trips (GET the
// source manifest ‖ HEAD the destination tag; PUT the manifest under the tag; HEAD the tag
// again) with node:http(s) and nothing else: no configuration, no argument checks, no digest
// verification, no retries. The copy benchmark times it as a process beside tc-promote and
// skopeo, so the table shows how much of tc-promote's time is Node.js itself.
//
// usage: node copy-floor.js <registry base URL> <repository> <source digest> <tag>
// (an https URL is trusted through NODE_EXTRA_CA_CERTS, as tc-promote is)
import { createRequire } from 'node:module';

// As tc-promote does: node:http imported as an ES module also loads Node's bundled undici for
// its WebSocket export (~25 ms here); require() does not.
const require = createRequire(import.meta.url);
const [base, repository, digest, tag] = process.argv.slice(2) as [string, string, string, string];
const secure = base.startsWith('https:');
const http = (secure ? require('node:https') : require('node:http')) as typeof import('node:https');
const agent = new http.Agent({ keepAlive: true });
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

function request(method: string, path: string, body?: Buffer, contentType?: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept, ...(body && { 'content-type': contentType!, 'content-length': String(body.length) }) };
    const req = http.request(`${base}/v2/${repository}/manifests/${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const [manifest] = await Promise.all([request('GET', digest), request('HEAD', tag)]);
const put = await request('PUT', tag, manifest.body, manifest.type);
const check = await request('HEAD', tag);
agent.destroy();
if (put.status !== 201 || check.status !== 200) {
  console.error(`floor copy failed: PUT ${put.status}, HEAD ${check.status}`);
  process.exit(1);
}
