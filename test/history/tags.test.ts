import { describe, expect, it } from 'vitest';
import { classifyTag, compareNewestFirst, parseTimestamp, type ArchiveTag } from '../../src/history/tags.js';

const grammar = { prefixes: ['production', 'dev'], movingTags: ['production', 'dev'], notAfterMs: Date.UTC(2026, 0, 1) };
const sha = '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';

describe('archive tag grammar', () => {
  it('parses the current era', () => {
    expect(classifyTag(`production-20210929025643-${sha}`, grammar)).toMatchObject({
      kind: 'archive', env: 'production', era: 'current', date: '2021-09-29T02:56:43Z', revision: sha,
    });
  });

  it('parses the gap era without a revision', () => {
    expect(classifyTag('production-20200701120000-', grammar)).toMatchObject({ kind: 'archive', era: 'gap', revision: null, date: '2020-07-01T12:00:00Z' });
  });

  it('parses the oldest era with a script version', () => {
    expect(classifyTag(`dev-4.1.2-20200115093000-${sha}`, grammar)).toMatchObject({ kind: 'archive', env: 'dev', era: 'oldest', version: '4.1.2', date: '2020-01-15T09:30:00Z', revision: sha });
  });

  it.each([
    ['latest', /environment prefix/],
    ['production', /moving tag/],
    ['dev', /moving tag/],
    ['pr-123', /environment prefix/],
    ['7995c5b', /environment prefix/],
    [`production-20211329025643-${sha}`, /impossible date 20211329025643/],
    [`production-20210230000000-${sha}`, /impossible date/],
    [`production-20210929250000-${sha}`, /impossible date/],
    ['production-20210929025643-7995c5b', /not 40 hex/],
    [`production-20210929025643-${sha.toUpperCase()}`, /not lowercase hex/],
    [`production-${sha}`, /no 14-digit/],
    [`production-20300101000000-${sha}`, /in the future/],
    [`staging-20210929025643-${sha}`, /environment prefix/],
    [`production-20210929025643-${sha}-extra`, /does not match/],
  ])('ignores %s with a reason', (tag, reason) => {
    const result = classifyTag(tag, grammar);
    expect(result.kind).toBe('ignored');
    expect(result.kind === 'ignored' && result.reason).toMatch(reason);
  });

  it('accepts leap days and refuses them in other years', () => {
    expect(parseTimestamp('20200229120000')?.iso).toBe('2020-02-29T12:00:00Z');
    expect(parseTimestamp('20210229120000')).toBeUndefined();
  });

  it('orders newest first and keeps equal timestamps, tied by tag name', () => {
    const tags = [`production-20210101000000-${'a'.repeat(40)}`, `production-20210101000000-${'b'.repeat(40)}`, `production-20220101000000-${'c'.repeat(40)}`]
      .map((t) => classifyTag(t, grammar) as ArchiveTag)
      .sort(compareNewestFirst);
    expect(tags.map((t) => t.revision?.[0])).toEqual(['c', 'b', 'a']);
  });

  it('prefers the longest environment prefix', () => {
    const g = { prefixes: ['dev', 'dev2'], movingTags: [] };
    expect(classifyTag(`dev2-20210101000000-${sha}`, g)).toMatchObject({ env: 'dev2' });
  });
});
