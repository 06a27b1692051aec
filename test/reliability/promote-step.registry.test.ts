// The promote step (`copy`) never half-moves and cannot forge the pushlog by mistake (issue 12,
// items 1–5): against the real registry, every refusal changes nothing, racing copies tell the
// loser, and an artifacts folder that cannot be written to stops the step before anything moves.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { copyTestConfig } from '../support/copy-config.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { archiveTag, buildImage, headManifest, listTags, randomCommit, tagExisting, type BuiltImage } from '../support/fixtures.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

let reg: RunningRegistry;
const conf = copyTestConfig();
const now = new Date('2026-11-26T09:00:00Z');
const env = (extra: Record<string, string> = {}) => ({ DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '5', TC_PROMOTE_NOW: now.toISOString(), ...extra });
const copy = (args: string[], extra: Record<string, string> = {}) => runCli(['copy', ...args, ...conf.args], env(extra));
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
});
afterAll(async () => reg?.stop());

interface World {
  repository: string;
  target: BuiltImage & { commit: string };
  prior: BuiltImage & { commit: string };
  /** `<registry>/<repository>` */
  at: string;
}

async function world(): Promise<World> {
  const repository = conf.nextRepository();
  const commit = randomCommit();
  const target = { commit, ...(await buildImage(reg, { repository, commit, tags: ['target'], layers: 2 })) };
  const priorCommit = randomCommit();
  const prior = { commit: priorCommit, ...(await buildImage(reg, { repository, commit: priorCommit, tags: ['production', archiveTag('production', at(-86_400_000 * 3), priorCommit)] })) };
  return { repository, target, prior, at: `${reg.host}/${repository}` };
}

/** Nothing moved: the tags are as before and no write reached the registry. */
async function expectNothingChanged(w: World, tagsBefore: string[], result: CliResult): Promise<void> {
  expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
  expect((await listTags(reg, w.repository)).sort()).toEqual(tagsBefore);
  const writes = (await reg.accessLog()).filter((e) => e.method === 'PUT' || e.method === 'POST' || e.method === 'PATCH' || e.method === 'DELETE');
  expect(writes, result.stderr).toEqual([]);
  expect(result.stdout).toBe('');
}

describe('item 1: a bad archive tag is found before anything moves', () => {
  it('refuses an archive tag that already records another digest: exit 3, production unchanged', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    // Someone wrote this archive tag already, for another image.
    await tagExisting(reg, w.repository, w.prior.digest, tag);
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`archive tag ${w.at}:${tag} already records ${w.prior.digest}, not ${w.target.digest}; archive tags are never rewritten; nothing was written`);
    await expectNothingChanged(w, before, result);
  });

  it.each([
    ['longer than 128 characters', (rev: string) => `production-4.1.2.3${'a'.repeat(80)}-20261126090000-${rev}`, /--archive-tag: ".*" is not a valid tag \(.*at most 128 characters; it has \d+\)/],
    ['not an archive tag', () => 'production-latest', /--archive-tag: "production-latest" is not an archive tag/],
    ['an old form without a revision', () => 'production-20261126090000-', /is an archive tag of an old form/],
    ['the oldest form', (rev: string) => `production-4.1.2-20261126090000-${rev}`, /is an archive tag of an old form/],
    ['uppercase hex', (rev: string) => `production-20261126090000-${rev.toUpperCase()}`, /is not an archive tag \(revision .* is not lowercase hex\)/],
  ])('refuses an archive tag %s with exit 2 before any request', async (_name, make, message) => {
    const w = await world();
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', make(w.target.commit)]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    // Not a single request: the value alone decides.
    expect((await reg.accessLog()).filter((e) => e.path !== '/v2/')).toEqual([]);
    await expectNothingChanged(w, before, result);
  });
});

