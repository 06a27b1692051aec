// A worker that speaks the real Queue API (issue 17), for the tests on the real Taskcluster
// services (./real-taskcluster.ts). It is the local worker of ./task-runner.ts (same image rule,
// command, environment, /builds/worker and /tmp, taskclusterProxy, maxRunTime, artifacts),
// with the Queue of a deployment in place of the emulator's shortcuts:
//
//   - `queue.claimWork(<taskQueueId>, { workerGroup, workerId, tasks: 1 })` with the worker's own
//     client (scopes `queue:claim-work:<taskQueueId>` and `queue:worker-id:<group>/<id>`, made by
//     the root client), only while `queue.pendingTasks` says a task waits (claimWork would block
//     for 20 s otherwise);
//   - the claim's temporary credentials (clientId, accessToken, certificate) are the only ones the
//     task has: its proxy (./task-proxy.ts, TASKCLUSTER_PROXY_URL) signs each request with them;
//     the worker reports with them too;
//   - `queue.reclaimTask` before the claim runs out (half-way to takenUntil, or every
//     `reclaimEveryMs`), the new credentials taking over in the proxy at once;
//   - each artifact created with `queue.createArtifact` (storage type s3) and PUT to the URL the
//     Queue answers (the fixture's s3rver), as docker-worker uploads them;
//   - `reportCompleted` for exit 0, `reportFailed` for another exit code or a run past
//     maxRunTime (docker-worker's rule), `reportException` (malformed-payload) for an image it
//     cannot run or a command that cannot start, (worker-shutdown) for a run stopped by stop().
//
//   const worker = await RealWorker.create(tc, { taskQueueId: 'scriptworker-3/images', env });
//   const runs = await worker.runTaskGroup(taskGroupId);    // until every task of the group is resolved
//   worker.start(); … await worker.stop();                   // or in the background
import http from 'node:http';
import taskcluster from 'taskcluster-client';
import { makeTempDir, removeTempDir } from './registry.js';
import type { Credentials, RealTaskcluster } from './real-taskcluster.js';
import { executeTask, makeShimDir, type RunnableTask, type TaskRun } from './task-runner.js';

/** taskcluster-client's classes with every method the tests call (the project's types cover only src/'s). */
type Method =
  | 'createTask' | 'task' | 'status' | 'listTaskGroup' | 'rerunTask' | 'cancelTask' | 'claimWork' | 'pendingTasks' | 'reclaimTask' | 'reportCompleted' | 'reportFailed' | 'reportException'
  | 'createArtifact' | 'listLatestArtifacts' | 'listArtifacts' | 'getLatestArtifact' | 'latestArtifact'
  | 'role' | 'createRole' | 'updateRole' | 'deleteRole' | 'listRoles' | 'currentScopes' | 'expandScopes' | 'createClient' | 'deleteClient'
  | 'set' | 'get' | 'remove' | 'createHook' | 'updateHook' | 'hook' | 'triggerHook' | 'listLastFires' | 'findTask' | 'findTasksAtIndex' | 'insertTask' | 'listTasks' | 'ping';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LooseClient = { [M in Method]: (...args: any[]) => Promise<any> } & { buildUrl(...args: unknown[]): string; buildSignedUrl(...args: unknown[]): string };
export function client(kind: 'Queue' | 'Auth' | 'Hooks' | 'Index' | 'Secrets', rootUrl: string, credentials?: Credentials | Record<string, never>): LooseClient {
  const Class = (taskcluster as unknown as Record<string, new (options: object) => LooseClient>)[kind]!;
  return new Class({ rootUrl, credentials: credentials ?? {}, retries: 2 });
}

export interface RealWorkerOptions {
  /** The queue this worker claims from (`provisioner/workerType`). */
  taskQueueId: string;
  workerGroup?: string;
  workerId?: string;
  /** Added to every task's environment (e.g. GITHUB_API_URL, GIT_CONFIG_* of the test). */
  env?: Record<string, string>;
  /** Which images this worker can run (default: tc-promote's). */
  images?: (image: string) => boolean;
  /** Called before a task runs. */
  beforeTask?: (taskId: string, task: RunnableTask) => void | Promise<void>;
  /** Reclaim this often (default: half-way to the claim's takenUntil). */
  reclaimEveryMs?: number;
}

export interface RealTaskRun extends TaskRun {
  runId: number;
  /** Temporary credentials' clientIds in the order the task held them (the claim's, then each reclaim's). */
  clientIds: string[];
  reclaims: number;
}

