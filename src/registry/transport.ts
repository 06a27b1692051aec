/**
 * The bottom of the registry HTTP stack: one request over node:http(s), with timeouts. Layers above
 * (retry, auth) wrap a `Transport`; operations never know how auth or retries work.
 */
import type * as HttpModule from 'node:http';
import type * as HttpsModule from 'node:https';
import type { Readable } from 'node:stream';
import { RemoteError } from '../errors.js';
import { loadHttp, loadHttps, setMaxListeners } from '../util/builtins.js';

export interface RegistryRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  /** The registry scope this request needs, e.g. `repository:mozilla/releng-x:pull`. */
  scope?: string;
  /** Safe to send again after a failure (GET, HEAD, PUT of a manifest by digest, …). */
  idempotent?: boolean;
  /** Leave the response body as a stream (blob copies); otherwise it is read whole. */
  stream?: boolean;
  /** The request deadline covers a streamed body too (a read that stops early, such as provenance). */
  streamDeadline?: boolean;
  /** Largest body to read, in bytes, when not streaming. */
  maxBodyBytes?: number;
  /** Stops this request alone (a read ahead nobody uses), as the command's signal stops every request. */
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Set when the request asked for `stream`. */
  stream?: Readable;
}

export type Transport = (request: RegistryRequest) => Promise<RegistryResponse>;

/** Network-level failure (reset, refused, timeout): retryable for idempotent requests. */
export class TransportError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransportError';
    this.code = code;
  }
}