describe('item 2: archive tags are never rewritten as the destination', () => {
  it("refuses January's archive tag as <dst> (exit 2): it is not dated now", async () => {
    const w = await world();
    const january = archiveTag('production', new Date(Date.UTC(2021, 0, 1)), w.prior.commit);
    await tagExisting(reg, w.repository, w.prior.digest, january);
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}:target`, `${w.at}:${january}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`<dst>: "${january}" is dated 2021-01-01T00:00:00Z, more than a day before now`);
    await expectNothingChanged(w, before, result);
    expect((await headManifest(reg, w.repository, january))!.digest).toBe(w.prior.digest);
  });

  it('refuses an archive tag as <dst> that exists with another digest (exit 3), or whose revision the image does not have (exit 3)', async () => {
    const w = await world();
    const taken = archiveTag('production', at(-60_000), w.target.commit);
    await tagExisting(reg, w.repository, w.prior.digest, taken);
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const rewrite = await copy([`${w.at}:target`, `${w.at}:${taken}`]);
    expect(rewrite.code).toBe(3);
    expect(rewrite.stderr).toContain(`is an archive tag and already records ${w.prior.digest}, not ${w.target.digest}; archive tags are never rewritten; nothing was written`);
    await expectNothingChanged(w, before, rewrite);

    // Its revision is not the image's (/app/version.json names another commit).
    const wrongRevision = archiveTag('production', at(-30_000), w.prior.commit);
    reg.clearAccessLog();
    const lie = await copy([`${w.at}:target`, `${w.at}:${wrongRevision}`]);
    expect(lie.code).toBe(3);
    expect(lie.stderr).toContain(`/app/version.json says commit "${w.target.commit}", but the copy claims revision ${w.prior.commit}`);
    await expectNothingChanged(w, before, lie);
  });

  it('writes a new archive tag as <dst> when it does not exist, its revision is the image’s and production holds it (a missing pushlog entry repaired); a rerun converges', async () => {
    const w = await world();
    // The moving tag moved, its archive tag push failed: the deploy happened, the pushlog lacks it.
    await tagExisting(reg, w.repository, w.target.digest, 'production');
    const fresh = archiveTag('production', at(-5_000), w.target.commit);
    const result = await copy([`${w.at}:target`, `${w.at}:${fresh}`, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ tag: 'written', provenance: { matches: true } });
    expect((await headManifest(reg, w.repository, fresh))!.digest).toBe(w.target.digest);
    const again = await copy([`${w.at}:target`, `${w.at}:${fresh}`, '--json']);
    expect(again.code).toBe(0);
    expect(again.json().tag).toBe('unchanged');
    // And never combined with --archive-tag, nor a compare-and-swap on another digest.
    expect((await copy([`${w.at}:target`, `${w.at}:${fresh}`, '--archive-tag', fresh])).stderr).toMatch(/--archive-tag: <dst> .* is an archive tag itself/);
    expect((await copy([`${w.at}:target`, `${w.at}:${fresh}`, '--expect-current', w.prior.digest])).stderr).toMatch(/--expect-current: <dst> .* is an archive tag, which is only ever written new/);
  });
});

describe('item 3: --archive-tag is checked against the destination and the clock', () => {
  it.each([
    ['a dev archive tag onto production', (rev: string) => archiveTag('dev', now, rev), /records a deploy of "dev", but the destination belongs to "production": its archive tags start with production-/],
    ['a date in the far future', (rev: string) => `production-99991231235959-${rev}`, /is dated 9999-12-31T23:59:59Z, in the future/],
    ['a date ten minutes ahead', (rev: string) => archiveTag('production', at(10 * 60_000), rev), /in the future/],
    ['a date in 2000', (rev: string) => `production-20000101000000-${rev}`, /is dated 2000-01-01T00:00:00Z, more than a day before now/],
    ['a date 25 hours ago', (rev: string) => archiveTag('production', at(-25 * 3_600_000), rev), /more than a day before now/],
  ])('refuses %s: exit 2, nothing written', async (_name, make, message) => {
    const w = await world();
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', make(w.target.commit)]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    await expectNothingChanged(w, before, result);
  });

  it('refuses an archive tag whose revision is not the image’s (exit 3), and one onto a tag no environment deploys (exit 2)', async () => {
    const w = await world();
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const wrong = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', archiveTag('production', now, w.prior.commit)]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain(`says commit "${w.target.commit}", but the copy claims revision ${w.prior.commit}`);
    await expectNothingChanged(w, before, wrong);
    const nowhere = await copy([`${w.at}@${w.target.digest}`, `${w.at}:staging`, '--archive-tag', archiveTag('production', now, w.target.commit)]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toMatch(/--archive-tag: <dst> ".*:staging" is not the moving tag of a configured environment \(production: mozilla\/releng-\{script\}:production, dev: mozilla\/releng-\{script\}:dev\)/);
    await expectNothingChanged(w, before, nowhere);
  });

  it('accepts an archive tag dated up to a day back (a task running late) and a little ahead (clock skew)', async () => {
    for (const offset of [-23 * 3_600_000, 4 * 60_000]) {
      const w = await world();
      const tag = archiveTag('production', at(offset), w.target.commit);
      const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ tag: 'written', archiveTag: { tag, outcome: 'written' } });
    }
  });
});

