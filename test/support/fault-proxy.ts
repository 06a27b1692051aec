// A loopback proxy between tc-promote and a real server (the registry, an emulator) that
// injects faults on chosen requests: an HTTP status with headers (500, 503, 429 with
// Retry-After), a connection reset, a stall past the client's timeout, a truncated body, or
// a body replaced by other bytes, or an answer lost after the upstream acted on the request. Everything else is forwarded untouched, and every request
// is recorded so tests can count what the client sent.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset' }
  | { kind: 'stall'; ms: number }
  | { kind: 'truncate'; bytes: number }
  | { kind: 'replace-body'; body: Buffer | string }
  /** Forward the request (the upstream acts on it), then reset the client's connection: an answer lost on the way back. */
  | { kind: 'reset-after' }
  /** Forward the request (the upstream acts on it), then answer this status instead of the upstream's: an applied write reported as failed. */
  | { kind: 'status-after'; status: number; body?: string }
  /** Forward, then send the upstream's body a byte every `intervalMs` (a server trickling its answer). */
  | { kind: 'trickle'; intervalMs: number }
  /** Answer the status line and headers, then never finish the body (the connection stays open). */
  | { kind: 'hang-body'; status?: number; headers?: Record<string, string> }
  /** Forward the request to another path (e.g. drop `?mount=` so the registry opens an upload instead of mounting). */
  | { kind: 'rewrite'; path: (path: string) => string };

export interface FaultRule {
  method?: string;
  /** Matches the path and query. */
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default 1; Infinity for a persistent fault). */
  times?: number;
  /** Only while this holds (checked per request), e.g. "after the write was seen". */
  when?: () => boolean;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number | 'reset' | 'stalled';
  faulted: boolean;
  /** When the proxy received the request and when it finished answering (ms, performance.now()). */
  startedAt: number;
  endedAt: number;
}

export interface FaultProxyOptions {
  /**
   * Serve `GET /v2/<name>/tags/list` paginated as the OCI distribution spec describes (tags in
   * lexical order, `n` per page, `last` exclusive, a `Link: <…>; rel="next"` header while more
   * remain). The Debian registry (distribution 2.8) ignores `n` and `last`; this puts the
   * documented pagination in front of its real tag list.
   */
  paginateTags?: boolean;
  /**
   * Hold every forwarded answer this many milliseconds before sending it, as a registry this far
   * away would: requests sent together overlap, requests sent one after another do not, so
   * `roundTrips()` counts what the client waited for in sequence.
   */
  delayMs?: number;
}

export interface FaultProxy {
  url: string;
  host: string;
  add(rule: FaultRule): void;
  clear(): void;
  requests(): ProxiedRequest[];
  /** Sequential round trips among the requests so far: requests in flight at once count as one. */
  roundTrips(): number;
  stop(): Promise<void>;
}

/** Requests grouped into rounds: a round ends when every request in it has been answered. */
export function countRoundTrips(requests: readonly Pick<ProxiedRequest, 'startedAt' | 'endedAt'>[]): number {
  const sorted = [...requests].sort((a, b) => a.startedAt - b.startedAt);
  let rounds = 0;
  let roundEnd = -Infinity;
  for (const r of sorted) {
    if (r.startedAt >= roundEnd) {
      rounds++;
      roundEnd = r.endedAt;
    } else roundEnd = Math.max(roundEnd, r.endedAt);
  }
  return rounds;
}

