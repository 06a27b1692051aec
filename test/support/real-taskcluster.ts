// The real Taskcluster services under the tests (issue 17): auth, queue, hooks, index and
// secrets of ../shared/upstream/taskcluster (v106), run from a cached copy of that folder with
// its node_modules installed once by its own yarn 4, on a PostgreSQL and a RabbitMQ of their own,
// behind one root URL.
//
//   const tc = await startRealTaskcluster();          // a fixture of this process (watchdog on it)
//   tc.rootUrl; tc.rootCredentials;                    // static/taskcluster/root
//   await tc.stop();                                   // every process, every folder
//
//   const tc = await sharedRealTaskcluster();          // the one of this vitest run (started by the
//                                                      // first test file that asks, stopped by the
//                                                      // global teardown: real-taskcluster.global.ts)
//
// What runs, each in a process group of its own, every group recorded in `<stateDir>/pids`
// before anything else happens:
//   - PostgreSQL 15 (Debian), `initdb` into `<stateDir>/pgdata` (ICU en-US collation: plain
//     C.UTF-8 fails Taskcluster's ordering check), as the `postgres` user (it refuses root),
//     listening on a free port of the fixture's own loopback address; a fresh database
//     `taskcluster` migrated by Taskcluster's own `db/src/main.js upgrade`; every service
//     connects as its own `taskcluster_<service>` user, as in a deployment;
//   - epmd and RabbitMQ (Debian), as the `rabbitmq` user, data in `<stateDir>/rabbit`: the
//     AMQP port is 5672 whatever the configuration (libraries/pulse fixes it), so each fixture
//     binds an address of its own, 127.0.0.N (N free at start), and two fixtures on one machine
//     do not clash;
//   - s3rver (npm) for `s3` artifacts, buckets public-bucket and private-bucket;
//   - the five web services, `node services/<service>/src/main.js server`, on free ports, behind
//     one root-URL proxy (`/api/<service>/` → its port; the Host header is kept, Hawk signs it);
//     more routes can be added (options.routes, addRoutes());
//   - once queue-web is up (it declares the exchanges): the index's `handlers` (indexes routes
//     on completion; waited for until its AMQP queue has a consumer), the queue's
//     `dependency-resolver`, `claim-resolver` and `deadline-resolver`;
//   - extra processes given in options.services (or startProcess() later), with the services'
//     environment (`env`).
// The `anonymous` role holds `queue:get-artifact:public/*`, as a real deployment configures it.
//
// Stopping: stop() ends every group (PostgreSQL with a fast shutdown, the others with SIGTERM,
// SIGKILL after 10 s) and removes the state folder. A watchdog (a `sh` reading a pipe from the
// owning process; detached, so Ctrl-C on the terminal does not end it first) kills every
// recorded group and removes the folder when the owner dies without stopping them (SIGKILL,
// a crash). A start that fails half-way stops what it started before it throws.
//
// This file imports only Node's modules and taskcluster-client, so that Node runs it as it is
// (type stripping), outside vitest: the kill test starts a fixture in a child process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const upstreamTaskcluster = process.env.TC_PROMOTE_UPSTREAM_TASKCLUSTER ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/upstream/taskcluster');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pgBin = '/usr/lib/postgresql/15/bin';
const rabbitBin = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const coreServices = ['auth', 'queue', 'hooks', 'index', 'secrets'] as const;
/** The static clients the services expect (services/*\/src/static-scopes.json): exactly these. */
const staticClients = ['built-in-workers', 'github', 'hooks', 'index', 'notify', 'object', 'purge-cache', 'queue', 'secrets', 'web-server', 'worker-manager', 'root'];
const dbUsers: Record<string, string> = { auth: 'auth', github: 'github', hooks: 'hooks', index: 'index', notify: 'notify', object: 'object', purge_cache: 'purge_cache', queue: 'queue', secrets: 'secrets', web_server: 'web_server', worker_manager: 'worker_manager' };

export interface Credentials {
  clientId: string;
  accessToken: string;
}

export interface ExtraService {
  /** A name for its log (`<stateDir>/logs/<name>.log`) and its entry in `pids`. */
  name: string;
  /** argv; a leading `node` is this Node. Run in `cwd` (default: the Taskcluster copy). */
  command: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Resolves once it is ready (default: at once). */
  ready?: (tc: RealTaskcluster) => Promise<void>;
}

export interface RealTaskclusterOptions {
  /** Where data, logs and `pids` go (default: a new folder under the OS temp folder). Removed by stop(). */
  stateDir?: string;
  /** A watchdog tied to this process (default true). The shared fixture's is the global setup's. */
  watchdog?: boolean;
  /** The index handlers and the queue's resolvers (default true). */
  background?: boolean;
  /** Extra root-URL proxy routes: path prefix → loopback port (e.g. `{ '/graphql': 3050 }`). */
  routes?: Record<string, number>;
  /** Extra processes, started after the services with their environment (e.g. web-server). */
  services?: ExtraService[];
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** The `anonymous` role's scopes (default: Firefox-CI's, from the reference fxci-config's grants.d). */
  anonymousScopes?: string[];
  /** Tests only: fail the start right after this step (e.g. 'rabbitmq'), to prove it cleans up. */
  failAfter?: string;
}

