// Real-registry test harness: runs the CNCF distribution registry (Debian package
// `docker-registry`, 2.8.x) on a loopback port with its own filesystem storage, in one of
// three auth modes (anonymous, htpasswd basic, bearer token with a local token service).
//
// Usage (vitest):
//   let reg: RunningRegistry;
//   beforeAll(async () => { reg = await startRegistry({ auth: 'token' }); });
//   afterAll(() => reg?.stop());
//
// Every process started here is also killed when the test process exits (exit hook, and
// the kernel's parent-death signal via `setpriv --pdeathsig`, which also covers a worker
// killed with SIGKILL). Temp folders live under /dev/shm (see testTmpBase) and are removed by
// stop(), at exit, or by the next harness process when their owner died.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, closeSync, readFileSync, rmSync, statSync, writeFileSync, readSync, fstatSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type AuthMode = 'anonymous' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth: AuthMode;
  /** Enable the registry's combined-format access log (default true). */
  accessLog?: boolean;
  /** Credentials for 'basic' and 'token' modes (defaults: `tc-promote` / a random password). */
  username?: string;
  password?: string;
  /** Token mode: how the JWT names its signing key (default 'kid'; both are accepted by 2.8). */
  tokenKeyHeader?: 'kid' | 'x5c';
  /** Token mode: signature algorithm (default 'ES256'). */
  tokenAlgorithm?: 'ES256' | 'RS256';
  /** Token mode: token lifetime in seconds (default 300). */
  tokenTtlSeconds?: number;
  /** Milliseconds to wait for `GET /v2/` to answer (default 15000). */
  startTimeoutMs?: number;
}

export interface AccessLogEntry {
  method: string;
  /** Request URI as sent, including the query string. */
  path: string;
  status: number;
  /** Response body size in bytes ('-' in the log becomes 0). */
  bytes: number;
  userAgent: string;
  /** Log timestamp as printed, e.g. `26/Nov/2026:07:03:38 +0000`. */
  time: string;
  raw: string;
}

export interface TokenRequestRecord {
  method: 'GET' | 'POST';
  /** The account that authenticated, or null for anonymous requests. */
  account: string | null;
  /** Requested scopes, as sent. */
  scopes: string[];
  /** Granted access claims (empty when the request was refused). */
  granted: { type: string; name: string; actions: string[] }[];
  status: number;
}

export interface TokenService {
  /** Realm URL the registry advertises in its `WWW-Authenticate: Bearer` challenge. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the certificate the registry trusts (its rootcertbundle). */
  certificatePem: string;
  /** How many requests the token endpoint has answered (any status). */
  tokenRequests(): number;
  /** Details of every token request answered, oldest first. */
  requests(): TokenRequestRecord[];
  /** Reset the request counter and record. */
  reset(): void;
  /** Mint a token directly (bypasses HTTP; not counted). */
  mint(account: string | null, access: { type: string; name: string; actions: string[] }[], ttlSeconds?: number): string;
  stop(): Promise<void>;
}

export interface RegistryFetchOptions {
  /** Do not send credentials (anonymous token in token mode, nothing in basic mode). */
  anonymous?: boolean;
}

