// history and plan against the real registry with a seeded pushlog (test/support/scenario.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { B, D, P, now, rev, seedHistory, signing, type SeededHistory } from '../support/scenario.js';

let reg: RunningRegistry;
let seeded: SeededHistory;
const env = (): Record<string, string> => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '10' });
const cli = (...args: string[]) => runCli([...args, '--registry', reg.url], env());

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedHistory(reg);
});
afterAll(async () => reg?.stop());

describe('history', () => {
  it('reads the production pushlog newest first, with current, rollbacks and redeploys', async () => {
    const result = await cli('history', 'signingscript', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const h = result.json();
    expect(h).toMatchObject({ script: 'signingscript', env: 'production', repository: `${reg.host}/${signing}`, movingTag: 'production', movingDigest: seeded.images.img6!.digest });
    expect(h.deploys.map((d: { tag: string }) => d.tag)).toEqual([P.P10, P.P9, P.P8, P.P7, P.P6, P.P5, P.P4, P.P3, P.P2, P.P1]);
    expect(h.current.tag).toBe(P.P10);
    expect(h.deploys.filter((d: { current: boolean }) => d.current).map((d: { tag: string }) => d.tag)).toEqual([P.P10]);
    expect(h.deploys.filter((d: { rolledBack: boolean }) => d.rolledBack).map((d: { tag: string }) => d.tag)).toEqual([P.P9, P.P6]);
    const byTag = Object.fromEntries(h.deploys.map((d: { tag: string }) => [d.tag, d]));
    expect(byTag[P.P10].redeployOf).toBe(P.P8);
    expect(byTag[P.P7].redeployOf).toBe(P.P5);
    expect(byTag[P.P9].redeployOf).toBeNull();
    expect(byTag[P.P10]).toMatchObject({ date: '2021-02-01T03:00:00Z', revision: rev.r6, era: 'current', liveSeconds: 27 * 86400 + 21 * 3600, digest: seeded.images.img6!.digest });
    expect(byTag[P.P9].liveSeconds).toBe(3 * 3600);
    expect(byTag[P.P2]).toMatchObject({ era: 'gap', revision: null, date: '2020-07-01T12:00:00Z', liveSeconds: 183 * 86400 + 12 * 3600 });
    expect(byTag[P.P1]).toMatchObject({ era: 'oldest', version: '4.1.2', revision: rev.r1, date: '2020-01-15T09:30:00Z' });
    // Equal timestamps: both kept, tied by tag name; the older-sorted one lived 0 s.
    expect(byTag[P.P3].liveSeconds).toBe(0);
    expect(byTag[P.P4].liveSeconds).toBe(4 * 86400);
    expect(h.warnings).toEqual([]);
    // Only the digests needed were looked up: the newest batch, not all ten.
    expect(h.deploys.filter((d: { digest?: string }) => d.digest !== undefined).length).toBeLessThan(10);
  });

  it('lists everything that is not a deploy under ignored, with reasons', async () => {
    const h = (await cli('history', 'signingscript', '--json')).json();
    const reasons = Object.fromEntries(h.ignored.map((i: { tag: string; reason: string }) => [i.tag, i.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['abc1234', 'dev', 'latest', 'pr-123', 'production', `production-20211301000000-${rev.r8}`].sort());
    expect(reasons['production']).toMatch(/moving tag/);
    expect(reasons[`production-20211301000000-${rev.r8}`]).toMatch(/impossible date/);
    expect(reasons['latest']).toMatch(/environment prefix/);
  });

  it('reads the dev environment from the same repository', async () => {
    const h = (await cli('history', 'signingscript', '--env', 'dev', '--json')).json();
    expect(h.deploys.map((d: { tag: string }) => d.tag)).toEqual([D.D4, D.D3, D.D2, D.D1]);
    expect(h.current.tag).toBe(D.D4);
  });

  it('marks an image that is gone, also when it is the default rollback target', async () => {
    const h = (await cli('history', 'beetmoverscript', '--json')).json();
    const gone = h.deploys.find((d: { tag: string }) => d.tag === B.B2);
    expect(gone).toMatchObject({ gone: true });
    expect(gone.digest).toBeUndefined();
    expect(h.rollbackTarget.tag).toBe(B.B2);
    const table = (await cli('history', 'beetmoverscript', '--wide')).stdout;
    expect(table).toMatch(new RegExp(`\\(image gone\\)\\s+\\S+\\s+${B.B2}\\s+default rollback target \\(image gone: plan rebuilds it\\)`));
  });

  it('reports a moving tag whose digest no archive tag has, without guessing', async () => {
    const result = await cli('history', 'beetmoverscript', '--env', 'dev', '--json');
    expect(result.code).toBe(0);
    const h = result.json();
    expect(h.current).toBeNull();
    expect(h.movingDigest).toBe(seeded.unarchivedDigest);
    expect(h.warnings.join('\n')).toContain(seeded.unarchivedDigest);
    expect(h.deploys.every((d: { current: boolean }) => !d.current)).toBe(true);
  });

  it('limits the deploys shown and prints a table by default', async () => {
    const result = await cli('history', 'signingscript', '--limit', '3', '--wide');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(P.P10);
    expect(result.stdout).toContain('CURRENT');
    const rows = result.stdout.split('\n\n')[1]!;
    expect(rows.split('\n')).toHaveLength(4);
    expect(rows).not.toContain(P.P7);
    // The default rollback target is named even when its row is not shown.
    expect(result.stdout).toContain(`default rollback target: ${P.P7}`);
    expect(result.stdout).toMatch(/DATE \(UTC\)\s+REVISION/);
  });

  it('fits 120 columns by default: ages in one unit, tags and digests cut, notes cut with …; --wide has them whole', async () => {
    const result = await cli('history', 'signingscript');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n\n')[1]!.split('\n');
    expect(lines[0]).toMatch(/^AGE\s+TAG\s+DIGEST\s+LIVE\s+NOTES$/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(120);
    // P10 (2021-02-01T03:00, 27 days before the pinned clock), its tag with the revision cut to 12 hex.
    expect(lines[1]).toMatch(/^27d\s+production-20210201030000-666666666666\s+[0-9a-f]{12}\s+27d\s+CURRENT, promoted from production-20210120000000$/);
    expect(lines.join('\n')).not.toContain(P.P10);
    const wide = await cli('history', 'signingscript', '--wide');
    expect(wide.stdout).toContain(P.P10);
    expect(wide.stdout).toMatch(/DATE \(UTC\)\s+REVISION\s+DIGEST\s+LIVE\s+TAG\s+NOTES/);
  });

  it('colours CURRENT and rolled back on a colour terminal only, never with NO_COLOR', async () => {
    const { main } = await import('../../src/cli/main.js');
    const onTerminal = async (extra: Record<string, string> = {}): Promise<string> => {
      let out = '';
      await main(['history', 'signingscript', '--registry', reg.url], { stdout: (t) => void (out += t), stderr: () => undefined, env: { ...env(), ...extra }, isTty: true, colour: true });
      return out;
    };
    const coloured = await onTerminal();
    expect(coloured).toContain('\u001b[1;32mCURRENT\u001b[0m');
    expect(coloured).toContain('\u001b[33mrolled back\u001b[0m');
    expect(await onTerminal({ NO_COLOR: '1' })).not.toContain('\u001b');
    expect((await cli('history', 'signingscript')).stdout).not.toContain('\u001b');
  });

  it.each([
    [['history'], /script: missing/],
    [['history', 'nosuchscript'], /unknown script "nosuchscript"/],
    [['history', 'signingscript', '--env', 'staging'], /--env: unknown environment "staging"/],
    [['history', 'signingscript', '--limit', '0'], /--limit: "0"/],
    [['history', 'signingscript', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('exits 4 for a repository that does not exist', async () => {
    const result = await runCli(['history', 'treescript', '--registry', reg.url], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/releng-treescript.*not found/);
  });
});

describe('plan', () => {
  const plan = async (...args: string[]) => {
    const result = await cli('plan', 'signingscript', ...args, '--json');
    if (result.code !== 0) throw new Error(`plan ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.json();
  };

  it('chooses the previous-known-good: past a retag rollback, a rollback target and a same-revision deploy', async () => {
    const p = await plan();
    expect(p).toMatchObject({ script: 'signingscript', env: 'production', route: 'retag' });
    expect(p.current.tag).toBe(P.P10);
    expect(p.target).toMatchObject({ tag: P.P7, revision: rev.r4, digest: seeded.images.img4b!.digest, available: true });
    expect(p.warnings).toEqual([]);
    // Provenance: the image's /app/version.json names the revision its archive tag claims.
    expect(p.provenance).toMatchObject({ matches: true, expectedRevision: rev.r4, version: { commit: rev.r4 } });
  });

  it('passes over --skip by tag, by revision prefix and by digest', async () => {
    expect((await plan('--skip', P.P7)).target.tag).toBe(P.P5);
    expect((await plan('--skip', rev.r4.slice(0, 7))).target.tag).toBe(P.P4);
    expect((await plan('--skip', `${seeded.images.img4b!.digest},${P.P5}`)).target.tag).toBe(P.P4);
  });

  it('requires --min-live, reaching back to the gap era', async () => {
    const p = await plan('--min-live', '10d');
    // A gap-era tag claims no revision: nothing to compare, but the image says what it is, and
    // the promotion's archive tag records that revision (the promote step checks it again).
    expect(p.target).toMatchObject({ tag: P.P2, era: 'gap', revision: rev.rG, revisionFrom: 'version.json', digest: seeded.images.imgG!.digest });
    expect(p.provenance).toMatchObject({ matches: null, version: { commit: rev.rG } });
    expect((await plan('--min-live', '9d')).target.tag).toBe(P.P7);
  });

  it('warns that a target which lived under 24 hours is not proven', async () => {
    const p = await plan('--to', P.P9);
    expect(p.target.tag).toBe(P.P9);
    expect(p.warnings.join('\n')).toMatch(/under 24 hours, not proven/);
    expect(p.warnings.join('\n')).toMatch(/rolled back/);
  });

  it('takes every --to form: archive tag, revision, revision prefix, digest, another environment\'s tag', async () => {
    expect((await plan('--to', P.P5)).target).toMatchObject({ tag: P.P5, digest: seeded.images.img4!.digest });
    expect((await plan('--to', rev.r2)).target.tag).toBe(P.P3);
    expect((await plan('--to', 'abcdef10')).target.tag).toBe(P.P3);
    // The newest deploy of a revision: r4 was deployed by P5 and rebuilt by P7.
    expect((await plan('--to', rev.r4.slice(0, 7))).target.tag).toBe(P.P7);
    expect((await plan('--to', seeded.images.img1!.digest)).target).toMatchObject({ tag: P.P1, era: 'oldest', revision: rev.r1 });
    // Another environment's deploy only by its exact tag, and labelled (a revision resolves in production only).
    const dev = await plan('--to', D.D4);
    expect(dev.target).toMatchObject({ tag: D.D4, env: 'dev', digest: seeded.images.imgD4!.digest });
    expect(dev.warnings.join('\n')).toContain(`target ${D.D4} is a deploy of dev, not production`);
    expect((await plan('--to', D.D2)).target).toMatchObject({ tag: D.D2, revision: rev.r6 });
  });

  it('promotes forward with --from-env', async () => {
    const p = await plan('--from-env', 'dev');
    expect(p.route).toBe('retag');
    expect(p.target).toMatchObject({ tag: D.D4, env: 'dev', digest: seeded.images.imgD4!.digest });
  });

  it('honours --route', async () => {
    expect((await plan('--route', 'rebuild')).route).toBe('rebuild');
    expect((await plan('--route', 'rerun')).route).toBe('rerun');
  });

  it('routes to rebuild when the target image is gone', async () => {
    const result = await cli('plan', 'beetmoverscript', '--json');
    expect(result.code).toBe(0);
    const p = result.json();
    expect(p.current.tag).toBe(B.B3);
    expect(p.target).toMatchObject({ tag: B.B2, revision: rev.rb2, available: false });
    expect(p.route).toBe('rebuild');
    expect(p.warnings.join('\n')).toMatch(/gone/);
    // The warning names the way to an exact image instead.
    expect(p.warnings.join('\n')).toContain(`--route retag would pass over it to ${B.B1}`);
    // Asked for a retag, the selection passes over the gone image, and says so.
    const retag = await cli('plan', 'beetmoverscript', '--route', 'retag', '--json');
    expect(retag.code).toBe(0);
    expect(retag.json().target).toMatchObject({ tag: B.B1, available: true });
    expect(retag.json().passedOver).toEqual([
      { tag: B.B3, reason: 'current' },
      { tag: B.B2, reason: 'image gone' },
    ]);
    // A gone image named with --to cannot be retagged: exit 4 with the way out.
    const named = await cli('plan', 'beetmoverscript', '--to', B.B2, '--route', 'retag');
    expect(named.code).toBe(4);
    expect(named.stderr).toMatch(/gone.*--route rebuild/);
  });

  it('refuses to guess a previous-known-good when current is unknown', async () => {
    const result = await cli('plan', 'beetmoverscript', '--env', 'dev');
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/current is unknown/);
    expect(result.stderr).toContain(seeded.unarchivedDigest);
    const named = await cli('plan', 'beetmoverscript', '--env', 'dev', '--to', B.BD1, '--json');
    expect(named.code).toBe(0);
    expect(named.json().target.tag).toBe(B.BD1);
  });

  it.each([
    [['--to', 'abcdef1'], 2, /ambiguous/],
    [['--to', 'abc12'], 2, /too short/],
    [['--to', 'not-a-thing'], 2, /--to: "not-a-thing" is not an archive tag/],
    [['--to', 'sha256:1234'], 2, /not a sha256 digest/],
    [['--to', `sha256:${'e'.repeat(64)}`], 4, /does not exist/],
    [['--to', `production-20210102000000-${rev.r8}`], 4, /does not exist/],
    [['--to', 'deadbeefcafe'], 4, /no archive tag .* records revision/],
    [['--route', 'teleport'], 2, /--route: "teleport"/],
    [['--min-live', 'forever'], 2, /--min-live: "forever"/],
    [['--from-env', 'production'], 2, /--from-env/],
    [['--from-env', 'qa'], 2, /--from-env: unknown environment "qa"/],
    [['--to', P.P5, '--from-env', 'dev'], 2, /one target/],
  ])('plan %j exits %i', async (args, code, message) => {
    const result = await cli('plan', 'signingscript', ...args);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(code);
  });

  it('prints a human summary by default', async () => {
    const result = await cli('plan', 'signingscript');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`target:    ${P.P7}`);
    expect(result.stdout).toContain('route:     retag');
  });
});

describe('through a paginating, faulty front', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(reg.url, { paginateTags: true });
  });
  afterAll(async () => proxy?.stop());

  it('follows Link pagination with a small page size and gets the same history', async () => {
    const direct = (await cli('history', 'signingscript', '--json')).json();
    proxy.clear();
    const paged = await runCli(['history', 'signingscript', '--registry', proxy.url, '--page-size', '3', '--json'], env());
    expect(paged.code).toBe(0);
    const h = paged.json();
    expect(h.deploys).toEqual(direct.deploys);
    expect(h.ignored).toEqual(direct.ignored);
    const pages = proxy.requests().filter((r) => r.path.includes('/tags/list'));
    // 20 tags in the repository, 3 a page.
    expect(pages.length).toBe(Math.ceil(20 / 3));
    expect(pages.slice(1).every((r) => /last=/.test(r.path))).toBe(true);
  });

  it('recovers from a 429 with Retry-After and a 500', async () => {
    proxy.clear();
    proxy.add({ method: 'GET', path: /tags\/list/, fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } });
    proxy.add({ method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'status', status: 500 } });
    const started = Date.now();
    const result = await runCli(['plan', 'signingscript', '--registry', proxy.url, '--json'], env());
    expect(result.code).toBe(0);
    expect(result.json().target.tag).toBe(P.P7);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const faulted = proxy.requests().filter((r) => r.faulted);
    expect(faulted.map((r) => r.status)).toEqual([429, 500]);
  });

  it('ends a persistent 503 with one clear error and exit 1', async () => {
    proxy.clear();
    proxy.add({ method: 'GET', path: /tags\/list/, fault: { kind: 'status', status: 503 }, times: Infinity });
    const result = await runCli(['history', 'signingscript', '--registry', proxy.url], env());
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/tags: HTTP 503/);
    proxy.clear();
  });
});