describe('item 4: racing manual copies', () => {
  /** Two copies from the same state onto production at once; returns both results. */
  async function race(w: World, other: BuiltImage & { commit: string }, host: string, staggerMs: number, stamp: Date): Promise<[CliResult, CliResult, string, string]> {
    const tagA = archiveTag('production', stamp, w.target.commit);
    const tagB = archiveTag('production', stamp, other.commit);
    const a = copy([`${host}/${w.repository}@${w.target.digest}`, `${host}/${w.repository}:production`, '--expect-current', w.prior.digest, '--archive-tag', tagA]);
    await new Promise((r) => setTimeout(r, staggerMs));
    const b = copy([`${host}/${w.repository}@${other.digest}`, `${host}/${w.repository}:production`, '--expect-current', w.prior.digest, '--archive-tag', tagB]);
    const [ra, rb] = await Promise.all([a, b]);
    return [ra, rb, tagA, tagB];
  }

  it('never lets both report success: the loser exits 3 and writes no archive tag (30 trials)', async () => {
    const w = await world();
    const otherCommit = randomCommit();
    const other = { commit: otherCommit, ...(await buildImage(reg, { repository: w.repository, commit: otherCommit, tags: ['other'], layers: 2 })) };
    // Through a proxy 20 ms away both compare-and-swap reads pass before either write lands:
    // the race is decided after the settle. Directly, a stagger lets the later one see the first.
    const proxy = await startFaultProxy(reg.url, { delayMs: 20 });
    const outcomes = { raced: 0, moved: 0 };
    try {
      for (let trial = 0; trial < 30; trial++) {
        await tagExisting(reg, w.repository, w.prior.digest, 'production');
        const host = trial < 20 ? proxy.host : reg.host;
        const [a, b, tagA, tagB] = await race(w, other, host, trial < 20 ? trial % 3 : (trial * 7) % 25, at(-trial * 1000));
        const results = [
          { r: a, digest: w.target.digest, tag: tagA },
          { r: b, digest: other.digest, tag: tagB },
        ];
        const winners = results.filter((x) => x.r.code === 0);
        expect(winners, `trial ${trial}: ${a.stderr} | ${b.stderr}`).toHaveLength(1);
        const [winner] = winners;
        const loser = results.find((x) => x !== winner)!;
        expect(loser.r.code, loser.r.stderr).toBe(3);
        if (/raced: /.test(loser.r.stderr)) {
          outcomes.raced++;
          expect(loser.r.stderr).toContain(`now points at ${winner!.digest}`);
        } else {
          outcomes.moved++;
          expect(loser.r.stderr).toContain('moved since the plan');
        }
        // The tag holds the winner, the winner's archive tag records it, the loser's does not exist.
        expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(winner!.digest);
        expect((await headManifest(reg, w.repository, winner!.tag))!.digest).toBe(winner!.digest);
        expect(await headManifest(reg, w.repository, loser.tag)).toBeNull();
      }
    } finally {
      await proxy.stop();
    }
    // Both ways of losing happened: the raced path is exercised, not only the compare-and-swap.
    expect(outcomes.raced).toBeGreaterThan(5);
    expect(outcomes.raced + outcomes.moved).toBe(30);
  }, 120_000);
});

