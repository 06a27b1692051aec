/**
 * The fetch octokit sends its requests through: one deadline for each whole exchange (status,
 * headers and the body, read here to its end and at most `maxBodyBytes`), the command's stop
 * signal, and a few retries with backoff for reads (GET, HEAD) that failed on the network or
 * with a 5xx. Writes are never replayed: a ref update that timed out is read back instead. An
 * answer cut short is a network failure, never an empty answer: octokit would otherwise take a
 * body it could not read as "" (and a ref as missing).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface GitHubTransportOptions {
  timeoutMs?: number;
  attempts?: number;
  baseDelayMs?: number;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
  /** The command's stop signal (its deadline). */
  signal?: AbortSignal;
  /** Largest answer read (default 16 MiB). */
  maxBodyBytes?: number;
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
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const stop = options.signal;
  return async (input, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const replayable = method === 'GET' || method === 'HEAD';
    for (let attempt = 1; ; attempt++) {
      if (stop?.aborted) throw new GitHubTransportError(`not sent: ${stopMessage(stop)}`, 'EABORTED');
      let reason: string;
      try {
        const signal = stop ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]) : AbortSignal.timeout(timeoutMs);
        const response = await readWhole(await next(input, { ...init, signal }), maxBodyBytes);
        if (!replayable || !retryableStatus.has(response.status) || attempt >= attempts) return response;
        reason = `HTTP ${response.status}`;
      } catch (error) {
        const failure = error instanceof GitHubTransportError ? error : describeNetworkError(error, timeoutMs, stop);
        if (!replayable || attempt >= attempts || failure.code === 'EABORTED') throw failure;
        reason = failure.message;
      }
      const delayMs = baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      options.onRetry?.({ attempt, delayMs, reason });
      try {
        await sleep(delayMs, undefined, stop && { signal: stop });
      } catch {
        throw new GitHubTransportError(`not retried after ${reason}: ${stopMessage(stop!)}`, 'EABORTED');
      }
    }
  };
}

/** The answer with its body read to the end (bounded), so that a cut or endless body is an error here. */
async function readWhole(response: Response, limit: number): Promise<Response> {
  const announced = Number(response.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new GitHubTransportError(`the answer is larger than the limit of ${limit} bytes`, 'ETOOLARGE');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw new GitHubTransportError(`the answer is larger than the limit of ${limit} bytes`, 'ETOOLARGE');
      }
      chunks.push(value);
    }
  }
  const empty = [101, 103, 204, 205, 304].includes(response.status);
  return new Response(empty ? null : Buffer.concat(chunks), { status: response.status, statusText: response.statusText, headers: response.headers });
}

function stopMessage(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'the command was stopped';
}

function describeNetworkError(error: unknown, timeoutMs: number, stop?: AbortSignal): GitHubTransportError {
  const name = (error as { name?: string } | null)?.name;
  if (stop?.aborted) return new GitHubTransportError(`stopped: ${stopMessage(stop)}`, 'EABORTED');
  if (name === 'TimeoutError' || name === 'AbortError') return new GitHubTransportError(`no complete answer within ${timeoutMs} ms (TC_PROMOTE_HTTP_TIMEOUT_MS)`, 'ETIMEDOUT');
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = cause?.code;
  if (code === 'ECONNREFUSED') return new GitHubTransportError('connection refused', code);
  if (code === 'ENOTFOUND') return new GitHubTransportError('host not found', code);
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return new GitHubTransportError('the connection closed before the answer was complete', 'EINCOMPLETE');
  if (typeof code === 'string') return new GitHubTransportError(code, code);
  if ((error as { message?: unknown } | null)?.message === 'terminated') return new GitHubTransportError('the connection closed before the answer was complete', 'EINCOMPLETE');
  const said = typeof cause?.message === 'string' ? cause.message.slice(0, 100) : 'network error';
  return new GitHubTransportError(said, 'ENETWORK');
}