export interface RunningRegistry {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `127.0.0.1:PORT` (the docker-reference host, also the key in config.json auths). */
  host: string;
  auth: AuthMode;
  /** Root of the filesystem storage driver (contains `docker/registry/v2/...`). */
  storageDir: string;
  configPath: string;
  username?: string;
  password?: string;
  /** Folder holding config.json (set `DOCKER_CONFIG` to it). Empty `auths` for anonymous. */
  dockerConfigDir: string;
  /** `user:pass` for `skopeo --creds/--src-creds/--dest-creds` (basic and token modes). */
  skopeoCreds?: string;
  /** Token mode only: the token service's realm URL. */
  realm?: string;
  /** Token mode only. */
  token?: TokenService;
  /** Number of requests served by the token service (0 outside token mode). */
  tokenRequests(): number;
  /**
   * Parsed access log lines since the last `clearAccessLog()`. By default it first settles:
   * it sends a sync request (`GET /v2/?tc-harness-sync=N`, filtered from the result) and waits
   * until that line has been written and the log stops growing, so every request whose
   * response the caller has already received is counted.
   */
  accessLog(options?: { settle?: boolean }): Promise<AccessLogEntry[]>;
  /**
   * Forget all lines logged so far (synchronous: marks the current end of the log).
   * If requests may still be in flight, `await reg.accessLog()` first.
   */
  clearAccessLog(): void;
  /** Wait until `predicate(entries)` holds (polling the log), or throw after `timeoutMs`. */
  waitForAccessLog(predicate: (entries: AccessLogEntry[]) => boolean, timeoutMs?: number): Promise<AccessLogEntry[]>;
  /** Path of the file receiving the registry's stdout (access log) and stderr (app log). */
  stdoutPath: string;
  stderrPath: string;
  /**
   * `fetch(url + path)` that answers the registry's 401 challenge the way a docker client
   * does (basic credentials, or a bearer token from the realm). Request bodies must be
   * re-sendable (string / Buffer / Uint8Array).
   */
  fetch(pathAndQuery: string, init?: RequestInit, options?: RegistryFetchOptions): Promise<Response>;
  /** Get a bearer token for `scope` (token mode), as an anonymous or authenticated client. */
  bearerToken(scope: string, options?: RegistryFetchOptions): Promise<string>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// process-wide cleanup

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    for (const dir of liveDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  });
}

/** Register a temp folder to be removed at process exit (used by fixtures.ts too). */
export function registerTempDir(dir: string): void {
  installExitHook();
  liveDirs.add(dir);
}