const tcPromoteImage = (image: string): boolean => /^mozillareleases\/tc-promote(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.test(image);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const resolvedStates = new Set(['completed', 'failed', 'exception']);

export class RealWorker {
  readonly runs: RealTaskRun[] = [];
  private readonly folders: string[] = [];
  private readonly shimDir: string;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private stopRun: (() => void) | undefined;

  private constructor(
    private readonly tc: Pick<RealTaskcluster, 'rootUrl'>,
    private readonly queue: LooseClient,
    readonly options: Required<Pick<RealWorkerOptions, 'taskQueueId' | 'workerGroup' | 'workerId'>> & RealWorkerOptions,
  ) {
    this.shimDir = makeShimDir(this.tempDir('tc-promote-bin-'));
    process.once('exit', () => this.removeFolders());
  }

  /** A worker with a client of its own (made with the root client): it may claim from its queue, nothing else. */
  static async create(tc: Pick<RealTaskcluster, 'rootUrl' | 'rootCredentials'>, options: RealWorkerOptions): Promise<RealWorker> {
    const workerGroup = options.workerGroup ?? 'tc-promote-tests';
    const workerId = options.workerId ?? `worker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
    const clientId = `tc-promote-tests/worker/${workerGroup}/${workerId}`;
    const made = await auth.createClient(clientId, {
      description: 'a tc-promote test worker',
      expires: new Date(Date.now() + 86_400_000).toISOString(),
      scopes: [`queue:claim-work:${options.taskQueueId}`, `queue:worker-id:${workerGroup}/${workerId}`, `queue:pending-count:${options.taskQueueId}`],
    });
    const queue = client('Queue', tc.rootUrl, { clientId, accessToken: made.accessToken });
    return new RealWorker(tc, queue, { ...options, workerGroup, workerId });
  }

  /** One task of the queue, if one is pending now; undefined when none is. */
  async claimOne(): Promise<RealTaskRun | undefined> {
    const { pendingTasks } = await this.queue.pendingTasks(this.options.taskQueueId);
    if (pendingTasks === 0) return undefined;
    const claim = await this.queue.claimWork(this.options.taskQueueId, { workerGroup: this.options.workerGroup, workerId: this.options.workerId, tasks: 1 });
    const [claimed] = claim.tasks as { status: { taskId: string }; runId: number; task: RunnableTask & { expires: string }; credentials: Credentials & { certificate: string }; takenUntil: string }[];
    if (!claimed) return undefined;
    const run = await this.runClaimed(claimed);
    this.runs.push(run);
    return run;
  }

  /** Run the queue's tasks until every task of the group is resolved (dependencies resolve asynchronously). */
  async runTaskGroup(taskGroupId: string, options: { timeoutMs?: number; limit?: number } = {}): Promise<RealTaskRun[]> {
    const runs: RealTaskRun[] = [];
    const deadline = Date.now() + (options.timeoutMs ?? 90_000);
    const anonymousQueue = client('Queue', this.tc.rootUrl);
    for (;;) {
      const run = await this.claimOne();
      if (run) {
        runs.push(run);
        if (runs.length > (options.limit ?? 50)) throw new Error(`runTaskGroup: more than ${options.limit ?? 50} runs`);
        continue;
      }
      const tasks = await listGroup(anonymousQueue, taskGroupId);
      if (tasks.length > 0 && tasks.every((t) => resolvedStates.has(t.status.state))) return runs;
      if (Date.now() > deadline) throw new Error(`runTaskGroup ${taskGroupId}: not resolved after ${(options.timeoutMs ?? 90_000) / 1000} s: ${tasks.map((t) => `${(t.task.metadata as { name?: string })?.name}: ${t.status.state}`).join(', ')}`);
      await sleep(100);
    }
  }

  /** Claim and run in the background until stop(). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = (async () => {
      while (!this.stopping) {
        const run = await this.claimOne().catch((error: Error) => {
          process.stderr.write(`[real worker] ${error.message}\n`);
          return undefined;
        });
        if (!run && !this.stopping) await sleep(100);
      }
    })();
  }

  /** Stop the background loop; a task still running is killed and reported as an exception (worker-shutdown). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopRun?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Runs `command` while the worker works in the background. */
  async whileWorking<T>(command: Promise<T>): Promise<T> {
    this.start();
    try {
      return await command;
    } finally {
      await this.stop();
    }
  }

  async cleanup(): Promise<void> {
    await this.stop();
    this.removeFolders();
  }

  private async runClaimed(claimed: { status: { taskId: string }; runId: number; task: RunnableTask & { expires: string }; credentials: Credentials & { certificate: string }; takenUntil: string }): Promise<RealTaskRun> {
    const started = Date.now();
    const { taskId } = claimed.status;
    const { runId, task } = claimed;
    const credentials = { ...claimed.credentials };
    const clientIds = [credentials.clientId];
    const asTask = () => client('Queue', this.tc.rootUrl, credentials);
    const label = task.tags?.label ?? task.metadata?.name ?? taskId;
    const base = { taskId, runId, label, clientIds, ms: 0, proxied: [] as RealTaskRun['proxied'] };
    const image = task.payload?.image;
    if (typeof image !== 'string' || !(this.options.images ?? tcPromoteImage)(image)) {
      await asTask().reportException(taskId, runId, { reason: 'malformed-payload' });
      return { ...base, state: 'exception', exitCode: null, log: `this worker does not run the image ${String(image)}`, artifacts: new Map(), reclaims: 0, ms: Date.now() - started };
    }
    await this.options.beforeTask?.(taskId, task);
    // Reclaims while the task runs.
    let takenUntil = Date.parse(claimed.takenUntil);
    let reclaims = 0;
    let reclaiming = true;
    let stopWaiting: () => void = () => undefined;
    const reclaimLoop = (async () => {
      while (reclaiming) {
        const wait = this.options.reclaimEveryMs ?? Math.max(1000, (takenUntil - Date.now()) / 2);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          stopWaiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (!reclaiming) return;
        const answer = await asTask().reclaimTask(taskId, runId);
        Object.assign(credentials, answer.credentials);
        clientIds.push(answer.credentials.clientId);
        takenUntil = Date.parse(answer.takenUntil);
        reclaims++;
      }
    })();
    let shutdown = false;
    const abort = new Promise<void>((resolve) => {
      this.stopRun = () => {
        shutdown = true;
        resolve();
      };
    });
    let spawnFailed = false;
    const executed = await executeTask(task, { taskId, runId, rootUrl: this.tc.rootUrl, credentials, shimDir: this.shimDir, env: this.options.env, tempDir: (prefix) => this.tempDir(prefix), abort }).finally(() => {
      reclaiming = false;
      stopWaiting();
      this.stopRun = undefined;
    });
    await reclaimLoop;
    spawnFailed = executed.exitCode === null && !executed.killed && /cannot start/.test(executed.log);
    // Artifacts: created in the Queue (s3), then uploaded where it says.
    const queue = asTask();
    for (const [name, body] of executed.artifacts) {
      const contentType = name.endsWith('.json') ? 'application/json' : 'text/plain';
      const created = await queue.createArtifact(taskId, runId, name, { storageType: 's3', contentType, expires: task.expires });
      await put(created.putUrl, body, contentType);
    }
    let state: TaskRun['state'];
    if (shutdown) {
      state = 'exception';
      await queue.reportException(taskId, runId, { reason: 'worker-shutdown' });
    } else if (spawnFailed) {
      state = 'exception';
      await queue.reportException(taskId, runId, { reason: 'malformed-payload' });
    } else if (executed.exitCode === 0 && !executed.killed) {
      state = 'completed';
      await queue.reportCompleted(taskId, runId);
    } else {
      state = 'failed';
      await queue.reportFailed(taskId, runId);
    }
    return { ...base, state, exitCode: executed.exitCode, log: executed.log, artifacts: executed.artifacts, proxied: executed.proxied, reclaims, ms: Date.now() - started };
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

export async function listGroup(queue: LooseClient, taskGroupId: string): Promise<{ status: { taskId: string; state: string; runs: { state: string; reasonCreated?: string; reasonResolved?: string }[] }; task: Record<string, unknown> }[]> {
  const tasks = [];
  let continuationToken: string | undefined;
  do {
    const page = await queue.listTaskGroup(taskGroupId, continuationToken ? { continuationToken } : {}).catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return { tasks: [] };
      throw error;
    });
    tasks.push(...page.tasks);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return tasks;
}

function put(url: string, body: Buffer, contentType: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'PUT', headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`artifact upload ${url}: ${res.statusCode} ${text.slice(0, 300)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
