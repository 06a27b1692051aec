/**
 * The bottom of the registry HTTP stack: one request over node:http(s), with timeouts. Layers above
 * (retry, auth) wrap a `Transport`; operations never know how auth or retries work.
 */
import type * as HttpModule from 'node:http';
import type * as HttpsModule from 'node:https';
import type { Readable } from 'node:stream';
import { loadHttp, loadHttps } from '../util/builtins.js';

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
  /** Largest body to read, in bytes, when not streaming. */
  maxBodyBytes?: number;
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

export class BodyTooLargeError extends Error {}

export interface HttpTransportOptions {
  /** Milliseconds to wait for response headers, and between body chunks. */
  timeoutMs?: number;
  /** Most sockets kept per host. */
  connections?: number;
  userAgent?: string;
}

/**
 * node:http(s) with keep-alive agents. (undici was measured at ~100 ms of import time on
 * every CLI start, a third of a rollback command's budget; node:http costs ~10 ms.)
 */
export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const timeout = options.timeoutMs ?? 30_000;
  const agentOptions = { keepAlive: true, maxSockets: options.connections ?? 16, timeout };
  // node:https (and with it TLS) loads with the first https request.
  const http = loadHttp();
  const httpAgent = new http.Agent(agentOptions);
  let httpsAgent: HttpsModule.Agent | undefined;
  const userAgent = options.userAgent ?? 'tc-promote';
  return (req) =>
    new Promise<RegistryResponse>((resolve, reject) => {
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
      const fail = (error: unknown): void => reject(asTransportError(error, req));
      const secure = protocol === 'https:';
      const agent = secure ? (httpsAgent ??= new (loadHttps().Agent)(agentOptions)) : httpAgent;
      const request = (secure ? loadHttps() : http).request(url, { method: req.method, headers, agent }, (response) => {
        const out: Record<string, string> = {};
        for (const [key, value] of Object.entries(response.headers)) {
          if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        const status = response.statusCode ?? 0;
        // From here the socket timeout means "no body bytes for `timeout` ms".
        response.setTimeout(timeout, () => response.destroy(Object.assign(new Error('body timed out'), { code: 'ETIMEDOUT' })));
        if (req.stream && status >= 200 && status < 300) {
          resolve({ status, headers: out, body: Buffer.alloc(0), stream: response });
          return;
        }
        readLimited(response, req.method === 'HEAD' ? 0 : (req.maxBodyBytes ?? 8 * 1024 * 1024)).then(
          (buffer) => resolve({ status, headers: out, body: buffer }),
          (error: unknown) => (error instanceof BodyTooLargeError ? reject(error) : fail(error)),
        );
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

async function readLimited(body: HttpModule.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new BodyTooLargeError(`response body larger than ${limit} bytes`);
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
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'cannot resolve the host name (no network, or a typo in the registry)';
    default:
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