export interface RealTaskcluster {
  rootUrl: string;
  /** static/taskcluster/root: holds `*`. */
  rootCredentials: Credentials;
  /** The environment every service runs with (TASKCLUSTER_ROOT_URL, *_DB_URL, PULSE_*, STATIC_CLIENTS, …). */
  env: Record<string, string>;
  /** The copy of ../shared/upstream/taskcluster the services run from (installed, shared by fixtures: do not write). */
  tcDir: string;
  /** The loopback address RabbitMQ (AMQP 5672), PostgreSQL and epmd listen on. */
  pulseHost: string;
  pulse: { hostname: string; port: number; username: string; password: string; vhost: string; url: string };
  /** postgresql://postgres@… of the fresh database `taskcluster`. */
  adminDbUrl: string;
  s3Url: string;
  stateDir: string;
  /** Loopback port of every process that has one (proxy, auth, …, postgres, s3rver). */
  ports: Record<string, number>;
  /** Seconds each step took (install, postgres, db-upgrade, rabbitmq, services, background, total). */
  timings: Record<string, number>;
  /** Whether this start installed the node_modules (an empty cache). */
  installedNow: boolean;
  /** The processes of the fixture: name → pid (each leads its process group). */
  processes(): Record<string, number>;
  /** Start one more process under the fixture's supervision (stopped with it). */
  startProcess(service: ExtraService): Promise<number>;
  /** Add root-URL proxy routes (path prefix → loopback port); the proxy reads them at once. */
  addRoutes(routes: Record<string, number>): void;
  /** A process's log so far. */
  log(name: string): string;
  /** Resident memory of every process of the fixture, MiB. */
  memoryMiB(): number;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const token = (): string => randomBytes(33).toString('base64url');
const isRoot = process.getuid?.() === 0;

// ---------------------------------------------------------------------------------------------
// The cached install: a copy of the upstream folder with node_modules, keyed by its yarn.lock.

function cacheRoot(): string {
  return process.env.TC_PROMOTE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tc-promote');
}

function installKey(src: string): string {
  const hash = createHash('sha256');
  for (const file of ['yarn.lock', 'clients/client/yarn.lock', 'package.json', 'clients/client/package.json']) {
    const full = path.join(src, file);
    if (existsSync(full)) hash.update(file).update(readFileSync(full));
  }
  return hash.digest('hex').slice(0, 16);
}

function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name === 'node_modules' || name === '.installed') continue;
      const full = path.join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else hash.update(path.relative(dir, full)).update('\0').update(readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The installed copy (`<cache>/taskcluster-<key of yarn.lock>`), installed now when missing:
 * yarn 4 from the folder (`.yarn/releases`), `workspaces focus --all --production` in
 * clients/client and at the root, no scripts, the node-modules linker. One process installs; a
 * second one waits for it (a lock folder holding the installer's pid).
 */
export async function ensureTaskclusterInstall(log: (line: string) => void = () => undefined): Promise<{ dir: string; installedNow: boolean; seconds: number }> {
  const started = Date.now();
  const src = upstreamTaskcluster;
  if (!existsSync(path.join(src, 'yarn.lock'))) throw new Error(`no Taskcluster at ${src} (TC_PROMOTE_UPSTREAM_TASKCLUSTER)`);
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });
  const dir = path.join(root, `taskcluster-${installKey(src)}`);
  const stamp = path.join(dir, '.installed');
  const srcTree = treeHash(src);
  const lock = `${dir}.lock`;
  for (;;) {
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === srcTree) return { dir, installedNow: false, seconds: (Date.now() - started) / 1000 };
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
    } catch {
      const owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8').trim() || '0');
      if (owner && !pidAlive(owner)) rmSync(lock, { recursive: true, force: true });
      else await sleep(500);
      continue;
    }
    try {
      if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === srcTree) continue;
      log(`installing Taskcluster's node_modules into ${dir} (yarn 4, once per yarn.lock)`);
      const hadModules = existsSync(path.join(dir, 'node_modules'));
      // The sources: copied afresh (they are small); node_modules kept when the key matches.
      if (existsSync(dir)) for (const name of readdirSync(dir)) if (name !== 'node_modules') rmSync(path.join(dir, name), { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const name of readdirSync(src)) execFileSync('cp', ['-R', '--no-preserve=mode,ownership', path.join(src, name), dir]);
      execFileSync('chmod', ['-R', 'u+w', dir]);
      const yarn = path.join(dir, '.yarn/releases/yarn-4.18.0.cjs');
      // The machine's environment (its CA bundle: NODE_EXTRA_CA_CERTS), the npm registry (the
      // one this machine reaches; yarn's default is registry.yarnpkg.com, a mirror of it).
      const env = {
        ...process.env,
        PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        YARN_NPM_REGISTRY_SERVER: process.env.YARN_NPM_REGISTRY_SERVER ?? 'https://registry.npmjs.org',
        YARN_ENABLE_TELEMETRY: '0',
        YARN_ENABLE_GLOBAL_CACHE: 'false',
        YARN_CACHE_FOLDER: path.join(root, 'yarn-cache'),
        YARN_ENABLE_PROGRESS_BARS: 'false',
        YARN_ENABLE_INLINE_BUILDS: 'false',
        CI: 'true',
      };
      const run = (cwd: string, extra: Record<string, string>) => {
        try {
          execFileSync(process.execPath, [yarn, 'workspaces', 'focus', '--all', '--production'], { cwd, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
        } catch (error) {
          const e = error as { stdout?: Buffer; stderr?: Buffer; message: string };
          throw new Error(`yarn in ${cwd} failed: ${e.message}\n${String(e.stdout ?? '').slice(-3000)}${String(e.stderr ?? '').slice(-2000)}`);
        }
      };
      run(path.join(dir, 'clients/client'), { YARN_YARN_PATH: yarn, YARN_NODE_LINKER: 'node-modules', YARN_ENABLE_SCRIPTS: 'false' });
      run(dir, {});
      writeFileSync(stamp, `${srcTree}\n`);
      log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s${hadModules ? ' (node_modules were there)' : ''}`);
      return { dir, installedNow: true, seconds: (Date.now() - started) / 1000 };
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ports and addresses.

async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** 127.0.0.N (N in 2..254) on which nothing listens on 5672, PostgreSQL's or anything else. */
async function freeLoopbackAddress(): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const host = `127.0.0.${2 + Math.floor(Math.random() * 253)}`;
    if ((await canBind(host, 5672)) && !(await connects(host, 5672))) return host;
  }
  throw new Error('no loopback address 127.0.0.N with port 5672 free');
}

// ---------------------------------------------------------------------------------------------
// Processes: each in its own group, recorded in <stateDir>/pids before anything else.

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} (is the Debian package installed? bash scripts/test.sh installs it)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, user: string): void {
  if (!isRoot) return;
  execFileSync('chown', ['-R', `${user}:`, dir]);
}

/** Every process whose process group is one of `groups` (from /proc). */
export function processesInGroups(groups: number[]): { pid: number; pgid: number; command: string }[] {
  const wanted = new Set(groups);
  const found: { pid: number; pgid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgid = Number(fields[2]);
      if (fields[0] === 'Z' || !wanted.has(pgid)) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(name), pgid, command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Every process whose command line mentions `text` (the leftover check of the tests). */
export function processesMentioning(text: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const state = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (state.slice(state.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (command.includes(text)) found.push({ pid: Number(name), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function recordedGroups(stateDir: string): { pid: number; name: string }[] {
  const file = path.join(stateDir, 'pids');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, name] = line.split(' ');
      return { pid: Number(pid), name: name ?? '?' };
    });
}

/**
 * Stop every group recorded in `<stateDir>/pids`: PostgreSQL with SIGINT (fast shutdown), the
 * others with SIGTERM, newest first; SIGKILL for what is left after `graceMs`; then the folder.
 */
export async function stopRecorded(stateDir: string, graceMs = 10_000): Promise<void> {
  const groups = recordedGroups(stateDir).reverse();
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // gone
    }
  };
  // The clients first (services, proxy), then RabbitMQ and PostgreSQL, then epmd.
  const order = (name: string) => (name === 'epmd' ? 3 : name === 'postgres' ? 2 : name === 'rabbitmq' ? 1 : 0);
  for (const rank of [0, 1, 2, 3]) {
    const these = groups.filter((g) => order(g.name) === rank);
    for (const g of these) signal(g.pid, g.name === 'postgres' ? 'SIGINT' : 'SIGTERM');
    const until = Date.now() + graceMs;
    while (processesInGroups(these.map((g) => g.pid)).length > 0 && Date.now() < until) await sleep(50);
    for (const g of these) signal(g.pid, 'SIGKILL');
  }
  const until = Date.now() + 5000;
  while (processesInGroups(groups.map((g) => g.pid)).length > 0 && Date.now() < until) await sleep(50);
  rmSync(stateDir, { recursive: true, force: true });
}

/**
 * A watchdog for `stateDir`: a detached `sh` that waits on a pipe from this process; when the
 * pipe ends (this process died, or released it), it kills every recorded group and removes
 * the folder. Returned: release (the caller stopped everything itself).
 */
export function startWatchdog(stateDir: string): { pid: number; release(): void } {
  const script = [
    'read -r _',
    'f="$1/pids"',
    'if [ -f "$f" ]; then',
    '  while read -r pid name; do kill -TERM "-$pid" 2>/dev/null; done < "$f"',
    '  sleep 3',
    '  while read -r pid name; do kill -KILL "-$pid" 2>/dev/null; done < "$f"',
    'fi',
    'rm -rf -- "$1"',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script, 'tc-promote-real-taskcluster-watchdog', stateDir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    pid: child.pid ?? 0,
    release() {
      // Everything is stopped already: the watchdog has nothing left to do.
      child.kill('SIGKILL');
    },
  };
}

interface Spawned {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function spawnRecorded(stateDir: string, name: string, command: string[], options: { env: Record<string, string>; cwd: string; user?: string; awaited?: boolean }): Spawned {
  const logFile = path.join(stateDir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  let [program, ...args] = command;
  if (program === 'node') program = process.execPath;
  if (options.user && isRoot) {
    const { uid, gid } = userIds(options.user);
    args = [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', program!, ...args];
    program = 'setpriv';
  }
  const child = spawn(program!, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${name} (${command.join(' ')})`);
  appendFileSync(path.join(stateDir, 'pids'), `${child.pid} ${name}\n`);
  // A long-running process does not keep this one alive (the shared fixture outlives the test
  // file that started it); one whose end is awaited does.
  if (!options.awaited) child.unref();
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null)));
    child.on('error', () => resolve(-1));
  });
  return { name, child, exited };
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => !l.includes('DEP0')).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Wait until `check` is true, failing at once when `proc` ends, or after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms: number, proc?: Spawned, logFile?: string): Promise<void> {
  let ended: number | null | undefined;
  void proc?.exited.then((code) => (ended = code));
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (ended !== undefined) throw new Error(`${what}: ${proc!.name} ended (exit ${ended}) before it was ready:\n${tail(logFile ?? '')}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${ms / 1000} s:\n${tail(logFile ?? '')}`);
    await sleep(100);
  }
}

