// A small local worker for the Taskcluster emulator: it runs rendered docker-worker tasks of
// tc-promote's image the way a worker would, so a graph can be followed to its end in tests
// (issue 13's `tc-promote rollback` reuses it).
//
//   const runner = new LocalTaskRunner(tc, { env: { GITHUB_API_URL: gh.url } });
//   const runs = await runner.runUntilIdle();     // every pending task, until none is left
//   const run = await runner.runTask(taskId);      // one pending task
//   await runner.cleanup();                        // temporary folders (also at process exit)
//
// For each task it runs (it claims the pending run, then resolves it):
//   - the image: only tc-promote's (`mozillareleases/tc-promote[:…][@…]`, the `images` option
//     to change that); `tc-promote` on the task's PATH is the built bin/tc-promote.js run by
//     this Node, as a child process (the image itself is not available here);
//   - the command: `payload.command` as argv (no shell of ours; a task that wants one says
//     `sh -c`), with `payload.env`, plus what docker-worker sets: TASK_ID, RUN_ID,
//     TASKCLUSTER_ROOT_URL, and with `features.taskclusterProxy` TASKCLUSTER_PROXY_URL, a
//     per-task proxy (./task-proxy.ts) holding only the task's scopes: the task has no other
//     credentials;
//   - the file system: `/builds/worker` (the image's home, where artifacts are written) and
//     `/tmp` are folders of this run, as a container's would be: those prefixes are mapped in
//     the command's arguments and the environment's values;
//   - `payload.maxRunTime`: the process is killed past it (the run ends in exception);
//   - artifacts: each `payload.artifacts` directory is uploaded under its name, and the log
//     as `public/logs/live.log`, as docker-worker publishes them;
//   - the run's state: exit 0 completed, another exit code failed, killed exception.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { binPath } from './cli.js';
import type { TaskclusterEmulator } from './taskcluster-emulator.js';
import { startTaskProxy } from './task-proxy.js';
import { makeTempDir, removeTempDir } from './registry.js';

export interface TaskRun {
  taskId: string;
  label: string;
  state: 'completed' | 'failed' | 'exception';
  exitCode: number | null;
  /** stdout and stderr, interleaved as written (also published as public/logs/live.log). */
  log: string;
  /** The artifacts published: name → bytes. */
  artifacts: Map<string, Buffer>;
  /** Requests the task's proxy forwarded. */
  proxied: { method: string; path: string; status: number }[];
  ms: number;
}

export interface TaskRunnerOptions {
  /** Added to every task's environment (e.g. GITHUB_API_URL, GIT_CONFIG_* of the test). */
  env?: Record<string, string>;
  /** Which images this worker can run (default: tc-promote's). */
  images?: (image: string) => boolean;
  /** Called before a task runs, e.g. to change the world between two tasks. */
  beforeTask?: (taskId: string, task: RunnableTask) => void | Promise<void>;
}

export interface RunnableTask {
  payload: { image: string; command: string[]; env?: Record<string, string>; maxRunTime?: number; features?: { taskclusterProxy?: boolean }; artifacts?: Record<string, { type: string; path: string }> };
  metadata?: { name?: string };
  tags?: Record<string, string>;
}

