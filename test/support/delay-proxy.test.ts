// The delay proxy the round-trip tests and benchmarks rely on: answers held, connections held,
// and round trips counted as the client experiences them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';

let upstream: http.Server;
let proxy: DelayProxy;
beforeAll(async () => {
  upstream = http.createServer((req, res) => res.end(`ok ${req.url}`));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startDelayProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, 40);
});
afterAll(async () => {
  await proxy?.stop();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('the delay proxy', () => {
  it('holds answers and new connections, and counts requests sent together as one round trip', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const get = (path: string): Promise<{ body: string; ms: number }> =>
      new Promise((resolve, reject) => {
        const start = performance.now();
        http
          .get(`${proxy.url}${path}`, { agent }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d));
            res.on('end', () => resolve({ body, ms: performance.now() - start }));
          })
          .on('error', reject);
      });
    try {
      proxy.clear();
      const first = await get('/a');
      expect(first.body).toBe('ok /a');
      // A new connection (40 ms) and an answer (40 ms).
      expect(first.ms).toBeGreaterThanOrEqual(75);
      const [b, c] = await Promise.all([get('/b'), get('/c')]);
      expect([b.body, c.body]).toEqual(['ok /b', 'ok /c']);
      const d = await get('/d');
      expect(d.ms).toBeGreaterThanOrEqual(38);
      expect(proxy.requests().map((r) => [r.path, r.depth])).toEqual([['/a', 1], ['/b', 2], ['/c', 2], ['/d', 3]]);
      expect(proxy.roundTrips()).toBe(3);
      expect(proxy.connections()).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});

describe('the delay proxy over TLS, in front of the real registry', () => {
  it('is a TLS registry on loopback that tc-promote reaches with --registry https://, a handshake later', async () => {
    const { startRegistry } = await import('./registry.js');
    const { buildImage, randomCommit } = await import('./fixtures.js');
    const { makeTempDir, removeTempDir } = await import('./registry.js');
    const { loopbackCertificate } = await import('./tls.js');
    const { runCliProcess } = await import('./cli.js');
    const dir = makeTempDir('delay-tls-');
    const reg = await startRegistry({ auth: 'anonymous' });
    const certificate = loopbackCertificate(dir);
    const secure = await startDelayProxy(reg.url, 20, { tls: certificate });
    try {
      const repo = 'mozilla/releng-signingscript';
      const image = await buildImage(reg, { repository: repo, commit: randomCommit(), tags: ['a'] });
      expect(secure.url).toMatch(/^https:/);
      const result = await runCliProcess(['copy', `${secure.host}/${repo}@${image.digest}`, `${secure.host}/${repo}:staging`, '--registry', secure.url, '--json'], { NODE_EXTRA_CA_CERTS: certificate.certPath });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ digest: image.digest, tag: 'written' });
      // GET ‖ HEAD, PUT, HEAD: every request went over TLS through the proxy.
      expect(secure.requests().map((r) => r.method)).toEqual(expect.arrayContaining(['GET', 'HEAD', 'PUT']));
      expect(secure.roundTrips(), JSON.stringify(secure.requests())).toBe(3);
    } finally {
      await secure.stop();
      await reg.stop();
      removeTempDir(dir);
    }
  });
});
