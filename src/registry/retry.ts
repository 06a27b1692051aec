/**
 * Retry with exponential backoff and full jitter for 429, 5xx, resets and timeouts,
 * honouring `Retry-After` (seconds or HTTP-date), and on a 429 Docker Hub's `X-Retry-After`
 * (a Unix time) or `X-RateLimit-Reset` (a Unix time) when the answer says no calls remain.
 * A bounded number of attempts, then the last failure is returned (status) or thrown
 * (network) for the operation to report. No wait is begun that would end past the command's
 * deadline: the answer is returned then, for the operation to say when to try again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, redactUrl, stopReason, type RegistryRequest, type Transport } from './transport.js';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Longest `Retry-After` honoured; longer asks fail rather than stall a rollback. */
  maxRetryAfterMs?: number;
  random?: () => number;
  /** The command's stop signal: no retry is waited for after it. */
  signal?: AbortSignal;
  /** When the command's deadline passes (ms since the epoch): no wait is begun that would end after it. */
  deadlineAtMs?: number;
  now?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; request: RegistryRequest }) => void;
}

/** Answers a retry may change (also for callers that retry a write themselves, copy's guarded PUT). */
export const retryableStatus: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * How long a 429 asks to wait: `Retry-After`, else Docker Hub's `X-Retry-After` (a Unix time in
 * seconds, as Hub documented it before `Retry-After`), else, when `X-RateLimit-Remaining` is 0,
 * until `X-RateLimit-Reset` (a Unix time).
 */
export function rateLimitWaitMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const asked = retryAfterMs(headers['retry-after'], now);
  if (asked !== undefined) return asked;
  const unix = (text: string | undefined): number | undefined => (text !== undefined && /^\d{1,12}$/.test(text.trim()) ? Number(text.trim()) * 1000 : undefined);
  const xRetry = headers['x-retry-after'];
  if (xRetry !== undefined) {
    const at = unix(xRetry);
    // A small number is seconds to wait; a large one the Unix time to wait for.
    if (at !== undefined) return at > 1e12 ? Math.max(0, at - now) : at;
  }
  if (headers['x-ratelimit-remaining']?.trim() === '0') {
    const reset = unix(headers['x-ratelimit-reset']);
    if (reset !== undefined) return Math.max(0, reset - now);
  }
  return undefined;
}

export function withRetry(next: Transport, options: RetryOptions = {}): Transport {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 8_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return async (req) => {
    const replayable = req.idempotent !== false && !(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body));
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let delay = Math.min(cap, base * 2 ** (attempt - 1)) * random();
      try {
        const response = await next(req);
        if (!retryableStatus.has(response.status) || attempt >= attempts || !replayable) return response;
        reason = `HTTP ${response.status}`;
        const asked = response.status === 429 ? rateLimitWaitMs(response.headers, now()) : retryAfterMs(response.headers['retry-after'], now());
        if (asked !== undefined) {
          if (asked > maxRetryAfter) return response;
          delay = Math.max(delay, asked);
        }
        // A wait that would outlast the command is not begun: the answer says when to try again.
        if (options.deadlineAtMs !== undefined && now() + delay >= options.deadlineAtMs) return response;
      } catch (error) {
        if (!(error instanceof TransportError) || error.code === 'EABORTED' || attempt >= attempts || !replayable) throw error;
        reason = error.message;
      }
      options.onRetry?.({ attempt, delayMs: delay, reason, request: req });
      // The command's stop, or this request's own, ends the wait for a retry.
      const stops = [options.signal, req.signal].filter((s): s is AbortSignal => s !== undefined);
      const stop = stops.length > 1 ? AbortSignal.any(stops) : stops[0];
      try {
        await sleep(delay, undefined, stop && { signal: stop });
      } catch {
        throw new TransportError(`${req.method} ${redactUrl(req.url)}: not retried (${reason}): ${stopReason(stop!)}`, 'EABORTED');
      }
    }
  };
}
