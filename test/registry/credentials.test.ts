import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerConfigCredentials } from '../../src/registry/credentials.js';

function configDir(config: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcp-docker-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** A real docker-credential-<name> executable on PATH, answering the helper protocol. */
function helperOnPath(name: string, answers: Record<string, { Username: string; Secret: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tcp-helper-'));
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
    expect(await dockerConfigCredentials({ DOCKER_CONFIG: mkdtempSync(join(tmpdir(), 'tcp-empty-')) })('x')).toBeUndefined();
  });

  it('names the file, not the content, when the configuration is malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcp-bad-'));
    writeFileSync(join(dir, 'config.json'), '{"auths": {"x": {"auth": "c2VjcmV0"}');
    await expect(dockerConfigCredentials({ DOCKER_CONFIG: dir })('x')).rejects.toThrow(/config.json.*not valid JSON/);
    await expect(dockerConfigCredentials({ DOCKER_CONFIG: dir })('x')).rejects.not.toThrow(/c2VjcmV0/);
  });
});
