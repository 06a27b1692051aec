import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildImage, headManifest, MANIFEST_ACCEPT, randomCommit } from './fixtures.js';
import { libtrustKeyId, parseAccessLog, startRegistry, type AuthMode, type RunningRegistry } from './registry.js';

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, c] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(c!, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}

const modes: { auth: AuthMode; anonymousRead: number }[] = [
  { auth: 'anonymous', anonymousRead: 200 },
  { auth: 'basic', anonymousRead: 401 },
  { auth: 'token', anonymousRead: 200 },
];

describe.each(modes)('registry with auth=$auth', ({ auth, anonymousRead }) => {
  let reg: RunningRegistry;
  const repository = 'mozilla/releng-signingscript';
  const commit = randomCommit();
  let digest: string;

  beforeAll(async () => {
    reg = await startRegistry({ auth });
    const img = await buildImage(reg, { repository, commit, tags: ['production', `production-20250102030405-${commit}`] });
    digest = img.digest;
  }, 30_000);
  afterAll(() => reg?.stop());

  test('serves /v2/ on loopback and writes a docker config', async () => {
    expect(reg.url).toBe(`http://${reg.host}`);
    expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const cfg = JSON.parse(readFileSync(`${reg.dockerConfigDir}/config.json`, 'utf8')) as { auths: Record<string, { auth: string }> };
    if (auth === 'anonymous') {
      expect(cfg.auths).toEqual({});
      expect(reg.skopeoCreds).toBeUndefined();
    } else {
      expect(Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString()).toBe(`${reg.username}:${reg.password}`);
      expect(reg.skopeoCreds).toBe(`${reg.username}:${reg.password}`);
    }
    const res = await fetch(`${reg.url}/v2/`);
    expect(res.status).toBe(auth === 'anonymous' ? 200 : 401);
    if (auth === 'basic') expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    if (auth === 'token') {
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${reg.realm}",service="${reg.token!.service}"`);
    }
  });

  test('the pushed image is readable with credentials', async () => {
    const h = await headManifest(reg, repository, 'production');
    expect(h?.digest).toBe(digest);
  });

  test(`anonymous read answers ${anonymousRead}`, async () => {
    const res = await reg.fetch(`/v2/${repository}/manifests/production`, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } }, { anonymous: true });
    expect(res.status).toBe(anonymousRead);
    if (res.status === 200) expect(res.headers.get('docker-content-digest')).toBe(digest);
  });

  test('skopeo without credentials reads like an anonymous docker client', async () => {
    const args = ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${repository}:production`];
    const result = await new Promise<{ code: number; stdout: Buffer }>((resolve) => {
      execFile('skopeo', args, { encoding: 'buffer' }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
    });
    expect(result.code).toBe(anonymousRead === 200 ? 0 : 1);
    if (result.code === 0) expect(createHash('sha256').update(result.stdout).digest('hex')).toBe(digest.slice(7));
  });

  test('anonymous push is refused (unless the registry is anonymous)', async () => {
    const manifest = await reg.fetch(`/v2/${repository}/manifests/${digest}`, { headers: { Accept: MANIFEST_ACCEPT } });
    const bytes = new Uint8Array(await manifest.arrayBuffer());
    const res = await reg.fetch(
      `/v2/${repository}/manifests/anon-push`,
      { method: 'PUT', headers: { 'Content-Type': manifest.headers.get('content-type')! }, body: bytes },
      { anonymous: true },
    );
    expect(res.status).toBe(auth === 'anonymous' ? 201 : 401);
    if (auth === 'token') expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  test('the access log counts exactly the requests made', async () => {
    await reg.accessLog();
    reg.clearAccessLog();
    const n = 7;
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${reg.url}/v2/${repository}/tags/list?probe=${i}`);
      await res.arrayBuffer();
    }
    const entries = await reg.accessLog();
    expect(entries).toHaveLength(n);
    expect(entries.map((e) => e.path)).toEqual([...Array(n).keys()].map((i) => `/v2/${repository}/tags/list?probe=${i}`));
    for (const e of entries) {
      expect(e.method).toBe('GET');
      expect(e.status).toBe(auth === 'anonymous' ? 200 : 401);
      expect(e.userAgent).toBe('node');
    }
    // a concurrent burst is counted in full too
    reg.clearAccessLog();
    await Promise.all([...Array(20).keys()].map(async () => (await fetch(`${reg.url}/v2/${repository}/manifests/production`, { method: 'HEAD' })).arrayBuffer()));
    const burst = await reg.accessLog();
    expect(burst.filter((e) => e.method === 'HEAD')).toHaveLength(20);
    expect(burst).toHaveLength(20);
    // accessLog() is repeatable and does not count its own sync requests
    expect(await reg.accessLog()).toHaveLength(20);
  });

  if (auth === 'basic') {
    test('wrong basic credentials are refused', async () => {
      const res = await fetch(`${reg.url}/v2/${repository}/tags/list`, {
        headers: { Authorization: `Basic ${Buffer.from(`${reg.username}:nope`).toString('base64')}` },
      });
      expect(res.status).toBe(401);
    });
  }

  if (auth === 'token') {
    test('token service: anonymous gets pull, credentials get pull+push, wrong credentials 401', async () => {
      reg.token!.reset();
      const scope = `repository:${repository}:pull,push`;
      const anon = decodeJwt(await reg.bearerToken(scope, { anonymous: true }));
      expect(anon.claims.access).toEqual([{ type: 'repository', name: repository, actions: ['pull'] }]);
      expect(anon.claims.sub).toBe('');
      const user = decodeJwt(await reg.bearerToken(scope));
      expect(user.claims.access).toEqual([{ type: 'repository', name: repository, actions: ['pull', 'push'] }]);
      expect(user.claims).toMatchObject({ iss: reg.token!.issuer, aud: reg.token!.service, sub: reg.username });
      for (const k of ['exp', 'nbf', 'iat']) expect(typeof user.claims[k]).toBe('number');
      expect(typeof user.claims.jti).toBe('string');
      expect(user.header.alg).toBe('ES256');
      const spki = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: reg.token!.certificatePem });
      const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: spki });
      expect(user.header.kid).toBe(libtrustKeyId(der));
      expect(user.header.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);

      const u = new URL(reg.realm!);
      u.searchParams.set('service', reg.token!.service);
      u.searchParams.set('scope', scope);
      const bad = await fetch(u, { headers: { Authorization: `Basic ${Buffer.from(`${reg.username}:wrong`).toString('base64')}` } });
      expect(bad.status).toBe(401);
      const body = (await fetch(u).then((r) => r.json())) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token']);
      expect(reg.tokenRequests()).toBe(4);
      expect(reg.token!.requests().map((r) => r.status)).toEqual([200, 200, 401, 200]);
    });

    test('the registry verifies token signatures and audience', async () => {
      const path = `/v2/${repository}/manifests/production`;
      const head = (t: string) => fetch(reg.url + path, { method: 'HEAD', headers: { Authorization: `Bearer ${t}`, Accept: MANIFEST_ACCEPT } });
      const good = await reg.bearerToken(`repository:${repository}:pull`, { anonymous: true });
      expect((await head(good)).status).toBe(200);
      const [h, c, s] = good.split('.');
      const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, aud: 'elsewhere' })).toString('base64url')}.${s}`;
      expect((await head(forged)).status).toBe(401);
      const sig = Buffer.from(s!, 'base64url');
      sig[5] = sig[5]! ^ 0xff;
      expect((await head(`${h}.${c}.${sig.toString('base64url')}`)).status).toBe(401);
      // a token for another repository does not grant this one
      const other = await reg.bearerToken('repository:someone/else:pull', { anonymous: true });
      expect((await head(other)).status).toBe(401);
    });
  }
});

describe('token header formats the 2.8 registry accepts', () => {
  test.each([
    ['x5c', 'ES256'],
    ['kid', 'RS256'],
  ] as const)('%s + %s', async (tokenKeyHeader, tokenAlgorithm) => {
    const reg = await startRegistry({ auth: 'token', tokenKeyHeader, tokenAlgorithm, accessLog: false });
    try {
      const t = await reg.bearerToken('registry:catalog:*');
      const { header } = decodeJwt(t);
      expect(header.alg).toBe(tokenAlgorithm);
      expect(header[tokenKeyHeader]).toBeDefined();
      const res = await fetch(`${reg.url}/v2/_catalog`, { headers: { Authorization: `Bearer ${t}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ repositories: [] });
      await expect(reg.accessLog()).rejects.toThrow(/disabled/);
    } finally {
      await reg.stop();
    }
  }, 20_000);
});

