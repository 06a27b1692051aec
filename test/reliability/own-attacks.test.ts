// Attacks tried beyond issue 12's list, in its spirit: a deadline in the middle of the promote
// step, a registry that lies about a write, a trickled or endless provenance layer, a token
// realm that downgrades to plain http, hostile artifact folders, floods from GitHub and from a
// credential helper, oversized headers. Each is handled: bounded, one clear line, nothing
// half-done without saying so.
import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/client.js';
import type { RegistryRequest, RegistryResponse } from '../../src/registry/transport.js';
import { runCli } from '../support/cli.js';
import { copyTestConfig } from '../support/copy-config.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { archiveTag, buildImage, headManifest, randomCommit } from '../support/fixtures.js';
import { json, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

let reg: RunningRegistry;
let proxy: FaultProxy;
const servers: HostileServer[] = [];
const conf = copyTestConfig();
const now = new Date('2026-11-26T09:00:00Z');
const env = (extra: Record<string, string> = {}) => ({ DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '5', TC_PROMOTE_NOW: now.toISOString(), ...extra });
const copy = (args: string[], extra: Record<string, string> = {}) => runCli(['copy', ...args, ...conf.args], env(extra));

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  proxy = await startFaultProxy(reg.url);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await proxy?.stop();
  await reg?.stop();
});

async function world() {
  const repository = conf.nextRepository();
  const commit = randomCommit();
  const target = { commit, ...(await buildImage(reg, { repository, commit, tags: ['target'], layers: 2 })) };
  const prior = await buildImage(reg, { repository, commit: randomCommit(), tags: ['production'] });
  const tag = archiveTag('production', now, commit);
  const args = [`${proxy.host}/${repository}@${target.digest}`, `${proxy.host}/${repository}:production`, '--expect-current', prior.digest, '--archive-tag', tag];
  return { repository, target, prior, tag, args };
}

