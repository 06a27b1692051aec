// A per-task taskclusterProxy, as docker-worker and generic-worker run one beside a task: it
// listens on loopback, takes unsigned requests in both of the real proxy's forms,
// `<proxy>/api/<service>/v1/<path>` (what taskcluster-client sends to TASKCLUSTER_PROXY_URL)
// and `<proxy>/<service>/v1/<path>` (what scripts such as scriptworker-scripts'
// push_image.sh use: http://taskcluster/secrets/v1/secret/<name>), and forwards them to the
// deployment Hawk-signed with the task's own credentials (a client holding exactly the
// task's `scopes`; the emulator's `taskCredentials`). Nothing else reaches the deployment
// from inside the task.
//
//   const proxy = await startTaskProxy(tc.rootUrl, tc.taskCredentials(taskId));
//   env.TASKCLUSTER_PROXY_URL = proxy.url;  …  await proxy.stop();
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import hawk from 'hawk';

export interface TaskProxy {
  url: string;
  /** Requests forwarded: method, the deployment's path, the answer's status. */
  readonly requests: { method: string; path: string; status: number }[];
  stop(): Promise<void>;
}

/**
 * `credentials` is read at each request: a worker that reclaims the task replaces its fields
 * with the new temporary credentials. A `certificate` (the Queue's temporary credentials of a
 * claim) goes in Hawk's `ext`, as taskcluster-client sends it.
 */
export async function startTaskProxy(rootUrl: string, credentials: { clientId: string; accessToken: string; certificate?: string }): Promise<TaskProxy> {
  const requests: TaskProxy['requests'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const incoming = new URL(req.url ?? '/', 'http://taskcluster');
    const match = /^\/(?:api\/)?([a-z-]+)\/(v\d+)\/(.*)$/.exec(incoming.pathname);
    if (!match) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'ResourceNotFound', message: `the proxy serves <service>/v1/… only, not ${incoming.pathname}` }));
      return;
    }
    const target = new URL(`${rootUrl}/api/${match[1]}/${match[2]}/${match[3]}${incoming.search}`);
    const method = req.method ?? 'GET';
    const ext = credentials.certificate ? Buffer.from(JSON.stringify({ certificate: JSON.parse(credentials.certificate) })).toString('base64') : undefined;
    const { header } = hawk.client.header(target.href, method, { credentials: { id: credentials.clientId, key: credentials.accessToken, algorithm: 'sha256' }, ...(ext && { ext }) });
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: target.host, authorization: header };
    const upstream = http.request(target, { method, headers }, (answer) => {
      requests.push({ method, path: target.pathname, status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      requests.push({ method, path: target.pathname, status: 502 });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'ProxyError', message: String(error) }));
    });
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