async function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 300);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

// The root-URL proxy: a plain Node program (it outlives the test file that started it).
const proxyProgram = String.raw`
import http from 'node:http';
import net from 'node:net';
import { readFileSync, statSync } from 'node:fs';
const file = process.argv[2];
let routes = {}, mtime = 0;
const load = () => { try { const m = statSync(file).mtimeMs; if (m !== mtime) { routes = JSON.parse(readFileSync(file, 'utf8')); mtime = m; } } catch {} };
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const server = http.createServer((req, res) => {
  load();
  const m = /^\/api\/([a-z-]+)\//.exec(req.url);
  let port = m && routes['/api/' + m[1] + '/'];
  if (!port) { const prefix = Object.keys(routes).filter((p) => req.url.startsWith(p)).sort((a, b) => b.length - a.length)[0]; port = prefix && routes[prefix]; }
  if (!port) { res.writeHead(404, { 'content-type': 'application/json' }); return res.end(JSON.stringify({ code: 'ResourceNotFound', message: 'no such service: ' + req.url })); }
  const up = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent }, (ures) => { res.writeHead(ures.statusCode, ures.headers); ures.pipe(res); });
  up.on('error', (err) => { if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }); res.end(JSON.stringify({ code: 'ProxyError', message: 'root-url proxy: ' + err.message })); });
  req.pipe(up);
});
// WebSocket upgrades (web-server's /subscription, for the UI: taskcluster-ui.ts): the request
// line and headers, then bytes both ways.
server.on('upgrade', (req, socket, head) => {
  load();
  const prefix = Object.keys(routes).filter((p) => req.url.startsWith(p)).sort((a, b) => b.length - a.length)[0];
  const port = prefix && routes[prefix];
  if (!port) return socket.destroy();
  const up = net.connect(port, '127.0.0.1', () => {
    up.write(req.method + ' ' + req.url + ' HTTP/1.1\r\n' + Object.entries(req.headersDistinct).flatMap(([k, vs]) => vs.map((v) => k + ': ' + v)).join('\r\n') + '\r\n\r\n');
    if (head.length) up.write(head);
    up.pipe(socket); socket.pipe(up);
  });
  up.on('error', () => socket.destroy()); socket.on('error', () => up.destroy());
});
server.listen(Number(process.argv[3]), '127.0.0.1', () => console.log('root-url proxy on ' + process.argv[3]));
process.on('SIGTERM', () => process.exit(0));
`;

