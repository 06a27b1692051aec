// tc-promote copy against real registries; `skopeo inspect --raw` is the independent check.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliProcess } from '../support/cli.js';
import { copyTestConfig } from '../support/copy-config.js';
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
  // Each test promotes into a repository of its own, onto a real moving tag of the configuration.
  const conf = copyTestConfig();
  const copy = (args: string[], e = env()) => runCli(['copy', ...args, ...conf.args], e);

  it('PUTs the exact manifest bytes in 4 requests and 3 round trips, whatever the layer count', async () => {
    for (const layers of [1, 12]) {
      const r = conf.nextRepository();
      const old = await image(reg, r, [`old-${layers}`], layers);
      const next = await image(reg, r, ['production'], layers);
      const proxy = await startFaultProxy(reg.url, { delayMs: 30 });
      try {
        const result = await copy([`${proxy.host}/${r}@${old.digest}`, `${proxy.host}/${r}:production`, '--expect-current', next.digest, '--json']);
        // With the compare-and-swap but no archive tag, history records no deploy: said.
        expect(result.stderr).toMatch(/^warning: \S+:production is the moving tag of production: it was written without an archive tag \(--archive-tag\), so history records no deploy of it;/);
        expect(result.code).toBe(0);
        expect(result.json()).toMatchObject({ digest: old.digest, previous: next.digest, tag: 'written', blobs: { present: 0, mounted: 0, streamed: 0 } });
        const requests = proxy.requests().filter((e) => e.path !== '/v2/');
        expect(requests.map((e) => e.method).sort()).toEqual(['GET', 'HEAD', 'HEAD', 'PUT']);
        expect(requests.some((e) => e.path.includes('/blobs/'))).toBe(false);
        // GET the source beside the compare-and-swap HEAD; PUT; HEAD after a short settle.
        expect(proxy.roundTrips()).toBe(3);
        expect(result.json().settleMs).toBeGreaterThanOrEqual(60);
        expect(result.json().settleMs).toBeLessThan(1_000);
      } finally {
        await proxy.stop();
      }
      const served = skopeoRaw(reg, `${r}:production`);
      expect(served.digest).toBe(old.digest);
      expect(served.bytes.equals(old.manifest)).toBe(true);
    }
  });

  it('a plain retag (no --expect-current, no --archive-tag) waits for no settle, and warns onto a moving tag', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['plain-src'], 1);
    const prior = await image(reg, r, ['dev'], 1);
    const proxy = await startFaultProxy(reg.url, { delayMs: 30 });
    try {
      const result = await copy([`${proxy.host}/${r}:plain-src`, `${proxy.host}/${r}:dev`, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ tag: 'written', settleMs: 0 });
      expect(proxy.roundTrips()).toBe(3);
      // issue 11, item 4: the hand copy onto a moving tag says what it skipped, and the command with both.
      expect(result.stderr).toContain(`${proxy.host}/${r}:dev is the moving tag of dev: it was written without compare-and-swap (--expect-current) and without an archive tag (--archive-tag), so history records no deploy of it`);
      expect(result.stderr).toMatch(new RegExp(`next time: tc-promote copy \\S+@${a.digest} \\S+:dev --expect-current ${prior.digest} --archive-tag dev-\\d{14}-<revision> \\(<revision>: the commit`));
      expect(result.json().warnings).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
    // Onto a tag no environment deploys: no warning.
    const other = await copy([`${reg.host}/${r}:plain-src`, `${reg.host}/${r}:scratch`]);
    expect(other.code).toBe(0);
    expect(other.stderr).toBe('');
  });

  it('the full promote step reads each manifest once and takes 6 round trips', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['full-src'], 3);
    const prior = await image(reg, r, ['production'], 1);
    const tag = archiveTag('production', new Date(), a.commit);
    const proxy = await startFaultProxy(reg.url, { delayMs: 30 });
    try {
      const result = await copy([`${proxy.host}/${r}@${a.digest}`, `${proxy.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', tag, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.json()).toMatchObject({ tag: 'written', archiveTag: { tag, outcome: 'written' }, provenance: { matches: true, layersRead: 1 } });
      const requests = proxy.requests().filter((e) => e.path !== '/v2/');
      const manifestGets = requests.filter((e) => e.method === 'GET' && e.path.includes('/manifests/'));
      expect(manifestGets).toHaveLength(1);
      expect(requests.filter((e) => e.method === 'PUT')).toHaveLength(2);
      // 1 GET source ‖ HEAD archive tag; 2 the version.json layer ‖ HEAD destination (the
      // compare-and-swap); 3 PUT; 4 settle, HEAD destination ‖ archive tag; 5 PUT archive tag;
      // 6 HEAD archive tag ‖ destination. (Six: see docs/security.md, "The promote step".)
      expect(proxy.roundTrips()).toBe(6);
    } finally {
      await proxy.stop();
    }
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(a.digest);
    expect(skopeoRaw(reg, `${r}:${tag}`).digest).toBe(a.digest);
  });

  it('with --version-layer (the layer plan found /app/version.json in) the full promote step takes 5 round trips', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['ahead-src'], 3);
    const prior = await image(reg, r, ['production'], 1);
    const tag = archiveTag('production', new Date(), a.commit);
    const proxy = await startFaultProxy(reg.url, { delayMs: 30 });
    try {
      const result = await copy([`${proxy.host}/${r}@${a.digest}`, `${proxy.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', tag, '--version-layer', a.layerDigests.at(-1)!, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ tag: 'written', archiveTag: { tag, outcome: 'written' }, provenance: { matches: true, layersRead: 1, layer: a.layerDigests.at(-1) } });
      const requests = proxy.requests().filter((e) => e.path !== '/v2/');
      expect(requests.filter((e) => e.method === 'GET' && e.path.includes('/manifests/'))).toHaveLength(1);
      expect(requests.filter((e) => e.method === 'GET' && e.path.includes('/blobs/'))).toHaveLength(1);
      // 1 GET source ‖ the version.json layer ‖ HEAD archive tag ‖ HEAD destination; 2 PUT;
      // 3 settle, HEAD destination ‖ archive tag; 4 PUT archive tag; 5 HEAD both.
      expect(proxy.roundTrips()).toBe(5);
    } finally {
      await proxy.stop();
    }
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(a.digest);
  });

  it('a --version-layer that is not the newest layer is dropped, and the search reads the newest first', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['stale-src'], 3);
    const prior = await image(reg, r, ['production'], 1);
    const result = await copy([`${reg.host}/${r}@${a.digest}`, `${reg.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', archiveTag('production', new Date(), a.commit), '--version-layer', a.layerDigests[0]!, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().provenance).toMatchObject({ matches: true, layersRead: 1, layer: a.layerDigests.at(-1) });
    // A hint that is no layer of the image at all changes nothing either; a malformed one is bad input.
    const bad = await copy([`${reg.host}/${r}@${a.digest}`, `${reg.host}/${r}:production`, '--version-layer', 'sha256:xyz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--version-layer: "sha256:xyz" is not a sha256 digest');
  });

  it('a dropped --version-layer whose read never answers does not keep the process alive after the step', { timeout: 60_000 }, async () => {
    // The hint names an older layer (a stale plan): it is dropped unread, but its GET went out
    // with round 1. A registry that holds that answer (here 20 s, and again on every retry)
    // must not keep the finished step's process waiting for it.
    const r = conf.nextRepository();
    const a = await image(reg, r, ['held-src'], 3);
    const prior = await image(reg, r, ['production'], 1);
    const proxy = await startFaultProxy(reg.url);
    proxy.add({ method: 'GET', path: new RegExp(`/blobs/${a.layerDigests[0]!}`), fault: { kind: 'stall', ms: 20_000 }, times: Infinity });
    try {
      const started = performance.now();
      const result = await runCliProcess(
        ['copy', `${proxy.host}/${r}@${a.digest}`, `${proxy.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', archiveTag('production', new Date(), a.commit), '--version-layer', a.layerDigests[0]!, '--json', ...conf.args],
        env(),
      );
      const elapsed = performance.now() - started;
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ tag: 'written', provenance: { matches: true, layer: a.layerDigests.at(-1) } });
      expect(elapsed).toBeLessThan(10_000);
      // The held read was sent once and stopped, not retried.
      expect(proxy.requests().filter((e) => e.path.includes(`/blobs/${a.layerDigests[0]!}`))).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(a.digest);
  });

  it('refuses when the tag moved since the plan: exit 3, nothing written', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['cas-a'], 1);
    const b = await image(reg, r, ['production'], 1);
    const before = skopeoRaw(reg, `${r}:production`).digest;
    reg.clearAccessLog();
    const result = await copy([`${reg.host}/${r}:cas-a`, `${reg.host}/${r}:production`, '--expect-current', a.digest, '--archive-tag', archiveTag('production', new Date(), a.commit)]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/moved since the plan; nothing was written/);
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(before);
    expect(b.digest).toBe(before);
    expect((await reg.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
  });

  it('accepts --expect-current none for a tag that does not exist yet, and refuses it when it does', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['none-src'], 1);
    expect((await copy([`${reg.host}/${r}:none-src`, `${reg.host}/${r}:fresh-tag`, '--expect-current', 'none'])).code).toBe(0);
    expect(skopeoRaw(reg, `${r}:fresh-tag`).digest).toBe(a.digest);
    const b = await image(reg, r, ['none-src-2'], 1);
    const again = await copy([`${reg.host}/${r}:none-src-2`, `${reg.host}/${r}:fresh-tag`, '--expect-current', 'none']);
    expect(again.code).toBe(3);
    expect(skopeoRaw(reg, `${r}:fresh-tag`).digest).not.toBe(b.digest);
  });

  it('converges: a rerun at the source digest writes nothing and exits 0', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['rerun-src'], 1);
    const prior = await image(reg, r, ['production'], 1);
    const args = [`${reg.host}/${r}:rerun-src`, `${reg.host}/${r}:production`, '--expect-current', prior.digest, '--json'];
    expect((await copy(args)).json().tag).toBe('written');
    reg.clearAccessLog();
    const rerun = await copy(args);
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', digest: a.digest });
    expect((await reg.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
  });

  it('writes the archive tag after the moving tag, says so when it fails, and a rerun repairs a missing one', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['arch-src'], 2);
    const prior = await image(reg, r, ['production'], 1);
    const tag = archiveTag('production', new Date(), a.commit);
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.add({ method: 'PUT', path: new RegExp(`manifests/${tag}$`), fault: { kind: 'status', status: 500 }, times: Infinity });
      const failed = await copy([`${proxy.host}/${r}:arch-src`, `${proxy.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', tag]);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(tag);
      expect(failed.stderr).toContain(`${proxy.host}/${r}:production now points at ${a.digest} (this run moved it), but the archive tag ${tag} was not written: run the same command again`);
      expect(skopeoRaw(reg, `${r}:production`).digest).toBe(a.digest);
      expect(await headManifest(reg, r, tag)).toBeNull();
    } finally {
      await proxy.stop();
    }
    const rerun = await copy([`${reg.host}/${r}:arch-src`, `${reg.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', tag, '--json']);
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { tag, outcome: 'written' } });
    expect(skopeoRaw(reg, `${r}:${tag}`).digest).toBe(a.digest);
  });

  it('checks provenance: /app/version.json must name the revision the tag claims', async () => {
    const r = conf.nextRepository();
    const commit = randomCommit();
    const claimed = randomCommit();
    const liarTag = archiveTag('production', new Date(Date.UTC(2021, 0, 1)), claimed);
    const liar = await buildImage(reg, { repository: r, commit, tags: [liarTag], layers: 3 });
    const prior = await image(reg, r, ['production'], 1);
    const src = `${reg.host}/${r}:${liarTag}`;
    const refused = await copy([src, `${reg.host}/${r}:production`, '--expect-current', prior.digest]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`says commit "${commit}"`);
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(prior.digest);
    const forced = await copy([src, `${reg.host}/${r}:production`, '--expect-current', prior.digest, '--allow-revision-mismatch', '--json']);
    expect(forced.code).toBe(0);
    expect(forced.json().provenance).toMatchObject({ matches: false, version: { commit } });
    expect(skopeoRaw(reg, `${r}:production`).digest).toBe(liar.digest);

    const honest = await image(reg, r, [archiveTag('production', new Date(Date.UTC(2021, 0, 2)), 'f'.repeat(40))], 4, 'f'.repeat(40));
    const ok = await copy([`${reg.host}/${r}@${honest.digest}`, `${reg.host}/${r}:production`, '--archive-tag', archiveTag('production', new Date(), honest.commit), '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json().provenance).toMatchObject({ matches: true, layersRead: 1, version: { commit: honest.commit } });
  });

  it('dry run reads and checks everything and writes nothing', async () => {
    const r = conf.nextRepository();
    const a = await image(reg, r, ['dry-src'], 1);
    const prior = await image(reg, r, ['production'], 1);
    reg.clearAccessLog();
    const result = await copy([`${reg.host}/${r}:dry-src`, `${reg.host}/${r}:production`, '--expect-current', prior.digest, '--archive-tag', archiveTag('production', new Date(), a.commit), '--dry-run', '--json']);
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
    // A hand copy onto a moving tag without the guards: warned, never refused.
    expect(result.stderr).toMatch(/^warning: \S+:production is the moving tag of production: it was written without compare-and-swap/);
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
