// tc-promote copy against real registries; `skopeo inspect --raw` is the independent check.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { archiveTag, buildImage, buildIndex, headManifest, randomCommit, tagExisting } from '../support/fixtures.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

let reg: RunningRegistry;
let other: RunningRegistry;
let locked: RunningRegistry;
const repo = 'mozilla/releng-signingscript';

beforeAll(async () => {
  [reg, other, locked] = await Promise.all([startRegistry({ auth: 'anonymous' }), startRegistry({ auth: 'anonymous' }), startRegistry({ auth: 'basic' })]);
});
afterAll(async () => Promise.all([reg?.stop(), other?.stop(), locked?.stop()]));

function skopeoRaw(r: RunningRegistry, ref: string): { digest: string; bytes: Buffer } {
  const args = ['inspect', '--raw', '--tls-verify=false', ...(r.skopeoCreds ? ['--creds', r.skopeoCreds] : []), `docker://${r.host}/${ref}`];
  const bytes = execFileSync('skopeo', args);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

const env = (r: RunningRegistry = reg) => ({ DOCKER_CONFIG: r.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '10' });

async function image(r: RunningRegistry, repository: string, tags: string[], layers = 3, commit = randomCommit()) {
  return { commit, ...(await buildImage(r, { repository, commit, tags, layers })) };
}

describe('copy within one repository', () => {
  it('PUTs the exact manifest bytes in at most 4 requests, whatever the layer count', async () => {
    for (const layers of [1, 12]) {
      const old = await image(reg, repo, [`old-${layers}`], layers);
      const next = await image(reg, repo, [`moving-${layers}`], layers);
      await reg.accessLog();
      reg.clearAccessLog();
      const result = await runCli(['copy', `${reg.host}/${repo}@${old.digest}`, `${reg.host}/${repo}:moving-${layers}`, '--expect-current', next.digest, '--json'], env());
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.json()).toMatchObject({ digest: old.digest, previous: next.digest, tag: 'written', blobs: { present: 0, mounted: 0, streamed: 0 } });
      const requests = (await reg.accessLog()).filter((e) => e.path !== '/v2/');
      expect(requests.map((e) => e.method)).toEqual(['GET', 'HEAD', 'PUT', 'HEAD']);
      expect(requests.some((e) => e.path.includes('/blobs/'))).toBe(false);
      const served = skopeoRaw(reg, `${repo}:moving-${layers}`);
      expect(served.digest).toBe(old.digest);
      expect(served.bytes.equals(old.manifest)).toBe(true);
    }
  });

  it('refuses when the tag moved since the plan: exit 3, nothing written', async () => {
    const a = await image(reg, repo, ['cas-a'], 1);
    const b = await image(reg, repo, ['cas-moving'], 1);
    const before = skopeoRaw(reg, `${repo}:cas-moving`).digest;
    reg.clearAccessLog();
    const result = await runCli(['copy', `${reg.host}/${repo}:cas-a`, `${reg.host}/${repo}:cas-moving`, '--expect-current', a.digest, '--archive-tag', archiveTag('production', new Date(), a.commit)], env());
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/moved since the plan; nothing was written/);
    expect(skopeoRaw(reg, `${repo}:cas-moving`).digest).toBe(before);
    expect(b.digest).toBe(before);
    expect((await reg.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
  });

  it('accepts --expect-current none for a tag that does not exist yet, and refuses it when it does', async () => {
    const a = await image(reg, repo, ['none-src'], 1);
    expect((await runCli(['copy', `${reg.host}/${repo}:none-src`, `${reg.host}/${repo}:fresh-tag`, '--expect-current', 'none'], env())).code).toBe(0);
    expect(skopeoRaw(reg, `${repo}:fresh-tag`).digest).toBe(a.digest);
    const b = await image(reg, repo, ['none-src-2'], 1);
    const again = await runCli(['copy', `${reg.host}/${repo}:none-src-2`, `${reg.host}/${repo}:fresh-tag`, '--expect-current', 'none'], env());
    expect(again.code).toBe(3);
    expect(skopeoRaw(reg, `${repo}:fresh-tag`).digest).not.toBe(b.digest);
  });

  it('converges: a rerun at the source digest writes nothing and exits 0', async () => {
    const a = await image(reg, repo, ['rerun-src'], 1);
    const prior = await image(reg, repo, ['rerun-moving'], 1);
    const args = ['copy', `${reg.host}/${repo}:rerun-src`, `${reg.host}/${repo}:rerun-moving`, '--expect-current', prior.digest, '--json'];
    expect((await runCli(args, env())).json().tag).toBe('written');
    reg.clearAccessLog();
    const rerun = await runCli(args, env());
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', digest: a.digest });
    expect((await reg.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
  });

  it('writes the archive tag after the moving tag, and a rerun repairs a missing one', async () => {
    const a = await image(reg, repo, ['arch-src'], 2);
    const prior = await image(reg, repo, ['arch-moving'], 1);
    const tag = archiveTag('production', new Date(), a.commit);
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.add({ method: 'PUT', path: new RegExp(`manifests/${tag}$`), fault: { kind: 'status', status: 500 }, times: Infinity });
      const failed = await runCli(['copy', `${proxy.host}/${repo}:arch-src`, `${proxy.host}/${repo}:arch-moving`, '--expect-current', prior.digest, '--archive-tag', tag], env());
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(tag);
      expect(skopeoRaw(reg, `${repo}:arch-moving`).digest).toBe(a.digest);
      expect(await headManifest(reg, repo, tag)).toBeNull();
    } finally {
      await proxy.stop();
    }
    const rerun = await runCli(['copy', `${reg.host}/${repo}:arch-src`, `${reg.host}/${repo}:arch-moving`, '--expect-current', prior.digest, '--archive-tag', tag, '--json'], env());
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { tag, outcome: 'written' } });
    expect(skopeoRaw(reg, `${repo}:${tag}`).digest).toBe(a.digest);
  });

  it('checks provenance: /app/version.json must name the revision the tag claims', async () => {
    const commit = randomCommit();
    const claimed = randomCommit();
    const liar = await buildImage(reg, { repository: repo, commit, tags: [archiveTag('production', new Date(Date.UTC(2021, 0, 1)), claimed)], layers: 3 });
    const prior = await image(reg, repo, ['prov-moving'], 1);
    const src = `${reg.host}/${repo}:${archiveTag('production', new Date(Date.UTC(2021, 0, 1)), claimed)}`;
    const refused = await runCli(['copy', src, `${reg.host}/${repo}:prov-moving`, '--expect-current', prior.digest], env());
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`says commit "${commit}"`);
    expect(skopeoRaw(reg, `${repo}:prov-moving`).digest).toBe(prior.digest);
    const forced = await runCli(['copy', src, `${reg.host}/${repo}:prov-moving`, '--expect-current', prior.digest, '--allow-revision-mismatch', '--json'], env());
    expect(forced.code).toBe(0);
    expect(forced.json().provenance).toMatchObject({ matches: false, version: { commit } });
    expect(skopeoRaw(reg, `${repo}:prov-moving`).digest).toBe(liar.digest);

    const honest = await image(reg, repo, [archiveTag('production', new Date(Date.UTC(2021, 0, 2)), 'f'.repeat(40))], 4, 'f'.repeat(40));
    const ok = await runCli(['copy', `${reg.host}/${repo}@${honest.digest}`, `${reg.host}/${repo}:prov-moving`, '--archive-tag', archiveTag('production', new Date(), honest.commit), '--json'], env());
    expect(ok.code).toBe(0);
    expect(ok.json().provenance).toMatchObject({ matches: true, layersRead: 1, version: { commit: honest.commit } });
  });

  it('dry run reads and checks everything and writes nothing', async () => {
    const a = await image(reg, repo, ['dry-src'], 1);
    const prior = await image(reg, repo, ['dry-moving'], 1);
    reg.clearAccessLog();
    const result = await runCli(['copy', `${reg.host}/${repo}:dry-src`, `${reg.host}/${repo}:dry-moving`, '--expect-current', prior.digest, '--archive-tag', archiveTag('production', new Date(), a.commit), '--dry-run', '--json'], env());
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ tag: 'would-write', archiveTag: { outcome: 'would-write' }, dryRun: true });
    expect((await reg.accessLog()).filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
  });
});

