/**
 * The fetch octokit sends its requests through: a timeout on every request, and a few
 * retries with backoff for reads (GET, HEAD) that failed on the network or with a 5xx.
 * Writes are never replayed: a ref update that timed out is read back instead.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface GitHubTransportOptions {
  timeoutMs?: number;
  attempts?: number;
  baseDelayMs?: number;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
}

/** A request that never got an HTTP answer (refused, reset, timed out). */
export class GitHubTransportError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'GitHubTransportError';
    this.code = code;
  }
}

const retryableStatus = new Set([500, 502, 503, 504]);

export function githubFetch(options: GitHubTransportOptions = {}): typeof fetch {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const attempts = options.attempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const next = options.fetch ?? fetch;
  return async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const replayable = method === 'GET' || method === 'HEAD';
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      try {
        const response = await next(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
        if (!replayable || !retryableStatus.has(response.status) || attempt >= attempts) return response;
        reason = `HTTP ${response.status}`;
        await response.body?.cancel();
      } catch (error) {
        const failure = describeNetworkError(error, timeoutMs);
        if (!replayable || attempt >= attempts) throw failure;
        reason = failure.message;
      }
      const delayMs = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      options.onRetry?.({ attempt, delayMs, reason });
      await sleep(delayMs);
    }
  };
}

function describeNetworkError(error: unknown, timeoutMs: number): GitHubTransportError {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new GitHubTransportError(`no answer within ${timeoutMs} ms`, 'ETIMEDOUT');
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return new GitHubTransportError('connection refused', code);
  if (code === 'ENOTFOUND') return new GitHubTransportError('host not found', code);
  if (typeof code === 'string') return new GitHubTransportError(code, code);
  const said = typeof cause?.message === 'string' ? cause.message.slice(0, 100) : 'network error';
  return new GitHubTransportError(said, 'ENETWORK');
}
