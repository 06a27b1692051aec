// A loopback proxy that adds a fixed delay to every request before forwarding it, and records
// when each request arrived and when its answer was sent. roundTrips() is the longest chain of
// requests each sent after the previous one was answered: what a client pays in latency when
// the network decides (a registry 25 ms away costs 25 ms per round trip, not per request).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TimedRequest {
  method: string;
  path: string;
  start: number;
  end: number;
}

export interface LatencyProxy {
  url: string;
  host: string;
  requests(): TimedRequest[];
  clear(): void;
  /** Sequential round trips in what was recorded since the last clear(). */
  roundTrips(): number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(upstream: string, delayMs: number): Promise<LatencyProxy> {
  const target = new URL(upstream);
  let log: TimedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const entry: TimedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', start: performance.now(), end: 0 };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const headers = { ...req.headers, host: target.host };
        const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => {
            entry.end = performance.now();
            log.push(entry);
          });
        });
        forward.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        forward.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => [...log],
    clear: () => void (log = []),
    roundTrips: () => roundTrips(log),
    stop: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The longest chain a1, a2, … with a(k+1).start ≥ a(k).end: sequential round trips. */
export function roundTrips(requests: readonly TimedRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.end - b.end);
  const depth: number[] = [];
  let best = 0;
  for (let i = 0; i < sorted.length; i++) {
    let d = 1;
    for (let j = 0; j < i; j++) if (sorted[j]!.end <= sorted[i]!.start && depth[j]! + 1 > d) d = depth[j]! + 1;
    depth.push(d);
    best = Math.max(best, d);
  }
  return best;
}
