// The quick pick of the newest archive tags history asks digests for while it reads the list.
import { describe, expect, it } from 'vitest';
import { newestByStamp } from '../../src/history/history.js';

const r = (c: string) => c.repeat(40);
describe('newestByStamp', () => {
  it('orders by stamp, ties by tag name descending, and skips other forms and environments', () => {
    const tags = [
      `production-20210101000000-${r('a')}`,
      `production-20210301000000-${r('b')}`,
      `production-20210301000000-${r('c')}`,
      `production-4.1.2-20220101000000-${r('d')}`,
      'production-20220101000000-',
      `dev-20230101000000-${r('e')}`,
      `production-20210201000000-${r('f')}`,
      'production',
      `productionx-20240101000000-${r('a')}`,
    ];
    expect(newestByStamp(tags, 'production', 3)).toEqual([`production-20210301000000-${r('c')}`, `production-20210301000000-${r('b')}`, `production-20210201000000-${r('f')}`]);
    expect(newestByStamp(tags, 'dev', 8)).toEqual([`dev-20230101000000-${r('e')}`]);
    expect(newestByStamp([], 'production', 8)).toEqual([]);
  });
});
