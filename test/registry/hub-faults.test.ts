// Docker Hub answers that lie or misbehave, fed straight to the Hub listing through a fake
// transport (faults the loopback stand-in in test/support/hub-api.ts does not make on its own).
import { describe, expect, it } from 'vitest';
import { HubTagListing } from '../../src/registry/hub.js';
import type { RegistryRequest, RegistryResponse, Transport } from '../../src/registry/transport.js';

const digest = (i: number): string => `sha256:${i.toString(16).padStart(64, '0')}`;
const tag = (i: number): Record<string, unknown> => {
  const at = new Date(Date.UTC(2021, 0, 1) - i * 60_000).toISOString();
  return { name: `t${i}`, digest: digest(i + 1), last_updated: at, tag_last_pushed: at };
};
const json = (status: number, body: unknown, headers: Record<string, string> = {}): RegistryResponse => ({ status, headers, body: Buffer.from(JSON.stringify(body)) });
const pageOf = (req: RegistryRequest): number => Number(new URL(req.url).searchParams.get('page'));

describe('Docker Hub listing against a lying or limiting Hub', () => {
  it('says a 429 with a huge Retry-After plainly, without a RangeError', async () => {
    const send: Transport = async () => json(429, { message: 'slow down' }, { 'retry-after': '99999999999999999999' });
    const listing = new HubTagListing(send, 'http://hub.test', 'mozilla/releng-x', { now: () => Date.UTC(2021, 0, 1) });
    const error = await listing.readFirst().then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/rate limit reached \(HTTP 429\)/);
    expect(error).not.toBeInstanceOf(RangeError);
  });

  it('does not turn a negative or garbage Retry-After into a reset time in 2001', async () => {
    for (const header of ['-5', 'soon 12', 'later, 3']) {
      const send: Transport = async () => json(429, { message: 'slow down' }, { 'retry-after': header });
      const listing = new HubTagListing(send, 'http://hub.test', 'mozilla/releng-x', { now: () => Date.UTC(2021, 0, 1) });
      const error = await listing.readFirst().then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(/rate limit reached/);
      expect(error?.message).not.toMatch(/200\d-/);
      expect(error?.message).toMatch(/Hub did not say when it resets/);
    }
  });

  it('refuses a count that its own next link contradicts, in place of calling one page the whole listing', async () => {
    // Hub counts 100 tags, serves a full page of 100 and links a next page: the count lies.
    const send: Transport = async (req) => {
      const page = pageOf(req);
      const results = Array.from({ length: 100 }, (_, i) => tag((page - 1) * 100 + i));
      return json(200, { count: 100, next: page < 3 ? `http://hub.test/v2/x?page=${page + 1}` : null, previous: null, results });
    };
    const listing = new HubTagListing(send, 'http://hub.test', 'mozilla/releng-x');
    const error = await listing.readMore().then(() => undefined, (e: Error) => e);
    expect(listing.complete && error === undefined).toBe(false);
    expect(error?.message).toMatch(/next/);
  });

  it('does not say the limit is reached when a later window, after a reset waited for, has calls left', async () => {
    // Page 1 used the window's last call; the other pages came after it reset (the retry waited).
    const send: Transport = async (req) => {
      const page = pageOf(req);
      const headers = page === 1 ? { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1609459200' } : { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': String(10 - page), 'x-ratelimit-reset': '1609459260' };
      const results = Array.from({ length: 100 }, (_, i) => tag((page - 1) * 100 + i));
      return json(200, { count: 300, next: page < 3 ? 'http://hub.test/next' : null, previous: null, results }, headers);
    };
    const listing = new HubTagListing(send, 'http://hub.test', 'mozilla/releng-x');
    await listing.readMore();
    expect(listing.complete).toBe(true);
    expect(listing.rateLimit.remaining).toBe(7);
    expect(listing.rateLimitNote()).toBeUndefined();
  });
});

