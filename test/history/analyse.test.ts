import { describe, expect, it } from 'vitest';
import { analyseRepository, imageLive, type MovingState } from '../../src/history/analyse.js';
import { classifyTag, compareNewestFirst, type ArchiveTag } from '../../src/history/tags.js';

const grammar = { prefixes: ['production', 'dev'], movingTags: ['production', 'dev'] };
const rev = (c: string): string => c.repeat(40);
const dg = (c: string): string => `sha256:${c.repeat(64)}`;
const tag = (stamp: string, r: string, env = 'production'): ArchiveTag => classifyTag(`${env}-${stamp}-${rev(r)}`, grammar) as ArchiveTag;
const moving = (digest: string | null, movedAtMs?: number): Map<string, MovingState> => new Map([['production', { digest, ...(movedAtMs !== undefined && { movedAtMs }) }]]);

describe('deploy analysis', () => {
  // a (Jan 1) → b (Jan 2) → c (Jan 3, bad) → b again (Jan 3 noon: rollback of c)
  const tags = [tag('20210101000000', 'a'), tag('20210102000000', 'b'), tag('20210103000000', 'c'), tag('20210103120000', 'b')].sort(compareNewestFirst);
  const now = Date.UTC(2021, 0, 4);
  const digests = new Map([
    [tags[0]!.tag, dg('b')],
    [tags[1]!.tag, dg('c')],
    [tags[2]!.tag, dg('b')],
    [tags[3]!.tag, dg('a')],
  ]);
  const analysis = analyseRepository(tags, (t) => digests.get(t), moving(dg('b')), now);
  const deploys = analysis.envs.get('production')!.deploys;

  it('computes live time until the next newer deploy, and until now for the newest when it is current', () => {
    expect(deploys.map((d) => d.liveSeconds)).toEqual([12 * 3600, 12 * 3600, 86400, 86400]);
    expect(deploys[0]!.current).toBe(true);
  });

  it('marks the deploy that a redeploy of an older revision replaced as rolled back', () => {
    expect(deploys.map((d) => d.rolledBack)).toEqual([false, true, false, false]);
  });

  it('links a redeploy to the older deploy of its revision, and calls the same digest a promotion', () => {
    expect(deploys[0]!.redeployOf).toBe(tags[2]!.tag);
    expect(deploys[0]!.promotedFrom).toBe(tags[2]!.tag);
    expect(deploys.slice(1).map((d) => d.redeployOf)).toEqual([null, null, null]);
  });

  it('tells a rebuild (old revision, new digest) from a promotion, and only when every older digest is known', () => {
    const rebuilt = new Map(digests).set(tags[0]!.tag, dg('e'));
    const r = analyseRepository(tags, (t) => rebuilt.get(t), moving(dg('e')), now).envs.get('production')!.deploys;
    expect(r[0]).toMatchObject({ promotedFrom: null, rebuildOf: tags[2]!.tag, redeployOf: tags[2]!.tag });
    const partial = new Map(rebuilt);
    partial.delete(tags[2]!.tag);
    const p = analyseRepository(tags, (t) => partial.get(t), moving(dg('e')), now).envs.get('production')!.deploys;
    expect(p[0]).toMatchObject({ promotedFrom: null, rebuildOf: null, redeployOf: tags[2]!.tag });
  });

  it('finds promotions across environments', () => {
    const all = [...tags, tag('20210101120000', 'f', 'dev'), tag('20210103180000', 'f')].sort(compareNewestFirst);
    const d = new Map(digests).set(all.find((t) => t.env === 'dev')!.tag, dg('f')).set(all[0]!.tag, dg('f'));
    const r = analyseRepository(all, (t) => d.get(t), moving(dg('f')), now);
    expect(r.envs.get('production')!.deploys[0]).toMatchObject({ current: true, promotedFrom: `dev-20210101120000-${rev('f')}`, rebuildOf: null });
  });

  it('decides current only while every newer digest is known', () => {
    const partial = new Map(digests);
    partial.delete(tags[0]!.tag);
    expect(analyseRepository(tags, (t) => partial.get(t), moving(dg('c')), now).envs.get('production')!.currentIndex).toBe(-1);
    expect(analyseRepository(tags, (t) => digests.get(t), moving(dg('c')), now).envs.get('production')!.currentIndex).toBe(1);
  });

  it('treats a moving tag moved back without an archive tag as the newest deploy', () => {
    // The moving tag points at a's image again: c's stint ended at an unknown time.
    const r = analyseRepository(tags, (t) => digests.get(t), moving(dg('a')), now).envs.get('production')!;
    expect(r.currentIndex).toBe(3);
    expect(r.movedBack).toMatchObject({ newer: 3, newestTag: tags[0]!.tag, sinceSeconds: null });
    expect(r.deploys[0]).toMatchObject({ liveSeconds: null, liveSecondsAtMost: 12 * 3600, rolledBack: true });
    // When the registry says when the tag was moved, the live times are known.
    const movedAt = Date.UTC(2021, 0, 3, 15);
    const known = analyseRepository(tags, (t) => digests.get(t), moving(dg('a'), movedAt), now);
    expect(known.envs.get('production')!.deploys[0]!.liveSeconds).toBe(3 * 3600);
    expect(imageLive(known, dg('a'))).toMatchObject({ seconds: 86400 + 9 * 3600, atLeast: false });
    expect(imageLive(analyseRepository(tags, (t) => digests.get(t), moving(dg('a')), now), dg('a'))).toMatchObject({ seconds: 86400, atLeast: true });
  });

  it('sums an image live time over every deploy of its digest', () => {
    const live = imageLive(analysis, dg('b'));
    expect(live).toMatchObject({ seconds: 86400 + 12 * 3600, atLeast: false });
    expect(live.parts.map((p) => [p.tag, p.seconds, p.current])).toEqual([
      [tags[0]!.tag, 12 * 3600, true],
      [tags[2]!.tag, 86400, false],
    ]);
  });

  it('uses digests when a revision is missing', () => {
    const gap = [classifyTag('production-20200701120000-', grammar) as ArchiveTag, classifyTag('production-20200702120000-', grammar) as ArchiveTag].sort(compareNewestFirst);
    const digest = dg('e');
    const result = analyseRepository(gap, () => digest, moving(digest), now).envs.get('production')!.deploys;
    expect(result[0]!.redeployOf).toBe(gap[1]!.tag);
  });

  it('stays linear: 200,000 deploys in well under a second', () => {
    const many: ArchiveTag[] = [];
    const d = new Map<string, string>();
    const start = Date.UTC(2015, 0, 1);
    for (let i = 0; i < 200_000; i++) {
      const revision = (i % 997).toString(16).padStart(40, '0');
      const t = classifyTag(`production-${new Date(start + i * 60_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${revision}`, grammar) as ArchiveTag;
      many.push(t);
      d.set(t.tag, `sha256:${(i % 1999).toString(16).padStart(64, '0')}`);
    }
    many.sort(compareNewestFirst);
    const started = performance.now();
    const result = analyseRepository(many, (t) => d.get(t), moving(d.get(many[0]!.tag)!), Date.UTC(2030, 0, 1));
    expect(result.envs.get('production')!.deploys).toHaveLength(200_000);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