export async function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rules: (FaultRule & { left: number })[] = [];
  const entries: ProxiedRequest[] = [];
  const hold = (send: () => void): void => {
    if (options.delayMs) setTimeout(send, options.delayMs);
    else send();
  };
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const startedAt = performance.now();
    // Every entry is completed with its timings when the answer has gone out.
    const log = {
      push(entry: Omit<ProxiedRequest, 'startedAt' | 'endedAt'>): void {
        const full: ProxiedRequest = { ...entry, startedAt, endedAt: performance.now() };
        entries.push(full);
        res.once('finish', () => (full.endedAt = performance.now()));
        res.once('close', () => (full.endedAt = Math.max(full.endedAt, performance.now())));
      },
    };
    const rule = rules.find((r) => r.left > 0 && (!r.method || r.method === method) && r.path.test(path) && (r.when?.() ?? true));
    if (rule) rule.left--;
    const fault = rule?.fault;
    if (fault?.kind === 'status') {
      log.push({ method, path, status: fault.status, faulted: true });
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] }));
      return;
    }
    if (fault?.kind === 'reset') {
      log.push({ method, path, status: 'reset', faulted: true });
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'stall') {
      log.push({ method, path, status: 'stalled', faulted: true });
      const timer = setTimeout(() => req.socket.destroy(), fault.ms);
      req.socket.on('close', () => clearTimeout(timer));
      return;
    }
    if (fault?.kind === 'hang-body') {
      log.push({ method, path, status: fault.status ?? 200, faulted: true });
      req.resume();
      res.writeHead(fault.status ?? 200, { 'content-type': 'application/json', 'content-length': '100000', ...fault.headers });
      res.write('{"ref": "refs/heads/');
      return;
    }
    const tagsList = options.paginateTags && method === 'GET' ? /^\/v2\/(.+)\/tags\/list(?:\?(.*))?$/.exec(path) : null;
    if (tagsList) {
      void paginate(tagsList[1]!, new URLSearchParams(tagsList[2] ?? ''), req, res, fault).then((status) => log.push({ method, path, status, faulted: Boolean(fault) }));
      return;
    }
    const upstreamPath = fault?.kind === 'rewrite' ? fault.path(path) : path;
    const upstreamReq = http.request(
      { host: target.hostname, port: target.port, method, path: upstreamPath, headers: { ...req.headers, host: target.host, 'x-forwarded-host': req.headers['x-forwarded-host'] ?? req.headers.host ?? '' } },
      (upstreamRes) => hold(() => {
        log.push({ method, path, status: upstreamRes.statusCode ?? 0, faulted: Boolean(fault) });
        const headers = { ...upstreamRes.headers };
        // Rewrite absolute Location headers that point at the upstream so clients stay behind the proxy.
        if (typeof headers.location === 'string' && headers.location.startsWith(upstream)) headers.location = headers.location.replace(upstream, proxyUrl);
        if (fault?.kind === 'trickle') {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (c: Buffer) => chunks.push(c));
          upstreamRes.on('end', () => {
            const body = Buffer.concat(chunks);
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            let i = 0;
            const timer = setInterval(() => {
              if (res.destroyed || i >= body.length) {
                clearInterval(timer);
                if (!res.destroyed) res.end();
                return;
              }
              res.write(body.subarray(i, ++i));
            }, fault.intervalMs);
            res.on('close', () => clearInterval(timer));
          });
          return;
        }
        if (fault?.kind === 'status-after') {
          upstreamRes.resume();
          upstreamRes.on('end', () => {
            res.writeHead(fault.status, { 'content-type': 'application/json' });
            res.end(fault.body ?? JSON.stringify({ message: 'Server Error' }));
          });
          return;
        }
        if (fault?.kind === 'reset-after') {
          upstreamRes.resume();
          upstreamRes.on('end', () => req.socket.destroy());
          return;
        }
        if (fault?.kind === 'replace-body') {
          const body = Buffer.from(fault.body);
          upstreamRes.resume();
          headers['content-length'] = String(body.length);
          res.writeHead(upstreamRes.statusCode ?? 502, headers);
          res.end(body);
          return;
        }
        if (fault?.kind === 'truncate') {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (c: Buffer) => chunks.push(c));
          upstreamRes.on('end', () => {
            res.writeHead(upstreamRes.statusCode ?? 502, headers);
            res.write(Buffer.concat(chunks).subarray(0, fault.bytes));
            // Close mid-body: the client sees fewer bytes than Content-Length announced.
            res.socket?.destroy();
          });
          return;
        }
        res.writeHead(upstreamRes.statusCode ?? 502, headers);
        upstreamRes.pipe(res);
      }),
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  async function paginate(name: string, query: URLSearchParams, req: http.IncomingMessage, res: http.ServerResponse, fault: Fault | undefined): Promise<number> {
    const headers: Record<string, string> = {};
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const full = await fetch(`${upstream}/v2/${name}/tags/list`, { headers });
    const text = await full.text();
    if (full.status !== 200) {
      const passHeaders: Record<string, string> = { 'content-type': full.headers.get('content-type') ?? 'application/json' };
      const challenge = full.headers.get('www-authenticate');
      if (challenge) passHeaders['www-authenticate'] = challenge;
      res.writeHead(full.status, passHeaders);
      res.end(text);
      return full.status;
    }
    const all = ((JSON.parse(text) as { tags: string[] | null }).tags ?? []).sort();
    const last = query.get('last');
    const n = query.has('n') ? Number(query.get('n')) : all.length;
    const start = last === null ? 0 : all.findIndex((t) => t > last);
    const page = start < 0 ? [] : all.slice(start, start + n);
    const out: Record<string, string> = { 'content-type': 'application/json' };
    const more = start >= 0 && start + n < all.length;
    if (more) out.link = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page[page.length - 1]!)}>; rel="next"`;
    let body = JSON.stringify({ name, tags: page });
    if (fault?.kind === 'replace-body') body = Buffer.from(fault.body).toString();
    res.writeHead(200, out);
    res.end(body);
    return 200;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxyUrl = `http://127.0.0.1:${port}`;
  return {
    url: proxyUrl,
    host: `127.0.0.1:${port}`,
    add: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clear: () => {
      rules = [];
      entries.length = 0;
    },
    requests: () => [...entries],
    roundTrips: () => countRoundTrips(entries),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