export function removeTempDir(dir: string): void {
  liveDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

const HAS_SETPRIV = existsSync('/usr/bin/setpriv');

/**
 * Where temp folders go: `TC_PROMOTE_TEST_TMPDIR`, else /dev/shm (tmpfs) when writable, else
 * the OS temp folder. The registry's filesystem storage does many small metadata operations;
 * on this VM's disk writing 2,000 tags takes ~10 s, on tmpfs ~0.2 s.
 */
export function testTmpBase(): string {
  const fromEnv = process.env.TC_PROMOTE_TEST_TMPDIR;
  if (fromEnv) return fromEnv;
  try {
    accessSync('/dev/shm', fsConstants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

const TEMP_PREFIX = 'tc-promote-h';
let swept = false;

/** Remove temp folders left by harness processes that no longer exist (e.g. a killed test worker). */
function sweepStaleTempDirs(base: string): void {
  if (swept) return;
  swept = true;
  let names: string[] = [];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // still alive
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    try {
      rmSync(path.join(base, name), { recursive: true, force: true });
    } catch {
      /* someone else's race */
    }
  }
}

/**
 * Make a temp folder under testTmpBase() (named `tc-promote-h<pid>-<prefix>XXXXXX`), removed by
 * its owner, at process exit, or by the next harness process if this one was killed.
 */
export function makeTempDir(prefix: string): string {
  const base = testTmpBase();
  sweepStaleTempDirs(base);
  const dir = mkdtempSync(path.join(base, `${TEMP_PREFIX}${process.pid}-${prefix}`));
  registerTempDir(dir);
  return dir;
}

// Callbacks run when the last running registry of this process stops (fixtures.ts uses it to
// drop its cached OCI layouts, so nothing is left behind even when the test worker is killed
// rather than exiting normally).
let runningRegistries = 0;
const idleCallbacks = new Set<() => void>();
export function onAllRegistriesStopped(cb: () => void): () => void {
  idleCallbacks.add(cb);
  return () => idleCallbacks.delete(cb);
}
function registryStopped(): void {
  runningRegistries = Math.max(0, runningRegistries - 1);
  if (runningRegistries > 0) return;
  for (const cb of [...idleCallbacks]) {
    idleCallbacks.delete(cb);
    try {
      cb();
    } catch {
      /* best effort */
    }
  }
}

/** Spawn a long-running helper that the kernel kills if this process dies. */
function spawnTracked(cmd: string, args: string[], stdoutFd: number | 'ignore', stderrFd: number | 'ignore'): ChildProcess {
  installExitHook();
  const [file, argv] = HAS_SETPRIV ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { stdio: ['ignore', stdoutFd, stderrFd] });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

// ---------------------------------------------------------------------------------------
// small utilities

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('no port'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

function b64url(buf: Buffer | string): string {
  return Buffer.from(buf).toString('base64url');
}

/** libtrust key id: base32(sha256(DER SubjectPublicKeyInfo)[:30]) in 12 colon-separated groups of 4. */
export function libtrustKeyId(spkiDer: Buffer): string {
  const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  // 240 bits -> exactly 48 characters, no padding
  return out.match(/.{1,4}/g)!.join(':');
}

/** One HTTP GET that does not share keep-alive sockets with anything else. */
function plainGet(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------
// access log

// 127.0.0.1 - - [26/Nov/2026:07:03:38 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"
const COMBINED = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"\s*$/;

export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = COMBINED.exec(line);
    if (!m) continue;
    entries.push({
      method: m[5]!,
      path: m[6]!,
      status: Number(m[8]),
      bytes: m[9] === '-' ? 0 : Number(m[9]),
      userAgent: m[11]!,
      time: m[4]!,
      raw: line,
    });
  }
  return entries;
}

const SYNC_PATH = '/v2/?tc-harness-sync=';

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    // only complete lines
    const text = buf.subarray(0, read).toString('utf8');
    const lastNl = text.lastIndexOf('\n');
    return lastNl < 0 ? '' : text.slice(0, lastNl + 1);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// token service (distribution token auth spec, docs/spec/auth/token.md + oauth.md)

interface TokenServiceOptions {
  dir: string;
  username: string;
  password: string;
  keyHeader: 'kid' | 'x5c';
  algorithm: 'ES256' | 'RS256';
  ttlSeconds: number;
  service: string;
  issuer: string;
}

type Access = { type: string; name: string; actions: string[] };

function parseScope(scope: string): { type: string; name: string; actions: string[] } | null {
  // resourcetype[(class)]:name:actions — the name may itself contain ':' (e.g. a host:port)
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return null;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  return { type, name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

async function startTokenService(opts: TokenServiceOptions): Promise<TokenService> {
  const keyPath = path.join(opts.dir, 'token-key.pem');
  const certPath = path.join(opts.dir, 'token-cert.pem');
  const newkey = opts.algorithm === 'ES256' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync(
    'openssl',
    ['req', '-x509', ...newkey, '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=tc-promote test token issuer', '-sha256'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const certificatePem = readFileSync(certPath, 'utf8');
  const cert = new X509Certificate(certificatePem);
  const privateKey: KeyObject = createPrivateKey(readFileSync(keyPath));
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const kid = libtrustKeyId(spki);
  const refreshTokens = new Map<string, string>(); // refresh token -> account

  let count = 0;
  let records: TokenRequestRecord[] = [];

  function mint(account: string | null, access: Access[], ttl = opts.ttlSeconds): string {
    const header: Record<string, unknown> = { typ: 'JWT', alg: opts.algorithm };
    if (opts.keyHeader === 'kid') header.kid = kid;
    else header.x5c = [cert.raw.toString('base64')];
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: opts.issuer,
      sub: account ?? '',
      aud: opts.service,
      exp: now + ttl,
      nbf: now - 1,
      iat: now,
      jti: randomBytes(16).toString('hex'),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature =
      opts.algorithm === 'ES256'
        ? sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', Buffer.from(signingInput), privateKey);
    return `${signingInput}.${b64url(signature)}`;
  }

  function grant(account: string | null, scopes: string[]): Access[] {
    const granted: Access[] = [];
    for (const s of scopes) {
      for (const one of s.split(' ').filter(Boolean)) {
        const parsed = parseScope(one);
        if (!parsed) continue;
        let allowed: string[];
        if (parsed.type === 'repository') allowed = account ? ['pull', 'push', 'delete', '*'] : ['pull'];
        else if (parsed.type === 'registry' && parsed.name === 'catalog') allowed = account ? ['*'] : [];
        else allowed = [];
        const actions = parsed.actions.filter((a) => allowed.includes(a));
        if (actions.length > 0) granted.push({ type: parsed.type, name: parsed.name, actions });
      }
    }
    return granted;
  }

  function reply(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function unauthorized(res: http.ServerResponse, rec: TokenRequestRecord): void {
    rec.status = 401;
    reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }, {
      'WWW-Authenticate': `Basic realm="${opts.service}"`,
    });
  }

  function issue(res: http.ServerResponse, rec: TokenRequestRecord, account: string | null, scopes: string[], extra: Record<string, unknown> = {}): void {
    const granted = grant(account, scopes);
    rec.granted = granted;
    rec.status = 200;
    const token = mint(account, granted);
    reply(res, 200, { token, access_token: token, expires_in: opts.ttlSeconds, issued_at: new Date().toISOString(), ...extra });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const rec: TokenRequestRecord = { method: req.method === 'POST' ? 'POST' : 'GET', account: null, scopes: [], granted: [], status: 0 };
      records.push(rec);
      if (url.pathname !== '/token') {
        rec.status = 404;
        reply(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'not found' }] });
        return;
      }
      if (req.method === 'GET') {
        rec.scopes = url.searchParams.getAll('scope');
        const service = url.searchParams.get('service');
        if (service !== null && service !== opts.service) {
          rec.status = 400;
          reply(res, 400, { errors: [{ code: 'INVALID_REQUEST', message: `unknown service ${service}` }] });
          return;
        }
        const authz = req.headers.authorization;
        let account: string | null = null;
        if (authz) {
          const m = /^Basic\s+(\S+)$/i.exec(authz);
          const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
          const sep = decoded.indexOf(':');
          const user = sep >= 0 ? decoded.slice(0, sep) : '';
          const pass = sep >= 0 ? decoded.slice(sep + 1) : '';
          if (user !== opts.username || pass !== opts.password) {
            unauthorized(res, rec);
            return;
          }
          account = user;
          rec.account = account;
        }
        const extra: Record<string, unknown> = {};
        if (account && url.searchParams.get('offline_token') === 'true') {
          const rt = randomBytes(24).toString('base64url');
          refreshTokens.set(rt, account);
          extra.refresh_token = rt;
        }
        issue(res, rec, account, rec.scopes, extra);
        return;
      }
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        rec.scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        const grantType = form.get('grant_type');
        let account: string | null = null;
        if (grantType === 'password') {
          if (form.get('username') !== opts.username || form.get('password') !== opts.password) {
            unauthorized(res, rec);
            return;
          }
          account = opts.username;
        } else if (grantType === 'refresh_token') {
          account = refreshTokens.get(form.get('refresh_token') ?? '') ?? null;
          if (!account) {
            unauthorized(res, rec);
            return;
          }
        } else {
          rec.status = 400;
          reply(res, 400, { error: 'unsupported_grant_type' });
          return;
        }
        rec.account = account;
        const extra: Record<string, unknown> = { scope: rec.scopes.join(' ') };
        if (form.get('access_type') === 'offline') {
          const rt = grantType === 'refresh_token' ? form.get('refresh_token')! : randomBytes(24).toString('base64url');
          refreshTokens.set(rt, account);
          extra.refresh_token = rt;
        }
        issue(res, rec, account, rec.scopes, extra);
        return;
      }
      rec.status = 405;
      reply(res, 405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const realm = `http://127.0.0.1:${addr.port}/token`;
  let stopped = false;
  return {
    realm,
    service: opts.service,
    issuer: opts.issuer,
    certificatePem,
    tokenRequests: () => count,
    requests: () => records.slice(),
    reset: () => {
      count = 0;
      records = [];
    },
    mint,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------------------------------
// registry

function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | null {
  if (!header) return null;
  const sp = header.indexOf(' ');
  const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
  const params: Record<string, string> = {};
  const re = /(\w+)="([^"]*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) params[m[1]!.toLowerCase()] = m[2]!;
  return { scheme, params };
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  installExitHook();
  const auth = options.auth;
  const accessLogEnabled = options.accessLog ?? true;
  const root = makeTempDir(`registry-${auth}-`);
  const storageDir = path.join(root, 'storage');
  const dockerConfigDir = path.join(root, 'docker-config');
  mkdirSync(storageDir, { recursive: true });
  mkdirSync(dockerConfigDir, { recursive: true });

  const username = auth === 'anonymous' ? undefined : (options.username ?? 'tc-promote');
  const password = auth === 'anonymous' ? undefined : (options.password ?? `pw-${randomBytes(9).toString('base64url')}`);

  let token: TokenService | undefined;
  let authYaml = '';
  if (auth === 'basic') {
    const htpasswdPath = path.join(root, 'htpasswd');
    // -B bcrypt (the only format distribution accepts), -C 4 keeps verification fast
    const line = execFileSync('htpasswd', ['-Bbn', '-C', '4', username!, password!], { encoding: 'utf8' }).trim();
    writeFileSync(htpasswdPath, line + '\n');
    authYaml = `auth:\n  htpasswd:\n    realm: ${yamlString('tc-promote-test')}\n    path: ${yamlString(htpasswdPath)}\n`;
  } else if (auth === 'token') {
    token = await startTokenService({
      dir: root,
      username: username!,
      password: password!,
      keyHeader: options.tokenKeyHeader ?? 'kid',
      algorithm: options.tokenAlgorithm ?? 'ES256',
      ttlSeconds: options.tokenTtlSeconds ?? 300,
      service: 'tc-promote-test-registry',
      issuer: 'tc-promote-test-issuer',
    });
    const bundle = path.join(root, 'rootcertbundle.pem');
    writeFileSync(bundle, token.certificatePem);
    authYaml =
      `auth:\n  token:\n    realm: ${yamlString(token.realm)}\n    service: ${yamlString(token.service)}\n` +
      `    issuer: ${yamlString(token.issuer)}\n    rootcertbundle: ${yamlString(bundle)}\n`;
  }

  const configPath = path.join(root, 'config.yml');
  const stdoutPath = path.join(root, 'registry.stdout.log');
  const stderrPath = path.join(root, 'registry.stderr.log');

  let child: ChildProcess | undefined;
  let port = 0;
  const timeout = options.startTimeoutMs ?? 15000;
  let lastError = '';
  // a response header unique to this instance: the readiness probe must not mistake another
  // server that grabbed the port between freePort() and the registry's bind for ours
  const instanceId = randomBytes(12).toString('hex');
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const config =
      `version: 0.1\n` +
      `log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: ${accessLogEnabled ? 'false' : 'true'}\n` +
      `storage:\n  filesystem:\n    rootdirectory: ${yamlString(storageDir)}\n  delete:\n    enabled: true\n` +
      `  maintenance:\n    uploadpurging:\n      enabled: false\n` +
      `http:\n  addr: 127.0.0.1:${port}\n  secret: ${yamlString(randomBytes(16).toString('hex'))}\n` +
      `  headers:\n    X-Tc-Promote-Harness: [${yamlString(instanceId)}]\n` +
      authYaml;
    writeFileSync(configPath, config);
    const outFd = openSync(stdoutPath, 'a');
    const errFd = openSync(stderrPath, 'a');
    const proc = spawnTracked('/usr/bin/docker-registry', ['serve', configPath], outFd, errFd);
    closeSync(outFd);
    closeSync(errFd);
    let exited = false;
    proc.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + timeout;
    let ready = false;
    while (Date.now() < deadline && !exited) {
      try {
        const probe = await plainGet(`http://127.0.0.1:${port}/v2/`);
        if ((probe.status === 200 || probe.status === 401) && probe.headers['x-tc-promote-harness'] === instanceId) {
          ready = true;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await sleep(15);
    }
    if (ready) {
      child = proc;
      break;
    }
    proc.kill('SIGKILL');
    const stderr = existsSync(stderrPath) ? readFileSync(stderrPath, 'utf8') : '';
    lastError = stderr.split('\n').slice(-15).join('\n');
    if (!exited && Date.now() >= deadline) break; // timed out: do not retry
    if (!/address already in use/.test(stderr)) break;
  }
  if (!child) {
    await token?.stop();
    removeTempDir(root);
    throw new Error(`docker-registry did not start (auth=${auth}):\n${lastError}`);
  }

  runningRegistries++;
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const auths: Record<string, { auth: string }> = {};
  if (username && password) auths[host] = { auth: b64(`${username}:${password}`) };
  writeFileSync(path.join(dockerConfigDir, 'config.json'), JSON.stringify({ auths }, null, 2) + '\n');

  // the access log (fd 1) and the app log (fd 2) go to separate files; a sync request
  // lets accessLog() know every earlier completed request has been written.
  let logOffset = 0;
  let syncCounter = 0;

  function readEntries(): AccessLogEntry[] {
    if (!existsSync(stdoutPath)) return [];
    return parseAccessLog(readFrom(stdoutPath, logOffset)).filter((e) => !e.path.startsWith(SYNC_PATH));
  }

  async function settle(): Promise<void> {
    const marker = `${SYNC_PATH}${++syncCounter}-${process.pid}`;
    await plainGet(url + marker);
    const deadline = Date.now() + 5000;
    for (;;) {
      const text = readFrom(stdoutPath, logOffset);
      if (text.includes(` ${marker} `)) break;
      if (Date.now() > deadline) throw new Error('access log: sync line never appeared');
      await sleep(5);
    }
    // and until the file stops growing for a moment
    let size = statSync(stdoutPath).size;
    for (let i = 0; i < 100; i++) {
      await sleep(10);
      const now = statSync(stdoutPath).size;
      if (now === size) break;
      size = now;
    }
  }

  async function getToken(scope: string, service: string, realm: string, anonymous: boolean): Promise<string> {
    const u = new URL(realm);
    u.searchParams.set('service', service);
    if (scope) for (const s of scope.split(' ')) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (!anonymous && username && password) {
      u.searchParams.set('account', username);
      headers.Authorization = `Basic ${b64(`${username}:${password}`)}`;
    }
    const res = await fetch(u, { headers });
    if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const t = body.token ?? body.access_token;
    if (!t) throw new Error('token response without token');
    return t;
  }

  async function registryFetch(pathAndQuery: string, init: RequestInit = {}, fo: RegistryFetchOptions = {}): Promise<Response> {
    const target = pathAndQuery.startsWith('http') ? pathAndQuery : url + pathAndQuery;
    const headers = new Headers(init.headers);
    if (auth === 'basic' && !fo.anonymous && !headers.has('authorization')) {
      headers.set('Authorization', `Basic ${b64(`${username}:${password}`)}`);
    }
    const first = await fetch(target, { ...init, headers, redirect: 'manual' });
    if (first.status !== 401 || auth !== 'token' || headers.has('authorization')) return first;
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    await first.body?.cancel();
    if (!challenge || challenge.scheme !== 'bearer' || !challenge.params.realm) return first;
    const t = await getToken(challenge.params.scope ?? '', challenge.params.service ?? '', challenge.params.realm, fo.anonymous === true);
    headers.set('Authorization', `Bearer ${t}`);
    return fetch(target, { ...init, headers, redirect: 'manual' });
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const proc = child!;
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    liveChildren.delete(proc);
    await token?.stop();
    removeTempDir(root);
    registryStopped();
  };

  const reg: RunningRegistry = {
    url,
    host,
    auth,
    storageDir,
    configPath,
    dockerConfigDir,
    stdoutPath,
    stderrPath,
    tokenRequests: () => token?.tokenRequests() ?? 0,
    async accessLog(o = {}) {
      if (!accessLogEnabled) throw new Error('access log disabled for this registry (accessLog: false)');
      if (o.settle !== false) await settle();
      return readEntries();
    },
    clearAccessLog() {
      logOffset = existsSync(stdoutPath) ? statSync(stdoutPath).size : 0;
    },
    async waitForAccessLog(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const entries = readEntries();
        if (predicate(entries)) return entries;
        if (Date.now() > deadline) throw new Error(`access log condition not met within ${timeoutMs} ms (${entries.length} entries)`);
        await sleep(10);
      }
    },
    fetch: registryFetch,
    async bearerToken(scope, fo = {}) {
      if (!token) throw new Error('bearerToken() needs a token-mode registry');
      return getToken(scope, token.service, token.realm, fo.anonymous === true);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
  if (username !== undefined) reg.username = username;
  if (password !== undefined) reg.password = password;
  if (username && password) reg.skopeoCreds = `${username}:${password}`;
  if (token) {
    reg.token = token;
    reg.realm = token.realm;
  }
  // start the access log empty: drop the readiness probes
  if (accessLogEnabled) {
    await settle();
    reg.clearAccessLog();
  }
  return reg;
}
