import { describe, expect, it } from 'vitest';
import { abortableSleep } from '../../src/util/abortable-sleep.js';

describe('abortableSleep', () => {
  it('waits the time when nothing stops it', async () => {
    const started = Date.now();
    await abortableSleep(60);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('ends when the signal aborts during the wait', async () => {
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(new Error('Ctrl-C')), 20);
    await abortableSleep(10_000, stop.signal);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('ends at once when the signal aborted before the wait began', async () => {
    const stop = new AbortController();
    stop.abort(new Error('Ctrl-C'));
    const started = Date.now();
    await abortableSleep(10_000, stop.signal);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
