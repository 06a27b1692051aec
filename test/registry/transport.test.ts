// The transport over TLS. Registries on loopback speak plain HTTP, so every other test takes
// the node:http branch; these take the node:https one, which is loaded on the first https
// request: a server with a self-signed certificate, trusted by a child process through
// NODE_EXTRA_CA_CERTS (read only at start-up), and refused by this process, which does not trust it.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport, TransportError } from '../../src/registry/transport.js';
import { makeTempDir } from '../support/registry.js';
import { loopbackCertificate } from '../support/tls.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('transport over https', () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    dir = makeTempDir('tc-promote-tls-');
    const certificate = loopbackCertificate(dir);
    server = https.createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'docker-content-digest': 'sha256:x' });
      res.end(`${req.method} ${req.url}`);
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('speaks TLS to an https registry and keeps the connection for the next request', async () => {
    connections = 0;
    // The built transport in a process that trusts the test certificate.
    const script = `
      const { httpTransport } = await import(${JSON.stringify(`${repoRoot}dist/registry/transport.js`)});
      const send = httpTransport({ timeoutMs: 5000 });
      const out = [];
      for (const path of ['/v2/', '/v2/a/manifests/b']) {
        const res = await send({ method: 'GET', url: ${JSON.stringify(url)} + path });
        out.push([res.status, res.body.toString(), res.headers['docker-content-digest']]);
      }
      console.log(JSON.stringify(out));
      process.exit(0);`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') } }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    );
    expect(JSON.parse(stdout)).toEqual([
      [200, 'GET /v2/', 'sha256:x'],
      [200, 'GET /v2/a/manifests/b', 'sha256:x'],
    ]);
    expect(connections).toBe(1);
  });

  it('refuses a certificate it does not trust, naming the TLS error', async () => {
    const send = httpTransport({ timeoutMs: 5000 });
    const error = await send({ method: 'GET', url: `${url}/v2/` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect((error as TransportError).message).toContain(`GET ${url}/v2/: DEPTH_ZERO_SELF_SIGNED_CERT`);
  });
});