describe('copy across repositories and registries', () => {
  it('mounts blobs into another repository of the same registry', async () => {
    const a = await image(reg, repo, ['mount-src'], 5);
    const result = await runCli(['copy', `${reg.host}/${repo}:mount-src`, `${reg.host}/mozilla/releng-mirror:production`, '--json'], env());
    expect(result.code).toBe(0);
    expect(result.json().blobs).toEqual({ present: 0, mounted: 6, streamed: 0 });
    expect(skopeoRaw(reg, 'mozilla/releng-mirror:production').digest).toBe(a.digest);
  });

  it('falls back to streaming when the registry opens an upload instead of mounting', async () => {
    const a = await image(reg, repo, ['refuse-src'], 3);
    const proxy = await startFaultProxy(reg.url);
    try {
      // A registry that will not mount answers 202 with an upload session, as for a plain POST.
      proxy.add({ method: 'POST', path: /blobs\/uploads\/\?mount=/, fault: { kind: 'rewrite', path: (p) => p.replace(/\?.*$/, '') }, times: Infinity });
      const result = await runCli(['copy', `${proxy.host}/${repo}:refuse-src`, `${proxy.host}/mozilla/releng-refused:production`, '--json'], env());
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.json().blobs).toEqual({ present: 0, mounted: 0, streamed: 4 });
      expect(proxy.requests().filter((r) => r.method === 'POST')).toHaveLength(4);
    } finally {
      await proxy.stop();
    }
    expect(skopeoRaw(reg, 'mozilla/releng-refused:production').digest).toBe(a.digest);
  });

  it('streams blobs to another registry, skipping those already there', async () => {
    const a = await image(reg, repo, ['xreg-src'], 4);
    const first = await runCli(['copy', `${reg.host}/${repo}:xreg-src`, `${other.host}/mozilla/releng-signingscript:production`, '--json'], env());
    expect(first.code).toBe(0);
    expect(first.json().blobs).toEqual({ present: 0, mounted: 0, streamed: 5 });
    expect(skopeoRaw(other, 'mozilla/releng-signingscript:production').digest).toBe(a.digest);
    const second = await runCli(['copy', `${reg.host}/${repo}:xreg-src`, `${other.host}/mozilla/releng-signingscript:again`, '--json'], env());
    expect(second.json().blobs).toEqual({ present: 5, mounted: 0, streamed: 0 });
  });

  it('copies a multi-arch index whole, digest unchanged, within, across repositories and across registries', async () => {
    const index = await buildIndex(reg, { repository: repo, tags: ['multi-src'], platforms: ['linux/amd64', 'linux/arm64'], commit: randomCommit() });
    const same = await runCli(['copy', `${reg.host}/${repo}:multi-src`, `${reg.host}/${repo}:multi-moving`, '--json'], env());
    expect(same.json()).toMatchObject({ digest: index.digest, manifestsCopied: 0 });
    const cross = await runCli(['copy', `${reg.host}/${repo}:multi-src`, `${reg.host}/mozilla/releng-multi:production`, '--json'], env());
    expect(cross.json()).toMatchObject({ digest: index.digest, manifestsCopied: 2 });
    const far = await runCli(['copy', `${reg.host}/${repo}:multi-src`, `${other.host}/mozilla/releng-multi:production`, '--json'], env());
    expect(far.code).toBe(0);
    expect(far.json()).toMatchObject({ digest: index.digest, manifestsCopied: 2 });
    for (const [r, ref] of [[reg, `${repo}:multi-moving`], [reg, 'mozilla/releng-multi:production'], [other, 'mozilla/releng-multi:production']] as const) {
      expect(skopeoRaw(r, ref).digest).toBe(index.digest);
    }
    for (const child of index.children) expect(skopeoRaw(other, `mozilla/releng-multi@${child.digest}`).digest).toBe(child.digest);
  });

  it('writes to a destination registry that needs credentials from the docker configuration', async () => {
    const a = await image(reg, repo, ['cred-src'], 2);
    const denied = await runCli(['copy', `${reg.host}/${repo}:cred-src`, `${locked.host}/mozilla/releng-signingscript:production`], env(reg));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/access denied|401/);
    const result = await runCli(['copy', `${reg.host}/${repo}:cred-src`, `${locked.host}/mozilla/releng-signingscript:production`, '--json'], env(locked));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(skopeoRaw(locked, 'mozilla/releng-signingscript:production').digest).toBe(a.digest);
    expect(result.stdout).not.toContain(locked.password!);
  });

  it.each([
    [['copy', 'a'], 2, /takes <src> and <dst>/],
    [['copy', 'UPPER/x:t', 'x/y:t'], 2, /<src>: .*not a valid repository/],
    [['copy', '127.0.0.1:1/x/y:t', '127.0.0.1:1/x/y@sha256:' + 'a'.repeat(64)], 2, /<dst>: .*must name a tag/],
    [['copy', '127.0.0.1:1/x/y:t', '127.0.0.1:1/x/y:u', '--expect-current', 'abc'], 2, /--expect-current/],
    [['copy', '127.0.0.1:1/x/y:t', '127.0.0.1:1/x/y:u', '--archive-tag', 'latest'], 2, /--archive-tag: "latest" is not an archive tag/],
  ])('refuses bad input %j', async (args, code, message) => {
    const result = await runCli(args, env());
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(code);
  });

  it('exits 4 when the source does not exist', async () => {
    const result = await runCli(['copy', `${reg.host}/${repo}:no-such-tag`, `${reg.host}/${repo}:x`], env());
    expect(result.code).toBe(4);
  });

  void tagExisting;
});
