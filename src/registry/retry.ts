/**
 * Retry with exponential backoff and full jitter for 429, 5xx, resets and timeouts,
 * honouring `Retry-After` (seconds or HTTP-date). A bounded number of attempts, then the
 * last failure is returned (status) or thrown (network) for the operation to report.
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

export function withRetry(next: Transport, options: RetryOptions = {}): Transport {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 8_000;
  const maxRetryAfter = options.maxRetryAfterMs ?? 60_000;
  const random = options.random ?? Math.random;
  return async (req) => {
    const replayable = req.idempotent !== false && !(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body));
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let delay = Math.min(cap, base * 2 ** (attempt - 1)) * random();
      try {
        const response = await next(req);
        if (!retryableStatus.has(response.status) || attempt >= attempts || !replayable) return response;
        reason = `HTTP ${response.status}`;
        const asked = retryAfterMs(response.headers['retry-after']);
        if (asked !== undefined) {
          if (asked > maxRetryAfter) return response;
          delay = Math.max(delay, asked);
        }
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