describe('registry behaviour the product depends on', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'anonymous' });
  }, 20_000);
  afterAll(() => reg?.stop());

  test('tags/list ignores n and last, sends no Link header, and lists in storage order', async () => {
    const repository = 'probe/tags';
    const commit = randomCommit();
    const tags = ['e', 'a', 'd', 'b', 'c'];
    await buildImage(reg, { repository, commit, tags });
    const all = await fetch(`${reg.url}/v2/${repository}/tags/list`);
    const body = (await all.json()) as { name: string; tags: string[] };
    expect(body.name).toBe(repository);
    expect([...body.tags].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (const q of ['n=2', 'n=2&last=b', 'last=c', 'n=0']) {
      const res = await fetch(`${reg.url}/v2/${repository}/tags/list?${q}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('link')).toBeNull();
      expect(((await res.json()) as { tags: string[] }).tags).toEqual(body.tags);
    }
    // by contrast, the catalog honours n and answers with a Link header
    await buildImage(reg, { repository: 'probe/other', commit, tags: ['x'] });
    const cat = await fetch(`${reg.url}/v2/_catalog?n=1`);
    expect(((await cat.json()) as { repositories: string[] }).repositories).toHaveLength(1);
    expect(cat.headers.get('link')).toMatch(/^<\/v2\/_catalog\?last=.*n=1.*>; rel="next"$/);
  }, 20_000);

  test('tags/list of a repository with only untagged manifests is 404 NAME_UNKNOWN', async () => {
    const res = await fetch(`${reg.url}/v2/never/pushed/tags/list`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('NAME_UNKNOWN');
  });

  test('parseAccessLog reads combined-format lines', () => {
    const entries = parseAccessLog(
      '127.0.0.1 - - [26/Nov/2026:07:03:38 +0000] "HEAD /v2/a/b/manifests/x?y=1 HTTP/1.1" 404 96 "" "skopeo/1.9.3"\nnoise\n',
    );
    expect(entries).toEqual([
      expect.objectContaining({ method: 'HEAD', path: '/v2/a/b/manifests/x?y=1', status: 404, bytes: 96, userAgent: 'skopeo/1.9.3' }),
    ]);
  });
});

describe('lifecycle', () => {
  test('stop() kills the registry and removes its folders; it is idempotent', async () => {
    const reg = await startRegistry({ auth: 'token' });
    const storage = reg.storageDir;
    const realm = reg.realm!;
    expect(existsSync(storage)).toBe(true);
    expect(await reg.accessLog()).toEqual([]); // the readiness probes are not counted
    await reg.stop();
    await reg.stop();
    expect(existsSync(storage)).toBe(false);
    await expect(fetch(`${reg.url}/v2/`)).rejects.toThrow();
    await expect(fetch(realm)).rejects.toThrow();
  }, 20_000);

  test('await using disposes', async () => {
    let dir = '';
    {
      await using reg = await startRegistry({ auth: 'basic', accessLog: false });
      dir = reg.storageDir;
      expect((await reg.fetch('/v2/')).status).toBe(200);
    }
    expect(existsSync(dir)).toBe(false);
  }, 20_000);
});
