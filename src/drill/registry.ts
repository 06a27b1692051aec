/**
 * A throwaway registry for the drill: Debian's docker-registry (the CNCF distribution
 * registry) on a free loopback port, storing into a temporary folder, anonymous. Stopped and
 * removed with everything it wrote (also at exit and on Ctrl-C), unless kept.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { RemoteError } from '../errors.js';
import { fs, loadChildProcess, loadCrypto, loadHttp } from '../util/builtins.js';

export const installHint = 'sudo apt-get install docker-registry';

/** docker-registry on this PATH (TC_PROMOTE_DOCKER_REGISTRY names another binary). */
export function findRegistryBinary(env: NodeJS.ProcessEnv): string | undefined {
  const named = env.TC_PROMOTE_DOCKER_REGISTRY;
  if (named) return isExecutable(named) ? named : undefined;
  return findOnPath('docker-registry', env);
}

/** The first executable `name` on `env.PATH`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface DrillRegistry {
  url: string;
  host: string;
  pid: number;
  dir: string;
  config: string;
  log: string;
  /** Stop it and remove its folder (idempotent, synchronous: safe in exit and signal handlers). */
  stop(): void;
  /** Leave it running after this process ends. */
  keep(): void;
}

async function freePort(): Promise<number> {
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

/** The header every answer of the drill's registry carries (its configuration's http.headers), with this run's value. */
const markHeader = 'x-tc-promote-drill';

/**
 * 200 when the registry at `url` is the one started with `mark`: another server that took the
 * port between choosing it and the registry binding it (another user's registry) answers
 * without it, and is never written to.
 */
function probe(url: string, mark: string): Promise<number> {
  return new Promise((resolve) => {
    const req = loadHttp().get(`${url}/v2/`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.headers[markHeader] === mark ? (res.statusCode ?? 0) : 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * The environment docker-registry runs in: without the REGISTRY_* variables it reads as
 * configuration (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY would seed the drill into a real
 * registry's storage, REGISTRY_HTTP_ADDR move it elsewhere, REGISTRY_HTTP_HEADERS_* forge its mark).
 */
function registryEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^REGISTRY_/i.test(name)));
}

export async function startDrillRegistry(binary: string, options: { keep: boolean; startTimeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DrillRegistry> {
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tc-promote-drill-'));
  const log = path.join(dir, 'registry.log');
  const config = path.join(dir, 'config.yml');
  const mark = loadCrypto().randomBytes(16).toString('hex');
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      watchdog?.kill('SIGKILL');
    } catch {
      // gone already
    }
    killGroup(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const onExit = (): void => stop();
  process.once('exit', onExit);
  try {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const port = await freePort();
      fs.writeFileSync(
        config,
        [
          'version: 0.1',
          'log:',
          '  level: warn',
          '  accesslog:',
          '    disabled: true',
          'storage:',
          '  filesystem:',
          `    rootdirectory: ${JSON.stringify(path.join(dir, 'storage'))}`,
          'http:',
          `  addr: 127.0.0.1:${port}`,
          '  headers:',
          `    ${markHeader}: [${JSON.stringify(mark)}]`,
          '',
        ].join('\n'),
      );
      const out = fs.openSync(log, 'a');
      const started = loadChildProcess().spawn(binary, ['serve', config], {
        stdio: ['ignore', out, out],
        // Its own process group, stopped as a whole: a wrapper named by TC_PROMOTE_DOCKER_REGISTRY
        // that does not exec leaves the registry a grandchild.
        detached: true,
        env: registryEnvironment(options.env ?? process.env),
      });
      fs.closeSync(out);
      child = started;
      // From its first moment: a kill during the start leaves nothing behind either (with --keep, once it is up).
      watchdog = started.pid !== undefined ? startWatchdog(started.pid, dir) : undefined;
      let exited = false;
      started.once('exit', () => (exited = true));
      started.once('error', () => (exited = true));
      const url = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
      while (Date.now() < deadline && !exited) {
        if ((await probe(url, mark)) === 200) {
          if (options.keep) {
            started.unref();
            watchdog?.kill('SIGKILL');
          }
          return {
            url,
            host: `127.0.0.1:${port}`,
            pid: started.pid!,
            dir,
            config,
            log,
            stop: () => {
              process.removeListener('exit', onExit);
              stop();
            },
            keep: () => {
              process.removeListener('exit', onExit);
              stopped = true;
            },
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      killGroup(started);
      watchdog?.kill('SIGKILL');
      const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      if (!exited || !/address already in use/.test(text) || attempt === 5) {
        throw new RemoteError(`docker-registry (${binary}) did not start: ${text.trim().split('\n').slice(-3).join(' / ') || 'no output'}`);
      }
    }
    throw new RemoteError('docker-registry did not start');
  } catch (error) {
    process.removeListener('exit', onExit);
    stop();
    throw error;
  }
}

/**
 * A process that outlives this one only to clean up after it: killed outright (SIGKILL, an
 * OOM kill), this process runs no exit handler, and docker-registry would run on with its
 * folder. The watchdog waits on a pipe from this process; when the pipe closes without it
 * being stopped first (stop() kills it), it kills the registry and removes the folder.
 */
function startWatchdog(registryPid: number, dir: string): ChildProcess {
  const watchdog = loadChildProcess().spawn('/bin/sh', ['-c', 'read -r _; kill -9 -"$1" 2>/dev/null || kill -9 "$1" 2>/dev/null; rm -rf -- "$2"', 'tc-promote-drill-watchdog', String(registryPid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    // Its own process group: a Ctrl-C to the terminal's group does not end it before the drill has stopped.
    detached: true,
  });
  watchdog.on('error', () => undefined);
  watchdog.unref();
  (watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return watchdog;
}

/** SIGKILL to the registry's process group (it leads its own), or to it alone when that fails. */
function killGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
}
