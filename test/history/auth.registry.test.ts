// history and plan against registries that need credentials: htpasswd basic auth, and bearer
// tokens from a token service (anonymous pull tokens, basic credentials, identity tokens).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { archiveTag, buildImage } from '../support/fixtures.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

const repo = 'mozilla/releng-signingscript';
const revA = 'a'.repeat(40);
const revB = 'b'.repeat(40);
const emptyDockerConfig = makeTempDir('tcp-nocreds-');
writeFileSync(join(emptyDockerConfig, 'config.json'), '{"auths": {}}');

async function seedSmall(reg: RunningRegistry): Promise<{ a: string; b: string }> {
  const a = await buildImage(reg, { repository: repo, commit: revA, tags: [archiveTag('production', new Date(Date.UTC(2021, 0, 1)), revA)] });
  const b = await buildImage(reg, { repository: repo, commit: revB, tags: ['production', archiveTag('production', new Date(Date.UTC(2021, 0, 10)), revB)] });
  return { a: a.digest, b: b.digest };
}

const run = (reg: RunningRegistry, dockerConfig: string, ...args: string[]) =>
  runCli([...args, '--registry', reg.url, '--json'], { DOCKER_CONFIG: dockerConfig, TC_PROMOTE_NOW: '2021-02-01T00:00:00Z' });

describe.each(['basic', 'token'] as const)('%s auth', (mode) => {
  let reg: RunningRegistry;
  let digests: { a: string; b: string };
  beforeAll(async () => {
    reg = await startRegistry({ auth: mode });
    digests = await seedSmall(reg);
  });
  afterAll(async () => reg?.stop());

  it('reads history and plans with credentials from the docker configuration', async () => {
    const history = await run(reg, reg.dockerConfigDir, 'history', 'signingscript');
    expect(history.stderr).toBe('');
    expect(history.code).toBe(0);
    expect(history.json().current.digest).toBe(digests.b);
    const plan = await run(reg, reg.dockerConfigDir, 'plan', 'signingscript');
    expect(plan.code).toBe(0);
    expect(plan.json().target).toMatchObject({ revision: revA, digest: digests.a });
    for (const out of [history.stdout, history.stderr, plan.stdout, plan.stderr]) {
      expect(out).not.toContain(reg.password!);
      expect(out).not.toContain(Buffer.from(`${reg.username}:${reg.password}`).toString('base64'));
    }
  });

  if (mode === 'basic') {
    it('fails clearly without credentials: exit 1, no secret, no stack', async () => {
      const result = await run(reg, emptyDockerConfig, 'history', 'signingscript');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/access denied \(HTTP 401\).*docker login/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }

  if (mode === 'token') {
    it('reads anonymously with an anonymous pull token', async () => {
      reg.token!.reset();
      const result = await run(reg, emptyDockerConfig, 'plan', 'signingscript');
      expect(result.code).toBe(0);
      expect(result.json().target.digest).toBe(digests.a);
      const requests = reg.token!.requests();
      expect(requests.every((r) => r.account === null)).toBe(true);
      // One token per scope, cached for the run: every read here is in one repository.
      expect(requests.length).toBe(1);
    });

    it('uses an identity token (refresh token) from the docker configuration', async () => {
      const realm = new URL(reg.realm!);
      realm.searchParams.set('service', reg.token!.service);
      realm.searchParams.set('offline_token', 'true');
      realm.searchParams.set('scope', `repository:${repo}:pull`);
      const response = await fetch(realm, { headers: { authorization: `Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}` } });
      const refresh = ((await response.json()) as { refresh_token: string }).refresh_token;
      const dir = makeTempDir('tcp-idtoken-');
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { identitytoken: refresh } } }));
      reg.token!.reset();
      const result = await run(reg, dir, 'history', 'signingscript');
      expect(result.code).toBe(0);
      expect(reg.token!.requests().map((r) => [r.method, r.account])).toEqual([['POST', reg.username]]);
      expect(result.stdout + result.stderr).not.toContain(refresh);
    });

    it('refuses wrong credentials with a clear message and no secret', async () => {
      const dir = makeTempDir('tcp-wrong-');
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('tc-promote:wrong-password').toString('base64') } } }));
      const result = await run(reg, dir, 'history', 'signingscript');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/credentials refused \(HTTP 401\)/);
      expect(result.stderr).not.toContain('wrong-password');
    });
  }
});
