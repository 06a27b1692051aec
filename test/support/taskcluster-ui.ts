// The Taskcluster web UI on the real services (issue 24): web-server (its GraphQL backend) and
// the built UI added to a running real-services fixture (real-taskcluster.ts), so that the
// fixture's one root URL serves all of it, as a deployment's ingress does:
//   /api/<service>/                       the five services (the fixture's own routes)
//   /graphql, /subscription (WebSocket), /login, /api/web-server/   web-server
//   everything else                       taskcluster-ui-server.ts: the built UI, env.js,
//                                         /schemas and /references
// Both run as processes of the fixture (stopped with it). web-server runs from the cached tree
// that holds it beside the services (taskcluster-ui-build.ts) with the fixture's environment,
// its own static client (static/taskcluster/web-server), no login strategy
// (UI_LOGIN_STRATEGIES='{}': the UI offers "Sign in with credentials", and the real Auth service
// decides what the signed-in client may do).
//
//   const tc = await startRealTaskcluster();
//   const ui = await startTaskclusterUi(tc);     // ui.rootUrl === tc.rootUrl
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { RealTaskcluster } from './real-taskcluster.js';
import { ensureUiBuild, ensureWebServerTree } from './taskcluster-ui-build.js';

export interface TaskclusterUi {
  rootUrl: string;
  /** The built UI and the tree web-server runs from (cached folders: do not write). */
  buildDir: string;
  treeDir: string;
  /** Seconds: the cached install and build (0-ish when warm), web-server's start, the UI server's. */
  timings: Record<string, number>;
  /** Whether this start installed or built anything (a cold cache). */
  builtNow: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => {
      req.destroy();
      resolve({ status: 0, body: '' });
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms: number, logOf: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${ms / 1000} s:\n${logOf().split('\n').slice(-25).join('\n')}`);
    await sleep(150);
  }
}

/** The static client's token the fixture gave web-server (STATIC_CLIENTS of its environment). */
function staticToken(tc: RealTaskcluster, clientId: string): string {
  const clients = JSON.parse(tc.env.STATIC_CLIENTS ?? '[]') as { clientId: string; accessToken: string }[];
  const found = clients.find((c) => c.clientId === clientId);
  if (found === undefined) throw new Error(`the real-services fixture has no static client ${clientId}`);
  return found.accessToken;
}

export async function startTaskclusterUi(tc: RealTaskcluster, log: (line: string) => void = () => {}): Promise<TaskclusterUi> {
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const [tree, build] = await Promise.all([ensureWebServerTree(log), ensureUiBuild(log)]);
  timings.webServerInstall = tree.ms / 1000;
  timings.uiBuild = build.ms / 1000;

  const t1 = Date.now();
  const webServerPort = await freePortOf();
  const env = {
    PORT: String(webServerPort),
    TASKCLUSTER_CLIENT_ID: 'static/taskcluster/web-server',
    TASKCLUSTER_ACCESS_TOKEN: staticToken(tc, 'static/taskcluster/web-server'),
    PUBLIC_URL: tc.rootUrl,
    ADDITIONAL_ALLOWED_CORS_ORIGIN: tc.rootUrl,
    REGISTERED_CLIENTS: '[]',
    UI_LOGIN_STRATEGIES: '{}',
    SESSION_SECRET: randomBytes(24).toString('base64url'),
    NODE_ENV: 'production',
  };
  await tc.startProcess({ name: 'web-server', command: ['node', 'services/web-server/src/main.js', 'server'], env, cwd: tree.dir });
  tc.addRoutes({ '/graphql': webServerPort, '/subscription': webServerPort, '/login': webServerPort, '/api/web-server/': webServerPort });
  await waitFor('web-server', async () => (await get(`${tc.rootUrl}/api/web-server/v1/ping`)).status === 200, 120_000, () => tc.log('web-server'));
  timings.webServer = (Date.now() - t1) / 1000;

  const t2 = Date.now();
  const portFile = path.join(tc.stateDir, 'taskcluster-ui.port');
  await tc.startProcess({
    name: 'taskcluster-ui',
    command: ['node', '--no-warnings', path.join(import.meta.dirname, 'taskcluster-ui-server.ts'), path.join(build.dir, 'build'), tree.dir, tc.rootUrl, portFile],
    cwd: tc.stateDir,
  });
  await waitFor('the UI server', async () => existsSync(portFile), 30_000, () => tc.log('taskcluster-ui'));
  tc.addRoutes({ '/': Number(readFileSync(portFile, 'utf8')) });
  await waitFor('the UI at the root URL', async () => {
    const [index, schema] = await Promise.all([get(`${tc.rootUrl}/`), get(`${tc.rootUrl}/schemas/common/action-schema-v1.json`)]);
    return index.status === 200 && index.body.includes('<div id="root"') && schema.status === 200;
  }, 30_000, () => tc.log('taskcluster-ui'));
  timings.uiServer = (Date.now() - t2) / 1000;
  timings.total = (Date.now() - t0) / 1000;
  return { rootUrl: tc.rootUrl, buildDir: path.join(build.dir, 'build'), treeDir: tree.dir, timings, builtNow: tree.built || build.built };
}

async function freePortOf(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