const tcPromoteImage = (image: string): boolean => /^mozillareleases\/tc-promote(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.test(image);

export class LocalTaskRunner {
  private readonly folders: string[] = [];
  private readonly shimDir: string;

  constructor(
    private readonly tc: TaskclusterEmulator,
    private readonly options: TaskRunnerOptions = {},
  ) {
    this.shimDir = makeShimDir(this.tempDir('tc-promote-bin-'));
    process.once('exit', () => this.removeFolders());
  }

  /** Run every pending task this worker can run, one after another, until none is left. */
  async runUntilIdle(limit = 50): Promise<TaskRun[]> {
    const runs: TaskRun[] = [];
    for (;;) {
      const next = this.tc.pendingTasks().find((id) => this.canRun(id));
      if (next === undefined) return runs;
      if (runs.length >= limit) throw new Error(`runUntilIdle: more than ${limit} task runs; is a task rescheduling itself?`);
      runs.push(await this.runTask(next));
    }
  }

  canRun(taskId: string): boolean {
    const image = (this.tc.tasks.get(taskId)?.task as unknown as RunnableTask | undefined)?.payload?.image;
    return typeof image === 'string' && (this.options.images ?? tcPromoteImage)(image);
  }

  async runTask(taskId: string): Promise<TaskRun> {
    const stored = this.tc.tasks.get(taskId);
    if (!stored) throw new Error(`runTask: no task ${taskId}`);
    const task = stored.task as unknown as RunnableTask;
    if (!this.canRun(taskId)) throw new Error(`runTask: this worker does not run the image ${task.payload.image}`);
    await this.options.beforeTask?.(taskId, task);
    this.tc.claimTask(taskId);
    const started = Date.now();
    const runId = stored.runs.length - 1;
    const credentials = this.tc.taskCredentials(taskId);
    const executed = await executeTask(task, { taskId, runId, rootUrl: this.tc.rootUrl, credentials, shimDir: this.shimDir, env: this.options.env, tempDir: (prefix) => this.tempDir(prefix) });
    const { log, artifacts, killed, exitCode, proxied } = executed;
    for (const [name, body] of artifacts) this.tc.putArtifact(taskId, name, body, name.endsWith('.json') ? 'application/json' : 'text/plain');
    const state = killed ? 'exception' : exitCode === 0 ? 'completed' : 'failed';
    this.tc.resolveTask(taskId, state);
    return { taskId, label: task.tags?.label ?? task.metadata?.name ?? taskId, state, exitCode, log, artifacts, proxied, ms: Date.now() - started };
  }

  async cleanup(): Promise<void> {
    this.removeFolders();
  }

  private tempDir(prefix: string): string {
    const dir = makeTempDir(prefix);
    this.folders.push(dir);
    return dir;
  }

  private removeFolders(): void {
    for (const dir of this.folders.splice(0)) removeTempDir(dir);
  }
}

export interface ExecutedTask {
  exitCode: number | null;
  /** Killed past payload.maxRunTime (or by `abort`). */
  killed: boolean;
  log: string;
  /** What the task wrote under its artifact directories, name → bytes, and public/logs/live.log. */
  artifacts: Map<string, Buffer>;
  proxied: { method: string; path: string; status: number }[];
}

export interface ExecuteContext {
  taskId: string;
  runId: number;
  rootUrl: string;
  /** What the task's proxy signs with (mutable: a reclaim's new credentials take effect at once). */
  credentials: { clientId: string; accessToken: string; certificate?: string };
  /** Holds the `tc-promote` shim (makeShimDir). */
  shimDir: string;
  env?: Record<string, string>;
  tempDir: (prefix: string) => string;
  /** Resolves to stop the task early (it is killed and reported as an exception). */
  abort?: Promise<unknown>;
}

/** A folder holding `tc-promote`: the built bin/tc-promote.js run by this Node. */
export function makeShimDir(dir: string): string {
  const shim = path.join(dir, 'tc-promote');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} "$@"\n`);
  chmodSync(shim, 0o755);
  return dir;
}

/**
 * Run a docker-worker task of tc-promote's image as the local worker does (see the top of this
 * file): the command with its environment, /builds/worker and /tmp mapped to folders of this
 * run, its proxy, its maxRunTime; the artifacts it wrote and its log collected.
 */
export async function executeTask(task: RunnableTask, ctx: ExecuteContext): Promise<ExecutedTask> {
  const { taskId, runId } = ctx;
  const home = ctx.tempDir(`tc-promote-task-${taskId}-`);
  const tmp = path.join(home, '.tmp');
  mkdirSync(path.join(home, 'artifacts'), { recursive: true });
  mkdirSync(tmp);
  const map = (text: string): string => text.replaceAll('/builds/worker', home).replace(/(^|[\s'"=:])\/tmp(?=\/|$)/g, `$1${tmp}`);
  const proxy = task.payload.features?.taskclusterProxy ? await startTaskProxy(ctx.rootUrl, ctx.credentials) : undefined;
  const env: Record<string, string> = {
    PATH: `${ctx.shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    ...Object.fromEntries(Object.entries(task.payload.env ?? {}).map(([k, v]) => [k, map(v)])),
    ...ctx.env,
    TASK_ID: taskId,
    RUN_ID: String(runId),
    TASKCLUSTER_ROOT_URL: ctx.rootUrl,
    ...(proxy && { TASKCLUSTER_PROXY_URL: proxy.url }),
  };
  const [program, ...args] = task.payload.command.map(map);
  let log = '';
  let killed = false;
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(program!, args, { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(kill, (task.payload.maxRunTime ?? 3600) * 1000);
    void ctx.abort?.then(kill);
    child.stdout.on('data', (d: Buffer) => (log += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (log += d.toString('utf8')));
    child.on('error', (error) => {
      log += `[task-runner] cannot start ${program}: ${error.message}\n`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  await proxy?.stop();
  const artifacts = new Map<string, Buffer>();
  for (const [name, artifact] of Object.entries(task.payload.artifacts ?? {})) {
    const dir = map(artifact.path);
    if (artifact.type !== 'directory' || !existsSync(dir)) continue;
    for (const file of walk(dir)) artifacts.set(`${name}/${path.relative(dir, file).split(path.sep).join('/')}`, readFileSync(file));
  }
  artifacts.set('public/logs/live.log', Buffer.from(log));
  return { exitCode, killed, log, artifacts, proxied: proxy?.requests ?? [] };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