/** An answer larger than the request allowed: names the request and the limit, exit 1. */
export class BodyTooLargeError extends RemoteError {
  constructor(req: Pick<RegistryRequest, 'method' | 'url'>, limit: number) {
    super(`${req.method} ${redactUrl(req.url)}: the answer is larger than the limit of ${formatBytes(limit)}; refusing to read it`);
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB (${bytes} bytes)`;
  return `${bytes} bytes`;
}

export interface HttpTransportOptions {
  /** Milliseconds to wait for response headers, and between body chunks (the idle timeout). */
  timeoutMs?: number;
  /**
   * Milliseconds for the whole exchange: connection, status line, headers and body together,
   * however steadily a server trickles them. A streamed body (a blob) is handed over when its
   * headers arrive; from then on the idle timeout and the command's `signal` bound it.
   */
  deadlineMs?: number;
  /** The command's stop signal (its deadline): no request starts after it, in-flight ones end. */
  signal?: AbortSignal;
  /** Most sockets kept per host. */
  connections?: number;
  userAgent?: string;
}

export const defaultTimeoutMs = 30_000;
export const defaultDeadlineMs = 120_000;

/** Why the command's signal stopped requests, for messages. */
export function stopReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the command was stopped';
}

/**
 * node:http(s) with keep-alive agents. (undici was measured at ~100 ms of import time on
 * every CLI start, a third of a rollback command's budget; node:http costs ~10 ms.)
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const timeout = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = options.deadlineMs ?? defaultDeadlineMs;
  const signal = options.signal;
  // One abort listener per request in flight, removed when it ends: a status of 26 pairs has
  // dozens at once, which is no leak (Node warns past 10: MaxListenersExceededWarning).
  if (signal) setMaxListeners(0, signal);
  const agentOptions = { keepAlive: true, maxSockets: options.connections ?? 16, timeout };
  // node:https (and with it TLS) loads with the first https request.
  const http = loadHttp();
  const httpAgent = new http.Agent(agentOptions);
  let httpsAgent: HttpsModule.Agent | undefined;
  const userAgent = options.userAgent ?? 'tc-promote';
  return (req) =>
    new Promise<RegistryResponse>((resolve, reject) => {
      const stoppedBy = signal?.aborted ? signal : req.signal?.aborted ? req.signal : undefined;
      if (stoppedBy) {
        reject(new TransportError(`${req.method} ${redactUrl(req.url)}: not sent: ${stopReason(stoppedBy)}`, 'EABORTED'));
        return;
      }
      let url: URL;
      try {
        url = new URL(req.url);
      } catch {
        reject(new TransportError(`${req.method} ${redactUrl(req.url)}: not a URL`, 'EINVALIDURL'));
        return;
      }
      const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
      const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
      const body = req.body;
      if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));
      else if (body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['content-length'] = '0';
      const limit = req.method === 'HEAD' ? 0 : (req.maxBodyBytes ?? 8 * 1024 * 1024);
      let response: HttpModule.IncomingMessage | undefined;
      // One way to end the exchange early, whoever asks: the deadline, the command's stop.
      const stop = (message: string, code: string): void => {
        const error = Object.assign(new Error(message), { code });
        request.destroy(error);
        response?.destroy(error);
      };
      const deadlineTimer = setTimeout(() => stop(`no complete answer within ${deadline} ms (the request deadline, TC_PROMOTE_HTTP_DEADLINE_MS)`, 'EDEADLINE'), deadline);
      const onAbort = (): void => stop(`stopped: ${stopReason(signal!)}`, 'EABORTED');
      const onRequestAbort = (): void => stop(`stopped: ${stopReason(req.signal!)}`, 'EABORTED');
      signal?.addEventListener('abort', onAbort, { once: true });
      req.signal?.addEventListener('abort', onRequestAbort, { once: true });
      const done = (): void => {
        clearTimeout(deadlineTimer);
        signal?.removeEventListener('abort', onAbort);
        req.signal?.removeEventListener('abort', onRequestAbort);
      };
      const fail = (error: unknown): void => {
        done();
        reject(error instanceof BodyTooLargeError ? error : asTransportError(error, req));
      };
      const secure = protocol === 'https:';
      const agent = secure ? (httpsAgent ??= new (loadHttps().Agent)(agentOptions)) : httpAgent;
      const request = (secure ? loadHttps() : http).request(url, { method: req.method, headers, agent }, (res) => {
        response = res;
        const out: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        const status = res.statusCode ?? 0;
        // From here the socket timeout means "no body bytes for `timeout` ms".
        res.setTimeout(timeout, () => res.destroy(Object.assign(new Error('body timed out'), { code: 'ETIMEDOUT' })));
        if (req.stream && status >= 200 && status < 300) {
          // The deadline covered the answer's head (and, when asked, covers the body); the
          // command's stop still ends the stream.
          if (!req.streamDeadline) clearTimeout(deadlineTimer);
          res.once('close', done);
          res.once('end', done);
          resolve({ status, headers: out, body: Buffer.alloc(0), stream: res });
          return;
        }
        // A length announced beyond the limit is refused before a byte of it is read.
        const announced = Number(out['content-length']);
        if (req.method !== 'HEAD' && Number.isFinite(announced) && announced > limit) {
          res.destroy();
          fail(new BodyTooLargeError(req, limit));
          return;
        }
        readLimited(res, limit, req).then((buffer) => {
          done();
          resolve({ status, headers: out, body: buffer });
        }, fail);
      });
      request.on('error', fail);
      request.setTimeout(timeout, () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      if (body === undefined) request.end();
      else if (typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (error) => request.destroy(error));
        body.pipe(request);
      }
    });
}

async function readLimited(body: HttpModule.IncomingMessage, limit: number, req: RegistryRequest): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new BodyTooLargeError(req, limit);
    }
    chunks.push(chunk as Buffer);
  }
  if (!body.complete) throw Object.assign(new Error('connection closed mid-body'), { code: 'ECONNRESET' });
  return Buffer.concat(chunks);
}

function asTransportError(error: unknown, req: RegistryRequest): TransportError {
  const err = error as { code?: string; message?: string };
  const code = err.code ?? 'UNKNOWN';
  return new TransportError(`${req.method} ${redactUrl(req.url)}: ${describeCode(code, err.message)}`, code, { cause: error });
}

function describeCode(code: string, message = ''): string {
  switch (code) {
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EDEADLINE':
    case 'EABORTED':
      return message;
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'HPE_HEADER_OVERFLOW':
      return 'the answer\'s headers are larger than Node accepts (16 KiB)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'cannot resolve the host name (no network, or a typo in the registry)';
    default:
      if (code.startsWith('HPE_')) return `not a well-formed HTTP answer (${code})`;
      return `${code} ${message}`.trim();
  }
}

/** URLs in messages lose any userinfo and query values that could hold a secret. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/token|secret|password|sig|auth|credential/i.test(key)) parsed.searchParams.set(key, 'REDACTED');
    }
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