describe('a guarded write that fails and reads back another copy\'s image', () => {
  it('is a conflict (exit 3, as a lost compare-and-swap), not an operational failure: rollback reports a conflict then', async () => {
    // The PUT is answered 503, and by the read-back the tag holds another image (a racer's PUT
    // landed in between; under load the racing test below saw it): that copy exited 1 "the write
    // did not land", and rollback reported a failed promotion instead of a conflict.
    const w = await world();
    const otherCommit = randomCommit();
    await buildImage(reg, { repository: w.repository, commit: otherCommit, tags: ['other'], layers: 1 });
    await tagExisting(reg, w.repository, w.prior.digest, 'production');
    const proxy = await startFaultProxy(reg.url);
    let failed = false;
    try {
      proxy.add({ method: 'PUT', path: /\/manifests\/production$/, fault: { kind: 'status', status: 503 }, when: () => (failed = true) });
      // After the 503, reads of the moving tag see the other image (as if a racer had moved it).
      proxy.add({ path: /\/manifests\/production$/, fault: { kind: 'rewrite', path: (p) => p.replace(/production$/, 'other') }, times: Infinity, when: () => failed });
      const stamp = at(-60_000);
      const r = await runCliProcess(['copy', `${proxy.host}/${w.repository}@${w.target.digest}`, `${proxy.host}/${w.repository}:production`, '--expect-current', w.prior.digest, '--archive-tag', archiveTag('production', stamp, w.target.commit), ...conf.args], { ...env(), TC_PROMOTE_RETRY_BASE_MS: '1' });
      expect(failed).toBe(true);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('another copy moved it meanwhile; nothing was written; the archive tag');
      expect(await headManifest(reg, w.repository, archiveTag('production', stamp, w.target.commit))).toBeNull();
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});

describe('racing copies whose write fails once and is sent again', () => {
  it('never lets both report success when one racer’s PUT is answered 503 and retried (real processes, 12 trials)', async () => {
    // Both read the expected digest; the first PUT to arrive is answered 503. Its copy used to
    // send the same PUT again after the retry layer's wait, without reading the tag again: the
    // write landed after the other copy's settle, and both exited 0, the tag holding the
    // retried one and the other's archive tag recording a deploy that was live for a moment.
    const w = await world();
    const otherCommit = randomCommit();
    const other = { commit: otherCommit, ...(await buildImage(reg, { repository: w.repository, commit: otherCommit, tags: ['other'], layers: 2 })) };
    const proxy = await startFaultProxy(reg.url, { delayMs: 20 });
    const outcomes: string[] = [];
    try {
      for (let trial = 0; trial < 12; trial++) {
        await tagExisting(reg, w.repository, w.prior.digest, 'production');
        proxy.clear();
        proxy.add({ method: 'PUT', path: /\/manifests\/production$/, fault: { kind: 'status', status: 503 }, times: 1 });
        const stamp = at(-(trial + 1) * 60_000);
        const run = (digest: string, commit: string) =>
          runCliProcess(
            ['copy', `${proxy.host}/${w.repository}@${digest}`, `${proxy.host}/${w.repository}:production`, '--expect-current', w.prior.digest, '--archive-tag', archiveTag('production', stamp, commit), ...conf.args],
            // The retry layer's default wait (250 ms base), as in production.
            { ...env(), TC_PROMOTE_RETRY_BASE_MS: '250' },
          );
        const [a, b] = await Promise.all([run(w.target.digest, w.target.commit), run(other.digest, other.commit)]);
        outcomes.push(`${a.code}/${b.code}`);
        const live = (await headManifest(reg, w.repository, 'production'))!.digest;
        const results = [
          { r: a, digest: w.target.digest, tag: archiveTag('production', stamp, w.target.commit) },
          { r: b, digest: other.digest, tag: archiveTag('production', stamp, other.commit) },
        ];
        const winners = results.filter((x) => x.r.code === 0);
        expect(winners.length, `trial ${trial}: ${a.stderr} | ${b.stderr}`).toBeLessThanOrEqual(1);
        for (const x of results) {
          // An archive tag exists only for the digest that is live.
          const archived = await headManifest(reg, w.repository, x.tag);
          if (archived) expect(archived.digest, `trial ${trial}`).toBe(live);
          if (x.r.code === 0) expect(x.digest, `trial ${trial}: a success whose image is not live`).toBe(live);
          else expect(x.r.code, x.r.stderr).toBe(3);
        }
      }
    } finally {
      await proxy.stop();
    }
    expect(outcomes.filter((o) => o === '0/3' || o === '3/0').length, outcomes.join(' ')).toBeGreaterThan(0);
  }, 180_000);
});

describe('a guarded write that fails transiently', () => {
  it('is sent again only after a fresh compare-and-swap read, and the step still succeeds', async () => {
    const w = await world();
    const proxy = await startFaultProxy(reg.url);
    proxy.add({ method: 'PUT', path: /\/manifests\/production$/, fault: { kind: 'status', status: 503 }, times: 2 });
    try {
      const tag = archiveTag('production', now, w.target.commit);
      // The retry layer's default wait: longer than the re-read threshold, so each new attempt reads first.
      const result = await copy([`${proxy.host}/${w.repository}@${w.target.digest}`, `${proxy.host}/${w.repository}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, '--json'], { TC_PROMOTE_RETRY_BASE_MS: '250' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.json()).toMatchObject({ tag: 'written', archiveTag: { tag, outcome: 'written' } });
      // Every PUT of the moving tag after the first follows two HEADs of it: the read-back of the failed write, then the fresh compare-and-swap read.
      const onTag = proxy.requests().filter((e) => /\/manifests\/production$/.test(e.path)).map((e) => e.method);
      expect(onTag.filter((m) => m === 'PUT')).toHaveLength(3);
      onTag.forEach((m, i) => {
        if (m === 'PUT' && i > 0 && onTag.slice(0, i).includes('PUT')) expect(onTag.slice(i - 2, i), onTag.join(' ')).toEqual(['HEAD', 'HEAD']);
      });
    } finally {
      await proxy.stop();
    }
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.target.digest);
  });
});

describe('item 5: the artifacts folder is checked before anything moves', () => {
  const inTask = (dir: string) => ({ TC_PROMOTE_ARTIFACTS: dir, TC_PROMOTE_PROMOTION: JSON.stringify({ script: 'x', env: 'production', reason: 'test' }) });
  const mounts: string[] = [];
  /** A tmpfs of `pages` pages of 4 KiB, `free` of them left free, optionally read-only. */
  function smallDisk(pages: number, free: number, readOnly = false): string {
    const point = makeTempDir('tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${pages * 4}k`, 'tmpfs', point]);
    mounts.push(point);
    mkdirSync(path.join(point, 'artifacts'));
    if (pages - free > 0) writeFileSync(path.join(point, 'filler'), Buffer.alloc((pages - free) * 4096));
    if (readOnly) execFileSync('mount', ['-o', 'remount,ro', point]);
    return path.join(point, 'artifacts');
  }
  afterAll(() => {
    for (const point of mounts) execFileSync('umount', ['-l', point]);
  });

  it.each([
    ['a full disk', () => smallDisk(2, 0), 'ENOSPC'],
    ['a read-only folder', () => smallDisk(2, 2, true), 'EROFS'],
    ['a path through a file', () => path.join(makeTempDir('file-'), 'x'), 'ENOTDIR'],
  ])('on %s exits 1 before any write, and leaves no empty promotion.json', async (name, make, code) => {
    const w = await world();
    let dir = make();
    if (name === 'a path through a file') {
      writeFileSync(dir, 'not a folder');
      dir = path.join(dir, 'artifacts');
    }
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const tag = archiveTag('production', now, w.target.commit);
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag], inTask(dir));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`TC_PROMOTE_ARTIFACTS: cannot write promotion.json in ${dir}: ${code}`);
    // Not a single request: the registry was never asked.
    expect((await reg.accessLog()).filter((e) => e.path !== '/v2/')).toEqual([]);
    await expectNothingChanged(w, before, result);
    if (existsSync(path.join(dir, 'promotion.json'))) expect(readFileSync(path.join(dir, 'promotion.json'), 'utf8')).not.toBe('');
  });

  it('when the disk fills after the move: says the promotion happened, exits 0, and the first record stays whole', async () => {
    const w = await world();
    // Room for the first version only: the last one has nowhere to go.
    const dir = smallDisk(2, 1);
    const tag = archiveTag('production', now, w.target.commit);
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag], inTask(dir));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`warning: ${w.at}:production now points at ${w.target.digest}, but TC_PROMOTE_ARTIFACTS: cannot write promotion.json in ${dir}: ENOSPC`);
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.target.digest);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
    const record = JSON.parse(readFileSync(path.join(dir, 'promotion.json'), 'utf8'));
    expect(record).toMatchObject({ script: 'x', outcome: 'started', destination: `${w.at}:production`, archiveTag: tag });
  });

  it('records how the step ended when it is refused after the first version', async () => {
    const w = await world();
    const dir = path.join(makeTempDir('artifacts-'), 'artifacts');
    const result = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.target.digest, '--archive-tag', archiveTag('production', now, w.target.commit)], inTask(dir));
    expect(result.code).toBe(3);
    expect(JSON.parse(readFileSync(path.join(dir, 'promotion.json'), 'utf8'))).toMatchObject({ outcome: 'failed', error: expect.stringContaining('moved since the plan') });
  });
});
