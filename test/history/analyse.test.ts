import { describe, expect, it } from 'vitest';
import { analyseDeploys, judgeCandidate } from '../../src/history/analyse.js';
import { classifyTag, compareNewestFirst, type ArchiveTag } from '../../src/history/tags.js';

const grammar = { prefixes: ['production'], movingTags: ['production'] };
const rev = (c: string): string => c.repeat(40);
const tag = (stamp: string, r: string): ArchiveTag => classifyTag(`production-${stamp}-${rev(r)}`, grammar) as ArchiveTag;

describe('deploy analysis', () => {
  // a (Jan 1) → b (Jan 2) → c (Jan 3, bad) → b again (Jan 3 noon: rollback of c)
  const tags = [tag('20210101000000', 'a'), tag('20210102000000', 'b'), tag('20210103000000', 'c'), tag('20210103120000', 'b')].sort(compareNewestFirst);
  const now = Date.UTC(2021, 0, 4);
  const deploys = analyseDeploys(tags, new Map(), now);

  it('computes live time until the next newer deploy, and until now for the newest', () => {
    expect(deploys.map((d) => d.liveSeconds)).toEqual([12 * 3600, 12 * 3600, 86400, 86400]);
  });

  it('marks the deploy that a redeploy of an older revision replaced as rolled back', () => {
    expect(deploys.map((d) => d.rolledBack)).toEqual([false, true, false, false]);
  });

  it('links a redeploy to the older deploy of its revision', () => {
    expect(deploys[0]!.redeployOf).toBe(tags[2]!.tag);
    expect(deploys.slice(1).map((d) => d.redeployOf)).toEqual([null, null, null]);
  });

  it('judges candidates against current', () => {
    const current = { ...deploys[0]!, digest: 'sha256:' + '0'.repeat(64) };
    expect(judgeCandidate(deploys[1]!, current, { skip: [] })).toBe('rolled-back');
    expect(judgeCandidate(deploys[2]!, current, { skip: [] })).toBe('same-as-current');
    expect(judgeCandidate(deploys[3]!, current, { skip: [] })).toBe('needs-digest');
    expect(judgeCandidate({ ...deploys[3]!, digest: 'sha256:' + '1'.repeat(64) }, current, { skip: [] })).toBe('candidate');
    expect(judgeCandidate({ ...deploys[3]!, digest: 'sha256:' + '1'.repeat(64) }, current, { skip: ['aaaaaaa'] })).toBe('skipped');
    expect(judgeCandidate({ ...deploys[3]!, digest: 'sha256:' + '1'.repeat(64) }, current, { skip: [], minLiveSeconds: 2 * 86400 })).toBe('too-short');
    expect(judgeCandidate({ ...deploys[3]!, digest: current.digest }, { ...current, revision: rev('d') }, { skip: [] })).toBe('same-as-current');
  });

  it('uses digests when a revision is missing', () => {
    const gap = [classifyTag('production-20200701120000-', grammar) as ArchiveTag, classifyTag('production-20200702120000-', grammar) as ArchiveTag].sort(compareNewestFirst);
    const digest = 'sha256:' + 'e'.repeat(64);
    const result = analyseDeploys(gap, new Map(gap.map((t) => [t.tag, digest])), now);
    expect(result[0]!.redeployOf).toBe(gap[1]!.tag);
  });
});
