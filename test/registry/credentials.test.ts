import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerConfigCredentials } from '../../src/registry/credentials.js';
import { runCli } from '../support/cli.js';
import { json, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { makeTempDir } from '../support/registry.js';

function configDir(config: object): string {
  const dir = makeTempDir('docker-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** A real docker-credential-<name> executable on PATH, answering the helper protocol. */
function helperOnPath(name: string, answers: Record<string, { Username: string; Secret: string }>): string {
  const dir = makeTempDir('helper-');
  const script = join(dir, `docker-credential-${name}`);
  writeFileSync(
    script,
    `#!/usr/bin/env node
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const answers = ${JSON.stringify(answers)};
  const found = answers[input.trim()];
  if (process.argv[2] !== 'get' || !found) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...found }));
});
`,
  );
  chmodSync(script, 0o755);
  return dir;
}

describe('docker configuration credentials', () => {
  it('reads auths with auth (base64 user:password)', async () => {
    const dir = configDir({ auths: { '127.0.0.1:5000': { auth: Buffer.from('alice:s3:cret').toString('base64') } } });
    const source = dockerConfigCredentials({ DOCKER_CONFIG: dir });
    expect(await source('127.0.0.1:5000')).toEqual({ username: 'alice', password: 's3:cret' });
    expect(await source('other:5000')).toBeUndefined();
  });

  it('reads identitytoken, and Docker Hub under its historical key', async () => {
    const dir = configDir({ auths: { 'https://index.docker.io/v1/': { identitytoken: 'refresh-me' } } });
    expect(await dockerConfigCredentials({ DOCKER_CONFIG: dir })('registry-1.docker.io')).toEqual({ identityToken: 'refresh-me' });
  });

  it('asks credHelpers per host before credsStore', async () => {
    const path = [helperOnPath('perhost', { 'reg.example:5000': { Username: 'bob', Secret: 'pw' } }), helperOnPath('store', { 'other.example': { Username: '<token>', Secret: 'idt' } })].join(':');
    const dir = configDir({ credHelpers: { 'reg.example:5000': 'perhost' }, credsStore: 'store' });
    const source = dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: `${path}:${process.env.PATH}` });
    expect(await source('reg.example:5000')).toEqual({ username: 'bob', password: 'pw' });
    expect(await source('other.example')).toEqual({ identityToken: 'idt' });
    expect(await source('unknown.example')).toBeUndefined();
  });

  it('is anonymous without a configuration', async () => {
    expect(await dockerConfigCredentials({ DOCKER_CONFIG: makeTempDir('empty-') })('x')).toBeUndefined();
  });

  it('names the file, not the content, when the configuration is malformed', async () => {
    const dir = makeTempDir('bad-');
    writeFileSync(join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0"}');
    await expect(dockerConfigCredentials({ DOCKER_CONFIG: dir })('x')).rejects.toThrow(/config.json.*not valid JSON/);
    await expect(dockerConfigCredentials({ DOCKER_CONFIG: dir })('x')).rejects.not.toThrow(/c2VjcmV0/);
  });
});

describe('a credential helper that hangs', () => {
  let server: HostileServer | undefined;
  afterAll(async () => server?.stop());

  /** A helper that never answers, and a child of it that holds its output open. */
  function hangingHelper(): string {
    const dir = makeTempDir('hanging-helper-');
    const script = join(dir, 'docker-credential-stuck');
    writeFileSync(script, '#!/bin/sh\nsleep 30 &\nsleep 30\n');
    chmodSync(script, 0o755);
    return dir;
  }

  it('is stopped at its timeout, and the error names the helper and the timeout', async () => {
    const dir = configDir({ credHelpers: { 'reg.example:5000': 'stuck' } });
    const source = dockerConfigCredentials({ DOCKER_CONFIG: dir, PATH: `${hangingHelper()}:${process.env.PATH}`, TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS: '300' });
    const start = performance.now();
    const error = await source('reg.example:5000').catch((e: Error & { exitCode?: number }) => e);
    expect(performance.now() - start).toBeLessThan(3_000);
    expect((error as Error).message).toBe(
      'credential helper docker-credential-stuck did not answer within 300 ms for reg.example:5000 and was stopped (TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS); check that it does not wait for a prompt or a locked keyring',
    );
    expect((error as { exitCode?: number }).exitCode).toBe(1);
  });

  it('ends a command with that one line and exit 1', async () => {
    server = await startHostileServer((_req, res) => json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Basic realm="x"' }));
    const dir = configDir({ credHelpers: { [server.host]: 'stuck' } });
    const result = await runCli(['history', 'signingscript', '--registry', server.url], { DOCKER_CONFIG: dir, PATH: `${hangingHelper()}:${process.env.PATH}`, TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS: '300' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^tc-promote history: error: credential helper docker-credential-stuck did not answer within 300 ms for 127\.0\.0\.1:\d+ and was stopped/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses a helper timeout that is not a number (exit 2)', async () => {
    const dir = configDir({ credHelpers: { 'reg.example:5000': 'stuck' } });
    await expect(dockerConfigCredentials({ DOCKER_CONFIG: dir, TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS: 'soon' })('reg.example:5000')).rejects.toThrow(/TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS: "soon" is not a whole number/);
  });
});
