import { describe, expect, it } from 'vitest';
import { rateLimitWaitMs, retryAfterMs, withRetry } from '../../src/registry/retry.js';
import { TransportError, type RegistryResponse, type Transport } from '../../src/registry/transport.js';

const ok: RegistryResponse = { status: 200, headers: {}, body: Buffer.from('ok') };

function scripted(answers: (RegistryResponse | Error)[]): Transport & { calls: number } {
  const transport = (async () => {
    transport.calls++;
    const next = answers.shift() ?? ok;
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as Transport & { calls: number };
  transport.calls = 0;
  return transport;
}

describe('retry', () => {
  it('reads Retry-After as seconds and as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('retries 429, 5xx and resets, then succeeds', async () => {
    const t = scripted([
      { status: 429, headers: { 'retry-after': '0' }, body: Buffer.alloc(0) },
      { status: 503, headers: {}, body: Buffer.alloc(0) },
      new TransportError('GET x: connection reset', 'ECONNRESET'),
    ]);
    const delays: number[] = [];
    const send = withRetry(t, { baseDelayMs: 1, onRetry: ({ delayMs }) => delays.push(delayMs) });
    expect((await send({ method: 'GET', url: 'http://x/' })).status).toBe(200);
    expect(t.calls).toBe(4);
    expect(delays).toHaveLength(3);
  });

  it('waits at least as long as Retry-After asks', async () => {
    const t = scripted([{ status: 429, headers: { 'retry-after': '1' }, body: Buffer.alloc(0) }]);
    const started = Date.now();
    await withRetry(t, { baseDelayMs: 1 })({ method: 'GET', url: 'http://x/' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('gives up after the bounded attempts with the last status', async () => {
    const t = scripted(Array.from({ length: 10 }, () => ({ status: 500, headers: {}, body: Buffer.alloc(0) })));
    const response = await withRetry(t, { attempts: 3, baseDelayMs: 1 })({ method: 'GET', url: 'http://x/' });
    expect(response.status).toBe(500);
    expect(t.calls).toBe(3);
  });

  it('does not retry 404 or non-idempotent requests', async () => {
    const t = scripted([{ status: 404, headers: {}, body: Buffer.alloc(0) }]);
    expect((await withRetry(t, { baseDelayMs: 1 })({ method: 'GET', url: 'http://x/' })).status).toBe(404);
    const u = scripted([{ status: 503, headers: {}, body: Buffer.alloc(0) }]);
    expect((await withRetry(u, { baseDelayMs: 1 })({ method: 'POST', url: 'http://x/', idempotent: false })).status).toBe(503);
    expect(u.calls).toBe(1);
  });

  it('rethrows a persistent network failure', async () => {
    const t = scripted(Array.from({ length: 5 }, () => new TransportError('GET x: timed out', 'ETIMEDOUT')));
    await expect(withRetry(t, { attempts: 2, baseDelayMs: 1 })({ method: 'GET', url: 'http://x/' })).rejects.toThrow(/timed out/);
  });

  it("reads Docker Hub's rate-limit headers: Retry-After, X-Retry-After (seconds or a Unix time), X-RateLimit-Reset when none remain", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    const unix = now / 1000;
    expect(rateLimitWaitMs({ 'retry-after': '7', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(unix + 60) }, now)).toBe(7000);
    expect(rateLimitWaitMs({ 'x-retry-after': String(unix + 9) }, now)).toBe(9000);
    expect(rateLimitWaitMs({ 'x-retry-after': '4' }, now)).toBe(4000);
    expect(rateLimitWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(unix + 30) }, now)).toBe(30_000);
    expect(rateLimitWaitMs({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': String(unix + 30) }, now)).toBeUndefined();
  });

  it("begins no wait that would end past the command's deadline: the 429 is returned at once", async () => {
    const t = scripted([{ status: 429, headers: { 'retry-after': '5' }, body: Buffer.alloc(0) }]);
    const started = Date.now();
    const response = await withRetry(t, { baseDelayMs: 1, deadlineAtMs: Date.now() + 2_000 })({ method: 'GET', url: 'http://x/' });
    expect(response.status).toBe(429);
    expect(t.calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