// ---------------------------------------------------------------------------------------------

export async function startRealTaskcluster(options: RealTaskclusterOptions = {}): Promise<RealTaskcluster> {
  const log = options.log ?? (() => undefined);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (step: string, since: number) => {
    timings[step] = Math.round((Date.now() - since) / 100) / 10;
    log(`${step}: ${timings[step]} s`);
    if (options.failAfter === step) throw new Error(`failAfter ${step} (a test's half-way failure)`);
  };
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'tc-promote-realtc-'));
  mkdirSync(path.join(stateDir, 'logs'), { recursive: true });
  chmodSync(stateDir, 0o755);
  const watchdog = options.watchdog === false ? undefined : startWatchdog(stateDir);
  const stop = async () => {
    await stopRecorded(stateDir);
    watchdog?.release();
  };
  try {
    return await start(options, stateDir, timings, mark, t0, log, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

async function start(options: RealTaskclusterOptions, stateDir: string, timings: Record<string, number>, mark: (step: string, since: number) => void, t0: number, log: (line: string) => void, stop: () => Promise<void>): Promise<RealTaskcluster> {
  const host = await freeLoopbackAddress();
  const procs = new Map<string, Spawned>();
  const baseEnv = { PATH: `${path.dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`, LANG: 'C.UTF-8' };
  const logOf = (name: string) => path.join(stateDir, 'logs', `${name}.log`);
  const run = (name: string, command: string[], o: { env: Record<string, string>; cwd: string; user?: string; awaited?: boolean }) => {
    const p = spawnRecorded(stateDir, name, command, o);
    procs.set(name, p);
    return p;
  };

  // PostgreSQL (its initdb and start overlap the install).
  const pgPort = await freePort(host);
  const pgData = path.join(stateDir, 'pgdata');
  const pgSock = path.join(stateDir, 'pgsock');
  mkdirSync(pgData, { mode: 0o700 });
  mkdirSync(pgSock);
  chownTree(pgData, 'postgres');
  chownTree(pgSock, 'postgres');
  const pgStarted = Date.now();
  const postgres = (async () => {
    const init = run('initdb', [`${pgBin}/initdb`, '-D', pgData, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C.UTF-8', '--locale-provider=icu', '--icu-locale=en-US'], { env: baseEnv, cwd: stateDir, user: 'postgres', awaited: true });
    if ((await init.exited) !== 0) throw new Error(`initdb failed:\n${tail(logOf('initdb'))}`);
    const pg = run('postgres', [`${pgBin}/postgres`, '-D', pgData, '-p', String(pgPort), '-k', pgSock, '-c', `listen_addresses=${host}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'], { env: baseEnv, cwd: stateDir, user: 'postgres' });
    await until('postgres', async () => connects(host, pgPort), 30_000, pg, logOf('postgres'));
    // accepting TCP is not accepting queries yet: psql until it answers
    await until('postgres', async () => {
      try {
        execFileSync('psql', ['-h', host, '-p', String(pgPort), '-U', 'postgres', '-Atc', 'select 1'], { stdio: 'ignore', env: baseEnv });
        return true;
      } catch {
        return false;
      }
    }, 30_000, pg, logOf('postgres'));
  })();

  // RabbitMQ, with its own epmd on a free port.
  const rabbitDir = path.join(stateDir, 'rabbit');
  mkdirSync(path.join(rabbitDir, 'mnesia'), { recursive: true });
  mkdirSync(path.join(rabbitDir, 'log'));
  const pulse = { hostname: host, port: 5672, username: 'tc', password: token(), vhost: 'local', url: '' };
  pulse.url = `amqp://${pulse.username}:${pulse.password}@${host}:5672/${pulse.vhost}`;
  writeFileSync(path.join(rabbitDir, 'rabbitmq.conf'), [
    `listeners.tcp.default = ${host}:5672`,
    `default_vhost = ${pulse.vhost}`,
    `default_user = ${pulse.username}`,
    `default_pass = ${pulse.password}`,
    'default_permissions.configure = .*',
    'default_permissions.read = .*',
    'default_permissions.write = .*',
    'loopback_users = none',
    `distribution.listener.interface = ${host}`,
    'log.console = false',
    'log.file.level = warning',
    '',
  ].join('\n'));
  writeFileSync(path.join(rabbitDir, 'enabled_plugins'), '[].\n');
  writeFileSync(path.join(rabbitDir, 'rabbitmq-env.conf'), '');
  chownTree(rabbitDir, 'rabbitmq');
  const epmdPort = await freePort('127.0.0.1');
  const distPort = await freePort(host);
  const rabbitStarted = Date.now();
  const rabbitmq = (async () => {
    const epmd = run('epmd', ['epmd', '-port', String(epmdPort), '-address', '127.0.0.1'], { env: baseEnv, cwd: rabbitDir, user: 'rabbitmq' });
    await until('epmd', async () => connects('127.0.0.1', epmdPort), 10_000, epmd, logOf('epmd'));
    const rabbitEnv = {
      ...baseEnv,
      HOME: rabbitDir,
      ERL_EPMD_PORT: String(epmdPort),
      RABBITMQ_CONF_ENV_FILE: path.join(rabbitDir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(rabbitDir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(rabbitDir, 'advanced.config'),
      RABBITMQ_MNESIA_BASE: path.join(rabbitDir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(rabbitDir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(rabbitDir, 'enabled_plugins'),
      RABBITMQ_PLUGINS_EXPAND_DIR: path.join(rabbitDir, 'plugins-expand'),
      RABBITMQ_PID_FILE: path.join(rabbitDir, 'rabbit.pid'),
      RABBITMQ_NODENAME: `tcpromote${process.pid}x${randomBytes(3).toString('hex')}@localhost`,
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false',
    };
    const rabbit = run('rabbitmq', [rabbitBin], { env: rabbitEnv, cwd: rabbitDir, user: 'rabbitmq' });
    await until('rabbitmq', async () => connects(host, 5672), 90_000, rabbit, path.join(rabbitDir, 'log', `${rabbitEnv.RABBITMQ_NODENAME}.log`));
  })();
  postgres.catch(() => undefined);
  rabbitmq.catch(() => undefined);

  // The install (cached), meanwhile.
  const installStarted = Date.now();
  const install = await ensureTaskclusterInstall(log);
  const tcDir = install.dir;
  mark('install', installStarted);

  await postgres;
  mark('postgres', pgStarted);
  const adminDbUrl = `postgresql://postgres@${host}:${pgPort}/taskcluster`;
  const dbStarted = Date.now();
  const initSql = readFileSync(path.join(tcDir, 'recipe/db-init.sql'), 'utf8');
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(pgPort), '-U', 'postgres', '-d', 'postgres'], { input: initSql, env: baseEnv, stdio: ['pipe', 'ignore', 'pipe'] });
  const upgrade = run('db-upgrade', ['node', 'db/src/main.js', 'upgrade'], { env: { ...baseEnv, ADMIN_DB_URL: adminDbUrl, USERNAME_PREFIX: 'taskcluster' }, cwd: tcDir, awaited: true });
  if ((await upgrade.exited) !== 0) throw new Error(`db upgrade failed:\n${tail(logOf('db-upgrade'))}`);
  mark('db-upgrade', dbStarted);
  await rabbitmq;
  mark('rabbitmq', rabbitStarted);

  // s3rver and the root-URL proxy.
  const s3Port = await freePort();
  const s3Dir = path.join(stateDir, 's3');
  mkdirSync(s3Dir);
  const s3 = run('s3rver', ['node', path.join(repoRoot, 'node_modules/s3rver/bin/s3rver.js'), '--directory', s3Dir, '--address', '127.0.0.1', '--port', String(s3Port), '--configure-bucket', 'public-bucket', '--configure-bucket', 'private-bucket', '--silent'], { env: baseEnv, cwd: stateDir });
  const s3Url = `http://127.0.0.1:${s3Port}`;
  const proxyPort = await freePort();
  const rootUrl = `http://127.0.0.1:${proxyPort}`;
  const routesFile = path.join(stateDir, 'routes.json');
  const ports: Record<string, number> = { proxy: proxyPort, postgres: pgPort, s3rver: s3Port, epmd: epmdPort };
  const routes: Record<string, number> = {};
  const writeRoutes = () => {
    const tmp = `${routesFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(routes));
    renameSync(tmp, routesFile);
  };
  for (const service of coreServices) {
    ports[service] = await freePort();
    routes[`/api/${service}/`] = ports[service]!;
  }
  Object.assign(routes, options.routes ?? {});
  writeRoutes();
  const proxyFile = path.join(stateDir, 'root-url-proxy.mjs');
  writeFileSync(proxyFile, proxyProgram);
  const proxy = run('proxy', ['node', proxyFile, routesFile, String(proxyPort)], { env: baseEnv, cwd: stateDir });

  // The services.
  const servicesStarted = Date.now();
  const tokens = Object.fromEntries(staticClients.map((c) => [c, token()]));
  const rootCredentials = { clientId: 'static/taskcluster/root', accessToken: tokens.root! };
  const dbUrl = (service: string) => {
    const user = dbUsers[service.replace('-', '_')];
    return user ? `postgresql://taskcluster_${user}@${host}:${pgPort}/taskcluster` : adminDbUrl;
  };
  const env: Record<string, string> = {
    ...baseEnv,
    TASKCLUSTER_ROOT_URL: rootUrl,
    READ_DB_URL: adminDbUrl,
    WRITE_DB_URL: adminDbUrl,
    DB_CRYPTO_KEYS: JSON.stringify([{ id: 'tc-promote-test', algo: 'aes-256', key: randomBytes(32).toString('base64') }]),
    PULSE_USERNAME: pulse.username,
    PULSE_PASSWORD: pulse.password,
    PULSE_HOSTNAME: host,
    PULSE_VHOST: pulse.vhost,
    PULSE_AMQPS: 'false',
    STATIC_CLIENTS: JSON.stringify(staticClients.map((c) => ({ clientId: `static/taskcluster/${c}`, accessToken: tokens[c] }))),
    NODE_ENV: 'development',
    FORCE_SSL: 'false',
    TRUST_PROXY: 'true',
    LEVEL: process.env.TC_PROMOTE_REAL_TC_LEVEL ?? 'notice',
    NODE_OPTIONS: '--no-deprecation',
  };
  const serviceEnv = (service: string): Record<string, string> => ({
    ...env,
    READ_DB_URL: dbUrl(service),
    WRITE_DB_URL: dbUrl(service),
    ...(service !== 'auth' && { TASKCLUSTER_CLIENT_ID: `static/taskcluster/${service}`, TASKCLUSTER_ACCESS_TOKEN: tokens[service]! }),
    ...(service === 'queue' && {
      PUBLIC_ARTIFACT_BUCKET: 'public-bucket',
      PRIVATE_ARTIFACT_BUCKET: 'private-bucket',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      ARTIFACT_REGION: 'local',
      AWS_ENDPOINT: `${s3Url}/`,
      AWS_FORCE_PATH_STYLE: 'true',
      AWS_SKIP_CORS_CONFIGURATION: 'true',
    }),
  });
  for (const service of coreServices) run(service, ['node', `services/${service}/src/main.js`, 'server'], { env: { ...serviceEnv(service), PORT: String(ports[service]) }, cwd: tcDir });
  await until('s3rver', () => httpOk(`${s3Url}/public-bucket`), 30_000, s3, logOf('s3rver'));
  await until('root-url proxy', () => connects('127.0.0.1', proxyPort), 10_000, proxy, logOf('proxy'));
  for (const service of coreServices) await until(service, () => httpOk(`${rootUrl}/api/${service}/v1/ping`), 120_000, procs.get(service), logOf(service));
  mark('services', servicesStarted);

  if (options.background !== false) {
    const bgStarted = Date.now();
    run('index-handlers', ['node', 'services/index/src/main.js', 'handlers'], { env: { ...serviceEnv('index'), PORT: '0' }, cwd: tcDir });
    for (const resolver of ['dependency-resolver', 'claim-resolver', 'deadline-resolver']) run(`queue-${resolver}`, ['node', 'services/queue/src/main.js', resolver], { env: { ...serviceEnv('queue'), PORT: '0' }, cwd: tcDir });
    // Completions before the handler's queue has a consumer would never be indexed: wait for it.
    const wait = run('wait-consumer', ['node', 'recipe/wait-consumer.cjs', pulse.url, 'queue/taskcluster-index/index/incoming-tasks2', '60'], { env: { ...baseEnv, NODE_PATH: path.join(tcDir, 'node_modules') }, cwd: tcDir, awaited: true });
    const code = await wait.exited;
    if (code !== 0) throw new Error(`index handlers not consuming:\n${tail(logOf('wait-consumer'))}\n${tail(logOf('index-handlers'))}`);
    for (const name of ['index-handlers', 'queue-dependency-resolver', 'queue-claim-resolver', 'queue-deadline-resolver']) if (procs.get(name)!.child.exitCode !== null) throw new Error(`${name} ended:\n${tail(logOf(name))}`);
    mark('background', bgStarted);
  }

  // The anonymous role of a real deployment (every client holds it too): Firefox-CI's public reads.
  const { default: taskcluster } = await import('taskcluster-client');
  const auth = new taskcluster.Auth({ rootUrl, credentials: rootCredentials, retries: 2 }) as unknown as { createRole(id: string, role: object): Promise<unknown>; updateRole(id: string, role: object): Promise<unknown> };
  const anonymous = { description: "what anyone may do: Firefox-CI's anonymous role (fxci-config grants.d)", scopes: options.anonymousScopes ?? (await firefoxCiAnonymousScopes()) };
  await auth.createRole('anonymous', anonymous).catch(async (error: { statusCode?: number }) => {
    if (error.statusCode === 409) await auth.updateRole('anonymous', anonymous);
    else throw error;
  });

  const processes = (): Record<string, number> => Object.fromEntries(recordedGroups(stateDir).map((g) => [g.name, g.pid]));
  const tc: RealTaskcluster = {
    rootUrl,
    rootCredentials,
    env,
    tcDir,
    pulseHost: host,
    pulse,
    adminDbUrl,
    s3Url,
    stateDir,
    ports,
    timings,
    installedNow: install.installedNow,
    processes,
    async startProcess(service) {
      const p = run(service.name, service.command, { env: { ...env, ...service.env }, cwd: service.cwd ?? tcDir });
      await service.ready?.(tc);
      if (p.child.exitCode !== null) throw new Error(`${service.name} ended (exit ${p.child.exitCode}):\n${tail(logOf(service.name))}`);
      return p.child.pid!;
    },
    addRoutes(extra) {
      Object.assign(routes, extra);
      writeRoutes();
    },
    log: (name) => (existsSync(logOf(name)) ? readFileSync(logOf(name), 'utf8') : ''),
    memoryMiB: () => memoryOf(recordedGroups(stateDir).map((g) => g.pid)),
    stop,
  };
  for (const service of options.services ?? []) await tc.startProcess(service);
  mark('total', t0);
  return tc;
}

export const referenceFxciConfig = path.resolve(upstreamTaskcluster, '../../reference/fxci-config');

/** The scopes fxci-config's grants give the `anonymous` role (grants.d, `to: [{roles: [anonymous]}]`). */
export async function firefoxCiAnonymousScopes(fxciDir = referenceFxciConfig): Promise<string[]> {
  const { load } = await import('js-yaml');
  const scopes: string[] = [];
  const dir = path.join(fxciDir, 'grants.d');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yml')).sort()) {
    for (const grant of (load(readFileSync(path.join(dir, file), 'utf8')) as { grant: string[]; to: Record<string, unknown>[] }[] | null) ?? []) {
      const toAnonymous = grant.to.some((to) => [to.roles, to.role].flat().includes('anonymous'));
      if (toAnonymous) for (const scope of grant.grant) if (!scopes.includes(scope)) scopes.push(scope);
    }
  }
  if (!scopes.includes('queue:get-artifact:public/*')) throw new Error(`no anonymous grant with queue:get-artifact:public/* in ${dir}`);
  return scopes;
}

/** Resident memory (VmRSS) of every process in these groups, MiB. */
export function memoryOf(groups: number[]): number {
  let kib = 0;
  for (const p of processesInGroups(groups)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return Math.round(kib / 1024);
}

// ---------------------------------------------------------------------------------------------
// The shared fixture of a vitest run: started by the first test file that asks for it (so a run
// without real-Taskcluster tests pays nothing), reused by the others, stopped by the global
// teardown (test/support/real-taskcluster.global.ts, whose watchdog is on vitest's main process).

/** The opt-out: locally only, never in CI, and never silently (the global setup says so). */
export function realTaskclusterSkipped(): string | undefined {
  if (process.env.TC_PROMOTE_SKIP_REAL_TASKCLUSTER !== '1') return undefined;
  if (process.env.CI === 'true') throw new Error('TC_PROMOTE_SKIP_REAL_TASKCLUSTER=1 is refused in CI: the real-Taskcluster tests must run there');
  return 'TC_PROMOTE_SKIP_REAL_TASKCLUSTER=1: the tests on the real Taskcluster services are skipped';
}

type SharedState = Omit<RealTaskcluster, 'processes' | 'startProcess' | 'addRoutes' | 'log' | 'memoryMiB' | 'stop'>;

function handleOf(state: SharedState): RealTaskcluster {
  const logOf = (name: string) => path.join(state.stateDir, 'logs', `${name}.log`);
  const routesFile = path.join(state.stateDir, 'routes.json');
  const tc: RealTaskcluster = {
    ...state,
    processes: () => Object.fromEntries(recordedGroups(state.stateDir).map((g) => [g.name, g.pid])),
    async startProcess(service) {
      const p = spawnRecorded(state.stateDir, service.name, service.command, { env: { ...state.env, ...service.env }, cwd: service.cwd ?? state.tcDir });
      await service.ready?.(tc);
      if (p.child.exitCode !== null) throw new Error(`${service.name} ended (exit ${p.child.exitCode}):\n${tail(logOf(service.name))}`);
      return p.child.pid!;
    },
    addRoutes(extra) {
      const routes = { ...JSON.parse(readFileSync(routesFile, 'utf8')), ...extra };
      writeFileSync(`${routesFile}.tmp`, JSON.stringify(routes));
      renameSync(`${routesFile}.tmp`, routesFile);
    },
    log: (name) => (existsSync(logOf(name)) ? readFileSync(logOf(name), 'utf8') : ''),
    memoryMiB: () => memoryOf(recordedGroups(state.stateDir).map((g) => g.pid)),
    // The global teardown stops the shared fixture; a test file must not.
    stop: async () => undefined,
  };
  return tc;
}

let shared: Promise<RealTaskcluster> | undefined;

export function sharedRealTaskcluster(): Promise<RealTaskcluster> {
  shared ??= openShared();
  return shared;
}

async function openShared(): Promise<RealTaskcluster> {
  const dir = process.env.TC_PROMOTE_REAL_TC_SHARED;
  if (!dir) throw new Error('sharedRealTaskcluster: no TC_PROMOTE_REAL_TC_SHARED (the global setup test/support/real-taskcluster.global.ts sets it; outside vitest use startRealTaskcluster)');
  const readyFile = path.join(dir, 'ready.json');
  const failedFile = path.join(dir, 'failed.txt');
  const lock = path.join(dir, 'starting');
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    if (existsSync(readyFile)) return handleOf(JSON.parse(readFileSync(readyFile, 'utf8')) as SharedState);
    if (existsSync(failedFile)) throw new Error(`the shared real Taskcluster failed to start (in another test file):\n${readFileSync(failedFile, 'utf8')}`);
    try {
      mkdirSync(lock);
    } catch {
      const owner = Number(existsSync(path.join(lock, 'pid')) ? readFileSync(path.join(lock, 'pid'), 'utf8') : '0');
      if (owner && !pidAlive(owner) && !existsSync(readyFile)) throw new Error(`the test worker (pid ${owner}) starting the shared real Taskcluster died`);
      if (Date.now() > deadline) throw new Error('the shared real Taskcluster did not start in 15 minutes');
      await sleep(200);
      continue;
    }
    writeFileSync(path.join(lock, 'pid'), String(process.pid));
    const started = Date.now();
    try {
      const tc = await startRealTaskcluster({ stateDir: dir, watchdog: false, log: (line) => process.stderr.write(`[real taskcluster] ${line}\n`) });
      const { processes: _p, startProcess: _s, addRoutes: _a, log: _l, memoryMiB: _m, stop: _st, ...state } = tc;
      writeFileSync(`${readyFile}.tmp`, JSON.stringify(state));
      renameSync(`${readyFile}.tmp`, readyFile);
      process.stderr.write(`[real taskcluster] up at ${tc.rootUrl} in ${((Date.now() - started) / 1000).toFixed(1)} s (${tc.installedNow ? 'cold: node_modules installed now' : 'warm: node_modules cached'}), ${tc.memoryMiB()} MiB\n`);
      return handleOf(state);
    } catch (error) {
      // startRealTaskcluster stopped what it started and removed the folder: say why to the others.
      mkdirSync(dir, { recursive: true });
      writeFileSync(failedFile, String((error as Error).stack ?? error));
      throw error;
    }
  }
}
