// Installs and builds of upstream code (../shared/upstream: Taskcluster's UI and web-server),
// made once into a cache outside the repository and reused while their inputs are the same.
//
//   const build = await cachedBuild({ name: 'taskcluster-ui', key, build: async (dir) => { … } });
//
// The cache is `$TC_PROMOTE_CACHE`, else `$XDG_CACHE_HOME/tc-promote`, else
// `$HOME/.cache/tc-promote`. An entry is `<name>-<key>/`: built in a folder of its own beside
// it and renamed into place only when the build succeeded (a half-made entry is never used), so
// a killed build leaves nothing that a later run would trust. Two processes that need the same
// entry take turns (a lock folder holding the builder's pid; a dead builder's lock is taken
// over). Older entries of the same name are removed when a new one is made.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repositoryRoot } from './reference.js';

/** The shared upstream folder: `TC_PROMOTE_UPSTREAM`, else `../shared/upstream` beside this checkout or the one it was cloned from. */
export const sharedUpstreamDir = ((): string => {
  const given = process.env.TC_PROMOTE_UPSTREAM;
  if (given !== undefined && given !== '') return path.resolve(given);
  const beside = path.resolve(repositoryRoot, '../shared/upstream');
  if (existsSync(path.join(beside, 'taskcluster'))) return beside;
  // A clone in a temporary folder (a CI rehearsal): the folder beside the checkout it came from.
  const reference = process.env.TC_PROMOTE_REFERENCE;
  if (reference !== undefined && reference !== '') return path.resolve(reference, '../upstream');
  return beside;
})();

export const upstreamPath = (...parts: string[]): string => path.join(sharedUpstreamDir, ...parts);

export function cacheRoot(): string {
  const fromEnv = process.env.TC_PROMOTE_CACHE;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'tc-promote');
}

/**
 * A digest of every file under `root` (paths relative to it and contents), skipping the
 * relative paths `exclude` names (a folder skips all below it). Sorted, so the order of
 * readdir does not matter; modes and times are left out (a fresh clone's times differ).
 */
export function treeDigest(root: string, exclude: string[] = [], extra: string[] = []): string {
  const hash = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = path.join(root, rel);
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (exclude.includes(child)) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        const body = readFileSync(path.join(root, child));
        hash.update(`${child}\0${body.length}\0`);
        hash.update(body);
      }
    }
  };
  walk('');
  for (const value of extra) hash.update(`\0extra\0${value}`);
  return hash.digest('hex').slice(0, 16);
}

export interface CachedBuild {
  /** One word: the entry's folder is `<name>-<key>`. */
  name: string;
  /** What the entry depends on (treeDigest of its inputs). */
  key: string;
  /** Make the entry in `dir` (an empty folder that becomes the entry when this resolves). */
  build(dir: string): Promise<void>;
  /** Milliseconds to wait for another process building the same entry (default 20 minutes). */
  waitMs?: number;
}

export interface CachedBuildResult {
  dir: string;
  /** Whether this call built it (false: it was in the cache). */
  built: boolean;
  ms: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function cachedBuild(options: CachedBuild): Promise<CachedBuildResult> {
  const started = Date.now();
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });
  const dir = path.join(root, `${options.name}-${options.key}`);
  const complete = path.join(dir, '.complete');
  if (existsSync(complete)) return { dir, built: false, ms: Date.now() - started };
  const lock = `${dir}.lock`;
  const deadline = Date.now() + (options.waitMs ?? 20 * 60_000);
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      // The owner has made the folder and not yet written its pid: give it a moment.
    }
    const age = (() => {
      try {
        return Date.now() - statSync(lock).mtimeMs;
      } catch {
        return 0;
      }
    })();
    if ((Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) || (Number.isNaN(owner) && age > 30_000)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (existsSync(complete)) return { dir, built: false, ms: Date.now() - started };
    if (Date.now() > deadline) throw new Error(`${lock}: held by process ${owner} for longer than ${Math.round((options.waitMs ?? 1_200_000) / 1000)} s; remove it if that process is gone`);
    await sleep(500);
  }
  try {
    if (existsSync(complete)) return { dir, built: false, ms: Date.now() - started };
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      await options.build(work);
      writeFileSync(path.join(work, '.complete'), new Date().toISOString());
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    } catch (error) {
      rmSync(work, { recursive: true, force: true });
      throw error;
    }
    // Older entries of this name (other keys, nobody building them) are stale now.
    for (const entry of readdirSync(root)) {
      if (!entry.startsWith(`${options.name}-`) || entry === path.basename(dir) || entry.endsWith('.lock')) continue;
      if (existsSync(path.join(root, `${entry}.lock`)) || /\.tmp-\d+$/.test(entry)) continue;
      rmSync(path.join(root, entry), { recursive: true, force: true });
    }
    return { dir, built: true, ms: Date.now() - started };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Where its output goes (appended). */
  logFile: string;
  /** Milliseconds before it is killed (default 15 minutes). */
  timeoutMs?: number;
}

/**
 * Run a build command (yarn, node) with no standard input, its output to a log file; reject
 * with the log's last lines when it fails. The kernel kills it if this process dies
 * (`setpriv --pdeathsig`), so a killed test run leaves no yarn behind.
 */
export function runLogged(cmd: string, args: string[], options: RunOptions): Promise<void> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  const setpriv = existsSync('/usr/bin/setpriv');
  const [file, argv] = setpriv ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', fd, fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15 * 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      closeSync(fd);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      closeSync(fd);
      if (code === 0) return resolve();
      const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-25).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} (in ${options.cwd}) ${signal ? `was killed by ${signal}` : `exited ${code}`}:\n${tail}`));
    });
  });
}

/** yarn 4 from an upstream folder, with no global cache, telemetry or progress bars; CI's immutable default off where a lock is (re)written. */
export function yarnEnv(cacheFolder: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_GLOBAL_CACHE: 'false',
    YARN_CACHE_FOLDER: cacheFolder,
    YARN_ENABLE_PROGRESS_BARS: 'false',
    YARN_ENABLE_INLINE_BUILDS: 'false',
    ...extra,
  };
}
