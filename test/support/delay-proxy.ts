// A loopback proxy that puts a server at a distance (a registry or the Queue ~delayMs away):
// every answer reaches the client delayMs after the server gave it, and every new connection
// waits delayMs before its first request is read (the TCP handshake's round trip; both
// tc-promote and skopeo keep connections alive, so this is paid once a connection).
// It records each request and counts round trips: a request's depth is one more than the
// deepest request that had been answered when it arrived, so requests in flight together
// count as one round trip and a request that waited for another counts as the next. The Host
// header is forwarded as the client sent it, so a registry's Location headers name the proxy.
// With `tls`, the proxy speaks HTTPS (as Docker Hub does), and a new connection also waits
// delayMs for its TLS handshake (TLS 1.3: one round trip).
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';

export interface DelayedRequest {
  method: string;
  path: string;
  status: number;
  /** Round trip it belongs to (1 = sent before any answer arrived). */
  depth: number;
  start: number;
  end: number;
}

export interface DelayProxyOptions {
  /** Delay before a new connection's first request is read (default: the answer delay). */
  connectDelayMs?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export interface DelayProxy {
  url: string;
  host: string;
  requests(): DelayedRequest[];
  /** Sequential round trips since the last clear(). */
  roundTrips(): number;
  /** New connections since the last clear(). */
  connections(): number;
  clear(): void;
  stop(): Promise<void>;
}

export async function startDelayProxy(upstream: string, delayMs: number, options: DelayProxyOptions = {}): Promise<DelayProxy> {
  const target = new URL(upstream);
  const connectDelay = options.connectDelayMs ?? delayMs;
  let deepestAnswered = 0;
  let deepest = 0;
  let connections = 0;
  let log: DelayedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  // The first request on a new connection was sent when the client connected, a handshake
  // earlier than it is read: its depth is taken at that moment.
  const connectedAt = new WeakMap<Socket, { depth: number; at: number }>();
  const server = http.createServer((req, res) => {
    const first = connectedAt.get(req.socket);
    connectedAt.delete(req.socket);
    const entry: DelayedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0, depth: first?.depth ?? deepestAnswered + 1, start: first?.at ?? performance.now(), end: 0 };
    deepest = Math.max(deepest, entry.depth);
    log.push(entry);
    const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      entry.status = answer.statusCode ?? 0;
      setTimeout(() => {
        // Answered from the moment it is written: over TLS the client can read it and send the
        // next request before this side's 'finish' fires.
        deepestAnswered = Math.max(deepestAnswered, entry.depth);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      }, delayMs);
    });
    res.on('finish', () => {
      entry.end = performance.now();
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.keepAliveTimeout = 60_000;
  // Connections are accepted here and handed to the HTTP server after the handshake's delay
  // (pausing the socket would not do: the HTTP parser reads the handle directly).
  const sockets = new Set<Socket>();
  const secureContext = options.tls ? tls.createSecureContext(options.tls) : undefined;
  const listener = net.createServer((socket) => {
    connections++;
    const connected = { depth: deepestAnswered + 1, at: performance.now() };
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    setTimeout(() => {
      if (!secureContext) {
        connectedAt.set(socket, connected);
        server.emit('connection', socket);
        return;
      }
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
      secure.on('error', () => socket.destroy());
      secure.once('secure', () =>
        setTimeout(() => {
          connectedAt.set(secure, connected);
          server.emit('connection', secure);
        }, connectDelay),
      );
    }, connectDelay);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  return {
    url: `${secureContext ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => [...log],
    roundTrips: () => deepest,
    connections: () => connections,
    clear: () => {
      log = [];
      deepest = 0;
      deepestAnswered = 0;
      connections = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}
