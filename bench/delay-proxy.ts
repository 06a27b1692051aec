// A loopback proxy that puts a server at a distance: every response is held `delayMs` before
// it reaches the client (a registry or Queue ~delayMs away), and every new connection waits
// `delayMs` before its first request is read (the TCP handshake's round trip). It counts the
// requests and the round trips the client needed: a request's depth is one more than the
// deepest request that had completed when it was sent, so requests in flight together count
// as one round trip and a request that waited for another counts as the next. The Host header
// is forwarded as the client sent it, so a registry's Location headers name the proxy.
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface DelayProxyOptions {
  delayMs: number;
  /** Delay before a new connection's first request (default: delayMs). */
  connectDelayMs?: number;
}

export interface DelayStats {
  requests: number;
  roundTrips: number;
  connections: number;
  /** method path, in arrival order, with each request's depth. */
  log: { method: string; path: string; depth: number; status: number }[];
}

export interface DelayProxy {
  url: string;
  host: string;
  stats(): DelayStats;
  reset(): void;
  stop(): Promise<void>;
}

export async function startDelayProxy(upstream: string, options: DelayProxyOptions): Promise<DelayProxy> {
  const target = new URL(upstream);
  const delay = options.delayMs;
  const connectDelay = options.connectDelayMs ?? delay;
  let deepestCompleted = 0;
  let roundTrips = 0;
  let connections = 0;
  let log: DelayStats['log'] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((req, res) => {
    const depth = deepestCompleted + 1;
    roundTrips = Math.max(roundTrips, depth);
    const entry = { method: req.method ?? 'GET', path: req.url ?? '/', depth, status: 0 };
    log.push(entry);
    const upstreamReq = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upstreamRes) => {
        entry.status = upstreamRes.statusCode ?? 0;
        // Hold the answer: the client sees it delayMs after the server gave it.
        setTimeout(() => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        }, delay);
      },
    );
    res.on('finish', () => {
      deepestCompleted = Math.max(deepestCompleted, depth);
    });
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  server.keepAliveTimeout = 60_000;
  // Connections are accepted here and handed to the HTTP server after the handshake's delay
  // (pausing the socket would not do: the HTTP parser reads the handle directly).
  const sockets = new Set<Socket>();
  const listener = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    setTimeout(() => server.emit('connection', socket), connectDelay);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    stats: () => ({ requests: log.length, roundTrips, connections, log: [...log] }),
    reset: () => {
      deepestCompleted = 0;
      roundTrips = 0;
      connections = 0;
      log = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}
