/**
 * The bottom of the registry HTTP stack: one request over undici, with timeouts. Layers above
 * (retry, auth) wrap a `Transport`; operations never know how auth or retries work.
 */
import { Agent, request as undiciRequest } from 'undici';
import type { Readable } from 'node:stream';

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
  connections?: number;
  userAgent?: string;
}

export function httpTransport(options: HttpTransportOptions = {}): Transport {
  const timeout = options.timeoutMs ?? 30_000;
  const dispatcher = new Agent({
    connections: options.connections ?? 16,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connectTimeout: timeout,
  });
  const userAgent = options.userAgent ?? 'tc-promote';
  return async (req) => {
    let response;
    try {
      response = await undiciRequest(req.url, {
        method: req.method,
        headers: { 'user-agent': userAgent, ...req.headers },
        body: req.body ?? null,
        dispatcher,
      });
    } catch (error) {
      throw asTransportError(error, req);
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    if (req.stream && response.statusCode >= 200 && response.statusCode < 300) {
      return { status: response.statusCode, headers, body: Buffer.alloc(0), stream: response.body };
    }
    try {
      const body = await readLimited(response.body, req.maxBodyBytes ?? 8 * 1024 * 1024);
      return { status: response.statusCode, headers, body };
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw error;
      throw asTransportError(error, req);
    }
  };
}

async function readLimited(body: AsyncIterable<Buffer | Uint8Array> & { destroy?: (e?: Error) => void }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      throw new BodyTooLargeError(`response body larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function asTransportError(error: unknown, req: RegistryRequest): TransportError {
  const err = error as { code?: string; message?: string };
  const code = err.code ?? 'UNKNOWN';
  return new TransportError(`${req.method} ${redactUrl(req.url)}: ${describeCode(code, err.message)}`, code, { cause: error });
}

function describeCode(code: string, message = ''): string {
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ECONNREFUSED':
      return 'connection refused';
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
