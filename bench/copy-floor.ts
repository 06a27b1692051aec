// The floor of a same-repository retag for any Node.js program on this machine: a fresh
// process that makes the requests tc-promote copy makes, in the same round trips (GET the
// source manifest ‖ HEAD the destination tag; PUT the manifest under the tag; HEAD the tag
// again) with node:http(s) and nothing else: no configuration, no argument checks, no digest
// verification, no retries. The copy benchmark times it as a process beside tc-promote and
// skopeo, so the table shows how much of tc-promote's time is Node.js itself.
//
// With --full, the floor of the full promote step (copy --expect-current --archive-tag
// --version-layer): its requests in its five round trips (GET the manifest ‖ GET the
// /app/version.json layer ‖ HEAD the archive tag ‖ HEAD the tag; PUT the tag; the same settle,
// 50 ms plus twice the PUT's time, then HEAD the tag ‖ HEAD the archive tag; PUT the archive
// tag; HEAD both), and nothing else: no gunzip or tar search of the layer, no digest or
// compare-and-swap checks.
//
// usage: node copy-floor.js <registry base URL> <repository> <source digest> <tag> [--full <archive tag> <layer digest>]
// (an https URL is trusted through NODE_EXTRA_CA_CERTS, as tc-promote is)
import { createRequire } from 'node:module';

// As tc-promote does: node:http imported as an ES module also loads Node's bundled undici for
// its WebSocket export (~25 ms here); require() does not.
const require = createRequire(import.meta.url);
const [base, repository, digest, tag, mode, archiveTag, layer] = process.argv.slice(2) as [string, string, string, string, string?, string?, string?];
const secure = base.startsWith('https:');
const http = (secure ? require('node:https') : require('node:http')) as typeof import('node:https');
const agent = new http.Agent({ keepAlive: true });
const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

function request(method: string, path: string, body?: Buffer, contentType?: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept, ...(body && { 'content-type': contentType!, 'content-length': String(body.length) }) };
    const req = http.request(`${base}/v2/${repository}/${path.startsWith('blobs/') ? path : `manifests/${path}`}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

if (mode === '--full') {
  const [manifest, archiveBefore, , version] = await Promise.all([request('GET', digest), request('HEAD', archiveTag!), request('HEAD', tag), request('GET', `blobs/${layer!}`)]);
  const putStart = performance.now();
  const put = await request('PUT', tag, manifest.body, manifest.type);
  const settle = 50 + 2 * (performance.now() - putStart);
  await new Promise((resolve) => setTimeout(resolve, settle));
  const [check] = await Promise.all([request('HEAD', tag), request('HEAD', archiveTag!)]);
  const archived = await request('PUT', archiveTag!, manifest.body, manifest.type);
  const [archiveAfter, moving] = await Promise.all([request('HEAD', archiveTag!), request('HEAD', tag)]);
  agent.destroy();
  if (archiveBefore.status !== 404 || version.status !== 200 || put.status !== 201 || check.status !== 200 || archived.status !== 201 || archiveAfter.status !== 200 || moving.status !== 200) {
    console.error(`floor full step failed: archive before ${archiveBefore.status}, layer ${version.status}, PUT ${put.status}, HEAD ${check.status}, archive PUT ${archived.status}, HEADs ${archiveAfter.status} ${moving.status}`);
    process.exit(1);
  }
} else {
  const [manifest] = await Promise.all([request('GET', digest), request('HEAD', tag)]);
  const put = await request('PUT', tag, manifest.body, manifest.type);
  const check = await request('HEAD', tag);
  agent.destroy();
  if (put.status !== 201 || check.status !== 200) {
    console.error(`floor copy failed: PUT ${put.status}, HEAD ${check.status}`);
    process.exit(1);
  }
}
