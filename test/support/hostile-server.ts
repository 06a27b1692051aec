// A small malicious HTTP server on 127.0.0.1 for reliability tests: each test gives the handler
// that misbehaves the way it wants (trickling the status line, headers or body a byte at a
// time, paging forever, answering more than any limit, echoing the Authorization header it was
// sent). Requests are recorded; stop() destroys every socket, so a trickle never outlives the
// test.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HostileRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface HostileServer {
  url: string;
  host: string;
  requests(): HostileRequest[];
  stop(): Promise<void>;
}

export type HostileHandler = (req: http.IncomingMessage, res: http.ServerResponse, socket: Socket) => void;

export async function startHostileServer(handler: HostileHandler): Promise<HostileServer> {
  const log: HostileRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    log.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization });
    req.resume();
    handler(req, res, req.socket);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => [...log],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Write `bytes` to the raw socket one byte every `intervalMs` (a status line, headers and a body
 * written by hand, so that nothing is buffered into one packet). Stops when the socket closes.
 */
export function trickle(socket: Socket, bytes: string | Buffer, intervalMs: number): void {
  const data = Buffer.from(bytes);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= data.length) {
      clearInterval(timer);
      return;
    }
    socket.write(data.subarray(i, i + 1));
    i++;
  }, intervalMs);
  socket.on('close', () => clearInterval(timer));
}

/** A JSON answer. */
export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