describe('the promote step under attack', () => {
  it('a command deadline between the moving tag and the archive tag says the tag moved and how to finish', async () => {
    const w = await world();
    proxy.clear();
    proxy.add({ method: 'PUT', path: new RegExp(`manifests/${w.tag}$`), fault: { kind: 'stall', ms: 30_000 } });
    const start = performance.now();
    const result = await copy(w.args, { TC_PROMOTE_COMMAND_TIMEOUT_MS: '2500' });
    expect(performance.now() - start).toBeLessThan(8_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the command deadline of 2500 ms passed');
    expect(result.stderr).toContain(`${proxy.host}/${w.repository}:production now points at ${w.target.digest} (this run moved it), but the archive tag ${w.tag} may not have been written (reading it back failed too): run the same command again`);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    proxy.clear();
    const rerun = await copy([...w.args, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { outcome: 'written' } });
  });

  it('a registry that answers 201 to the PUT and keeps nothing: exit 3, no archive tag for a digest that is not live', async () => {
    const w = await world();
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production$/, fault: { kind: 'status', status: 201, body: '' } });
    const result = await copy(w.args);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`raced: ${proxy.host}/${w.repository}:production now points at ${w.prior.digest}, not at ${w.target.digest}`);
    expect(result.stderr).toContain(`the archive tag ${w.tag} was not written`);
    expect(await headManifest(reg, w.repository, w.tag)).toBeNull();
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
  });

  it('a provenance layer trickled a byte at a time ends at the request deadline, before anything is written', async () => {
    const w = await world();
    proxy.clear();
    proxy.add({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'trickle', intervalMs: 50 }, times: Infinity });
    const start = performance.now();
    const result = await copy(w.args, { TC_PROMOTE_HTTP_DEADLINE_MS: '600' });
    expect(performance.now() - start).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/layer sha256:[0-9a-f]{64} of .*: cannot read the layer \(.*no complete answer within 600 ms/);
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
    proxy.clear();
  });

  it('a manifest listing more layers than any runnable image is refused before anything is written', async () => {
    const w = await world();
    const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'1'.repeat(64)}`, size: 10 };
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { ...layer, mediaType: 'application/vnd.oci.image.config.v1+json' }, layers: Array(5000).fill(layer) });
    proxy.clear();
    proxy.add({ method: 'GET', path: /manifests\/target$/, fault: { kind: 'status', status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest } });
    const result = await copy([`${proxy.host}/${w.repository}:target`, ...w.args.slice(1)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/lists 5000 layers, more than any runnable image \(128\); refusing to search them/);
    expect(proxy.requests().filter((r) => r.path.includes('/blobs/'))).toHaveLength(0);
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
    proxy.clear();
  });

  it('a layer redirected to a file:// URL is refused by name, before anything is written', async () => {
    const w = await world();
    proxy.clear();
    proxy.add({ method: 'GET', path: /\/blobs\//, fault: { kind: 'status', status: 307, headers: { location: 'file:///etc/passwd' } }, times: Infinity });
    const result = await copy(w.args);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the registry redirects to a "file:" URL; only http(s) redirects are followed');
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
    proxy.clear();
  });

  it('a promotion.json that is a link to another file is replaced, never written through', async () => {
    const w = await world();
    const dir = makeTempDir('artifacts-link-');
    const victim = path.join(makeTempDir('victim-'), 'important');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, path.join(dir, 'promotion.json'));
    symlinkSync(victim, path.join(dir, `.promotion.json.${process.pid}.tmp`));
    const result = await copy([...w.args.map((a) => a.replace(proxy.host, reg.host))], { TC_PROMOTE_ARTIFACTS: dir, TC_PROMOTE_PROMOTION: JSON.stringify({ script: 'x' }) });
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(JSON.parse(readFileSync(path.join(dir, 'promotion.json'), 'utf8'))).toMatchObject({ script: 'x', outcome: 'written' });
  });
});

describe('hostile servers', () => {
  async function hostile(handler: Parameters<typeof startHostileServer>[0]): Promise<HostileServer> {
    const server = await startHostileServer(handler);
    servers.push(server);
    return server;
  }

  it('an https registry whose token realm is plain http never gets the credentials sent there', async () => {
    const seen: string[] = [];
    const transport = async (req: RegistryRequest): Promise<RegistryResponse> => {
      seen.push(req.url);
      return { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://evil.example/token",service="x"' }, body: Buffer.alloc(0) };
    };
    const client = new RegistryClient({ transport, credentials: async () => ({ username: 'releng', password: 'secret-password-1' }) });
    const error = await client.listTags({ registry: 'registry.example', repository: 'a/b' }).catch((e: Error) => e);
    expect((error as Error).message).toContain('https://registry.example: its bearer challenge names the token service "http://evil.example/token" over plain http: the credentials would travel in clear; refusing to send them');
    expect(seen.every((u) => u.startsWith('https://registry.example/'))).toBe(true);
  });

  it('headers larger than Node accepts end with a clear line', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'x-flood': 'x'.repeat(64 * 1024) });
      res.end('{}');
    });
    const result = await runCli(['history', 'signingscript', '--registry', server.url], { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the answer's headers are larger than Node accepts (16 KiB)");
    expect(result.stderr).not.toMatch(/internal error/);
  });

  it('a GitHub API answering 20 MiB is refused at its limit', async () => {
    const server = await hostile((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"x": "${'x'.repeat(20 * 1024 * 1024)}"}`);
    });
    const result = await runCli(['force-push', '--branch', 'production-signingscript', '--revision', 'a'.repeat(40), '--dry-run'], { GITHUB_API_URL: server.url, TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach the GitHub API at ${server.url}: the answer is larger than the limit of 16777216 bytes`);
  });

  it('a credential helper that floods its output is stopped at 1 MiB', async () => {
    const bin = makeTempDir('flood-helper-');
    writeFileSync(path.join(bin, 'docker-credential-flood'), '#!/bin/sh\nexec yes\n');
    chmodSync(path.join(bin, 'docker-credential-flood'), 0o755);
    const server = await hostile((_req, res) => json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Basic realm="x"' }));
    const docker = makeTempDir('flood-docker-');
    writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ credHelpers: { [server.host]: 'flood' } }));
    const result = await runCli(['history', 'signingscript', '--registry', server.url], { DOCKER_CONFIG: docker, PATH: `${bin}:${process.env.PATH}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`credential helper docker-credential-flood wrote more than 1 MiB for ${server.host}`);
  });
});
