// A loopback emulator of the Taskcluster endpoints tc-promote uses, speaking the documented
// HTTP API (what taskcluster-client sends: <rootUrl>/api/<service>/v1/...).
//
// Authentication and authorisation as the services do them:
//   - requests are Hawk-signed by a known client (`addClient`) and verified with `hawk`, the
//     library the auth service uses; `ext.authorizedScopes` narrows a client's scopes as the
//     auth service does (the hooks service and the UI use it); unsigned requests are anonymous;
//   - every caller also holds `assume:anonymous`, and `assume:` scopes are expanded through
//     the roles (`roles` option, `defineRole`) as the auth service expands them (./roles.ts);
//   - each endpoint's scope expression is the one Taskcluster publishes in its API reference
//     (../shared/reference/taskcluster/api-references/<service>/v1/api.json, rendered with the
//     request's parameters as taskcluster-lib-api renders it) and is checked with
//     taskcluster-lib-scopes; a shortfall is a 403 InsufficientScopes whose message lists the
//     missing scopes and the required expression, in lib-api's words (with its trailer:
//     method, errorCode, statusCode, time).
// queue.createTask also enforces its documented rules:
//   - the body validates against the published create-task-request schema (and, since every
//     tc-promote task is a docker-worker task, the docker-worker payload schema);
//   - the caller satisfies the task's scopes, routes, project, scheduler id and
//     `queue:create-task:<priority or higher>:<taskQueueId>`;
//   - every dependency exists already;
//   - one schedulerId per task group;
//   - `provisionerId/workerType` and `taskQueueId` agree when both are given;
//   - `created` within 15 minutes of now and not after `deadline`, `deadline` not past and
//     at most 5 days (and 15 minutes of drift) ahead, `expires` not before `deadline`;
//   - every dependency outlives the task's deadline;
//   - the same taskId with the same definition is accepted again (idempotent), with another
//     definition refused with 409;
// and rerunTask refused past the task's deadline. Endpoints: queue createTask, task, status,
// rerunTask, cancelTask (as the Queue cancels: an unresolved task's run ends in exception,
// `canceled`; a resolved one is left as it is), listTaskGroup (in pages of at most
// `listTaskGroupPageSize`), listWorkers and getWorker (workers are made by `claimTask` with a
// worker: firstClaim the first time it claims, recentTasks its last 20), getLatestArtifact /
// latestArtifact (+ the artifact bytes); index findTask, findTasksAtIndex, listTasks,
// listNamespaces, findArtifactFromTask, insertTask (the higher rank wins, an equal rank the
// later write, as services/index does); hooks triggerHook (as the hooks
// service fires a hook: the trigger schema, the task template rendered with json-e and
// {payload, firedBy, clientId, taskId, now}, `created`/`deadline`/`expires`/`taskGroupId`
// filled in when missing, and the task created with only the role `hook-id:<group>/<id>`);
// secrets get; auth expandScopes and currentScopes; and the published schemas under /schemas/.
//
// Use it through real taskcluster-client instances pointed at `rootUrl`, with credentials
// from `addClient`; tasks reach it through a per-task proxy (./task-proxy.ts).

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Ajv } from 'ajv';
import hawk from 'hawk';
import scopes, { type ScopeExpression } from 'taskcluster-lib-scopes';
import { fireHookTask } from '../../src/graph/taskcluster-yml.js';
import { checkTaskAgainstReference, loadReferenceValidators, readFromDirectory, type ReferenceValidators } from '../../src/taskcluster-api/reference-schemas.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { fxciRoles, grantFiles, loadProjects } from './fxci-grants.js';
import { expandScopes, type Roles } from './roles.js';
import { sharedReferenceDir } from './reference.js';

export { referenceDir, repositoryRoot } from './reference.js';
import { referenceDir } from './reference.js';

type TaskState = 'unscheduled' | 'pending' | 'running' | 'completed' | 'failed' | 'exception';

interface Run {
  runId: number;
  state: TaskState;
  reasonCreated: string;
  reasonResolved?: string;
  scheduled: string;
  resolved?: string;
}

export interface StoredTask {
  taskId: string;
  /** The definition with the Queue's defaults applied. */
  task: Record<string, unknown> & { taskGroupId: string; schedulerId: string; dependencies: string[]; requires: string; deadline: string; expires: string; routes: string[] };
  runs: Run[];
  artifacts: Map<string, { body: Buffer; contentType: string }>;
}

export interface EmulatorCall {
  service: string;
  method: string;
  /** The API method name, e.g. createTask. */
  name: string;
  path: string;
  status: number;
  /** The client id of a Hawk-signed request, null when anonymous. */
  clientId: string | null;
  /** The caller's expanded scopes. */
  scopes?: string[];
  time: number;
}

export interface HookDefinition {
  /** The hook's task template (json-e), rendered with {firedBy, taskId, payload, now}. */
  task: unknown;
  triggerSchema?: object;
}

export interface EmulatorOptions {
  /** Added to every API call before answering, in milliseconds. */
  latencyMs?: number;
  /** The clock the rules use (default Date.now). */
  now?: () => number;
  /** Also validate payloads as docker-worker payloads (default true). */
  validatePayload?: boolean;
  /** Directory laid out like <rootUrl>/schemas (default: ../shared/reference/taskcluster/schemas). */
  schemasDir?: string;
  /** The deployment's roles (roleId → scopes); `anonymous` is every caller's. */
  roles?: Roles;
  /** Known clients: clientId → access token and (unexpanded) scopes. */
  clients?: Record<string, { accessToken: string; scopes: string[] }>;
}

export interface EmulatedWorker {
  workerGroup: string;
  workerId: string;
  firstClaim: string;
  recentTasks: { taskId: string; runId: number }[];
  lastDateActive?: string;
}

interface Caller {
  clientId: string | null;
  /** Expanded, including the anonymous role. */
  scopes: string[];
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fifteenMinutes = 15 * 60_000;
const fiveDays = 5 * 86_400_000;

export class TaskclusterEmulator {
  readonly tasks = new Map<string, StoredTask>();
  readonly calls: EmulatorCall[] = [];
  readonly hooks = new Map<string, HookDefinition>();
  readonly secrets = new Map<string, { secret: unknown; expires: string }>();
  readonly index = new Map<string, { taskId: string; rank: number; data: unknown; expires: string }>();
  /** createTask failures to inject, by taskId: answered instead of creating. */
  readonly failCreate = new Map<string, { status: number; code: string; message: string }>();
  /** createTask failures to inject by the body (when the task ids are not known in advance). */
  failCreateIf: ((taskId: string, body: unknown) => { status: number; code: string; message: string } | undefined) | undefined;
  latencyMs: number;
  /** Added to every API call of one service (e.g. { queue: 3000 }: a slow Queue, a quick index). */
  serviceLatencyMs: Record<string, number> = {};
  now: () => number;
  /** Most tasks listTaskGroup answers per page (the Queue may answer fewer than `limit`; tests page with small values). */
  listTaskGroupPageSize = 1000;
  private server!: http.Server;
  private validators!: ReferenceValidators;
  private readonly validatePayload: boolean;
  private readonly schemasDir: string;
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Scope expression templates by service and API method name, from the published API references. */
  private readonly scopeTemplates = new Map<string, unknown>();
  readonly clients = new Map<string, { accessToken: string; scopes: string[] }>();
  private readonly expansions = new Map<string, string[]>();
  roles: Roles;
  rootUrl = '';

  constructor(options: EmulatorOptions = {}) {
    this.roles = { ...(options.roles ?? defaultRoles()) };
    for (const [clientId, client] of Object.entries(options.clients ?? {})) this.clients.set(clientId, { accessToken: client.accessToken, scopes: [...client.scopes] });
    this.latencyMs = options.latencyMs ?? 0;
    this.now = options.now ?? Date.now;
    this.validatePayload = options.validatePayload ?? true;
    this.schemasDir = options.schemasDir ?? path.join(referenceDir, 'schemas');
  }

  async start(): Promise<this> {
    this.validators = await loadReferenceValidators(readFromDirectory(this.schemasDir));
    for (const service of ['queue', 'index', 'hooks', 'secrets']) {
      const reference = JSON.parse(await readFile(path.join(sharedReferenceDir, 'taskcluster/api-references', service, 'v1/api.json'), 'utf8')) as { entries: { type: string; name: string; scopes?: unknown }[] };
      for (const entry of reference.entries) if (entry.type === 'function') this.scopeTemplates.set(`${service}.${entry.name}`, entry.scopes ?? null);
    }
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as import('node:net').AddressInfo;
    this.rootUrl = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test controls -------------------------------------------------------------------

  /** A client the emulator authenticates; returns its credentials for taskcluster-client. */
  addClient(clientId: string, clientScopes: string[], accessToken = randomBytes(18).toString('base64url')): { clientId: string; accessToken: string } {
    this.clients.set(clientId, { accessToken, scopes: [...clientScopes] });
    return { clientId, accessToken };
  }

  defineRole(roleId: string, roleScopes: string[]): void {
    this.roles[roleId] = [...roleScopes];
    this.expansions.clear();
  }

  /** What the auth service's expandScopes answers for these scopes (cached per scope set, as the service caches). */
  expand(given: string[]): string[] {
    const key = JSON.stringify([...given].sort());
    let expanded = this.expansions.get(key);
    if (!expanded) this.expansions.set(key, (expanded = expandScopes(given, this.roles)));
    return [...expanded];
  }

  /**
   * Credentials for one run of a task, as a worker gets them from claimWork: a temporary
   * client holding exactly the task's `scopes` (expanded on use, like any client's).
   */
  taskCredentials(taskId: string): { clientId: string; accessToken: string } {
    const stored = this.tasks.get(taskId);
    if (!stored) throw new Error(`taskCredentials: no task ${taskId}`);
    const runId = Math.max(0, stored.runs.length - 1);
    return this.addClient(`task-client/${taskId}/${runId}`, stored.task.scopes as string[]);
  }

  defineHook(hookGroupId: string, hookId: string, definition: HookDefinition): void {
    this.hooks.set(`${hookGroupId}/${hookId}`, definition);
  }

  setSecret(name: string, secret: unknown, expires = new Date(this.now() + 86_400_000).toISOString()): void {
    this.secrets.set(name, { secret, expires });
  }

  putArtifact(taskId: string, name: string, body: string | Buffer, contentType = 'application/json'): void {
    const stored = this.tasks.get(taskId);
    if (!stored) throw new Error(`putArtifact: no task ${taskId}`);
    stored.artifacts.set(name, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), contentType });
  }

  /** Store a task directly (e.g. a decision task from elsewhere), bypassing the creation rules. */
  insertTask(taskId: string, task: Record<string, unknown>, state: TaskState = 'completed'): StoredTask {
    const stored: StoredTask = { taskId, task: withDefaults(task) as StoredTask['task'], runs: [], artifacts: new Map() };
    if (state !== 'unscheduled') stored.runs.push({ runId: 0, state, reasonCreated: 'scheduled', scheduled: new Date(this.now()).toISOString() });
    this.tasks.set(taskId, stored);
    if (state === 'completed') this.indexRoutes(stored);
    return stored;
  }

  /**
   * A worker claims the pending run (queue.claimWork): it is running from now on. With a
   * worker, the Queue's worker record is kept as claimWork keeps it: created with firstClaim
   * now on its first claim, the task added to its recentTasks (the last 20).
   */
  claimTask(taskId: string, worker?: { workerGroup: string; workerId: string }): void {
    const stored = this.tasks.get(taskId);
    const run = stored?.runs.at(-1);
    if (!stored || !run || run.state !== 'pending') throw new Error(`claimTask: ${taskId} is ${stored ? currentState(stored) : 'unknown'}, not pending`);
    run.state = 'running';
    if (!worker) return;
    const queueId = String(stored.task.taskQueueId ?? `${stored.task.provisionerId}/${stored.task.workerType}`);
    Object.assign(run, { workerGroup: worker.workerGroup, workerId: worker.workerId, started: new Date(this.now()).toISOString(), takenUntil: new Date(this.now() + 20 * 60_000).toISOString() });
    const pool = this.workers.get(queueId) ?? new Map<string, EmulatedWorker>();
    this.workers.set(queueId, pool);
    const key = `${worker.workerGroup}/${worker.workerId}`;
    const known = pool.get(key) ?? { workerGroup: worker.workerGroup, workerId: worker.workerId, firstClaim: new Date(this.now()).toISOString(), recentTasks: [] };
    known.recentTasks = [...known.recentTasks, { taskId, runId: run.runId }].slice(-20);
    known.lastDateActive = new Date(this.now()).toISOString();
    pool.set(key, known);
  }

  /** Workers by task queue id (`provisionerId/workerType`), keyed `workerGroup/workerId`. */
  readonly workers = new Map<string, Map<string, EmulatedWorker>>();

  /** Task ids whose latest run is pending, in creation order. */
  pendingTasks(): string[] {
    return [...this.tasks.values()].filter((t) => currentState(t) === 'pending').map((t) => t.taskId);
  }

  /** Resolve the latest run as a worker would; completed tasks are indexed by their routes. */
  resolveTask(taskId: string, state: 'completed' | 'failed' | 'exception'): void {
    const stored = this.tasks.get(taskId);
    if (!stored) throw new Error(`resolveTask: no task ${taskId}`);
    const run = stored.runs.at(-1);
    if (!run || (run.state !== 'pending' && run.state !== 'running')) throw new Error(`resolveTask: ${taskId} is ${currentState(stored)}, not pending or running`);
    run.state = state;
    run.reasonResolved = state;
    run.resolved = new Date(this.now()).toISOString();
    if (state === 'completed') this.indexRoutes(stored);
    this.scheduleDependents(taskId);
  }

  stateOf(taskId: string): TaskState | undefined {
    const stored = this.tasks.get(taskId);
    return stored ? currentState(stored) : undefined;
  }

  callsOf(name: string): EmulatorCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  // ---- HTTP ----------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.rootUrl);
    const call: EmulatorCall = { service: '', method: req.method ?? 'GET', name: '', path: url.pathname, status: 0, clientId: hawkClientId(req.headers.authorization), time: this.now() };
    let status = 200;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const raw = await readBody(req);
      if (url.pathname.startsWith('/schemas/')) {
        call.service = 'schemas';
        call.name = 'schema';
        body = JSON.parse(await readFile(path.join(this.schemasDir, url.pathname.slice('/schemas/'.length).replace(/\.\./g, '')), 'utf8'));
      } else if (url.pathname.startsWith('/_artifacts/')) {
        call.service = 'artifacts';
        call.name = 'download';
        const [taskId, ...rest] = url.pathname.slice('/_artifacts/'.length).split('/').map(decodeURIComponent);
        const artifact = this.tasks.get(taskId ?? '')?.artifacts.get(rest.join('/'));
        if (!artifact) throw new ApiError(404, 'ResourceNotFound', 'no such artifact');
        res.writeHead(200, { 'content-type': artifact.contentType, 'content-length': String(artifact.body.length) });
        res.end(artifact.body);
        call.status = 200;
        this.calls.push(call);
        return;
      } else {
        const match = /^\/api\/([a-z]+)\/v1\/(.*)$/.exec(url.pathname);
        if (!match) throw new ApiError(404, 'ResourceNotFound', `no such endpoint ${url.pathname}`);
        call.service = match[1]!;
        const segments = match[2]!.split('/').map(decodeURIComponent);
        const json = raw.length ? parseJson(raw) : undefined;
        const latency = this.latencyMs + (this.serviceLatencyMs[call.service] ?? 0);
        if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
        const caller = await this.authenticate(req);
        call.scopes = caller.scopes;
        ({ status, body, headers = {} } = this.route(call, req.method ?? 'GET', segments, json, url.searchParams, caller));
      }
    } catch (error) {
      if (error instanceof ApiError) {
        status = error.status;
        const time = new Date(this.now()).toISOString();
        body = { code: error.code, message: `${error.message}${errorTrailer(call.name, error.code, error.status, time)}`, requestInfo: { method: call.name, params: {}, payload: {}, time } };
      } else {
        status = 500;
        body = { code: 'InternalServerError', message: String((error as Error)?.stack ?? error) };
      }
    }
    call.status = status;
    this.calls.push(call);
    const text = JSON.stringify(body ?? {});
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  /** Who is calling: a Hawk-verified client (narrowed by ext.authorizedScopes), else anonymous. */
  private async authenticate(req: http.IncomingMessage): Promise<Caller> {
    const authorization = req.headers.authorization;
    if (!authorization) return { clientId: null, scopes: this.expand(['assume:anonymous']) };
    let result: Awaited<ReturnType<typeof hawk.server.authenticate>>;
    try {
      // Behind a proxy (the fault proxy of some tests) the host the client signed is X-Forwarded-Host.
      const signedHost = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? '');
      const [host, port] = [signedHost.replace(/:\d+$/, ''), Number(/:(\d+)$/.exec(signedHost)?.[1] ?? 80)];
      result = await hawk.server.authenticate({ method: req.method ?? 'GET', url: req.url ?? '/', host, port, authorization }, async (id) => {
        const client = this.clients.get(id);
        return client ? { id, key: client.accessToken, algorithm: 'sha256' } : null;
      });
    } catch (error) {
      throw new ApiError(401, 'AuthenticationFailed', `Hawk authentication failed: ${(error as Error).message}`);
    }
    const clientId = result.credentials.id;
    let granted = this.expand([...this.clients.get(clientId)!.scopes, 'assume:anonymous']);
    if (result.artifacts.ext) {
      let ext: { authorizedScopes?: unknown; certificate?: unknown };
      try {
        ext = JSON.parse(Buffer.from(result.artifacts.ext, 'base64').toString('utf8')) as typeof ext;
      } catch {
        throw new ApiError(401, 'AuthenticationFailed', 'Failed to parse ext');
      }
      if (ext.certificate !== undefined) throw new ApiError(401, 'AuthenticationFailed', 'the emulator issues no temporary credentials');
      if (ext.authorizedScopes !== undefined) {
        const authorized = ext.authorizedScopes;
        if (!Array.isArray(authorized) || !authorized.every((x) => typeof x === 'string' && scopes.validScope(x))) throw new ApiError(401, 'AuthenticationFailed', 'ext.authorizedScopes must be an array of valid scopes');
        if (!scopes.satisfiesExpression(granted, { AllOf: authorized as string[] })) {
          throw new ApiError(401, 'AuthenticationFailed', `Supplied credentials do not satisfy authorizedScopes; credentials have scopes:\n\n\`\`\`\n${granted.join('\n')}\n\`\`\`\n\nauthorizedScopes are:\n\n\`\`\`\n${(authorized as string[]).join('\n')}\n\`\`\``);
        }
        granted = this.expand([...(authorized as string[]), 'assume:anonymous']);
      }
    }
    return { clientId, scopes: granted };
  }

  /** req.authorize of taskcluster-lib-api: the method's published expression, rendered with `params`. */
  private authorize(service: string, method: string, caller: Caller, params: Record<string, unknown>): void {
    const template = this.scopeTemplates.get(`${service}.${method}`);
    if (template === undefined) throw new Error(`no published scope expression for ${service}.${method}`);
    const expression = renderScopeExpression(template, params);
    if (expression !== null) this.authorizeExpression(caller, expression);
  }

  private authorizeExpression(caller: Caller, expression: ScopeExpression): void {
    if (scopes.satisfiesExpression(caller.scopes, expression)) return;
    const required = JSON.stringify(expression, null, 2);
    if (caller.clientId === null) {
      throw new ApiError(403, 'InsufficientScopes', `This request requires Taskcluster credentials that satisfy the following scope expression:\n\n\`\`\`\n${required}\n\`\`\``);
    }
    const unsatisfied = scopes.removeGivenScopes(caller.scopes, expression);
    const text = typeof unsatisfied === 'string' ? unsatisfied : JSON.stringify(unsatisfied, null, 2);
    throw new ApiError(
      403,
      'InsufficientScopes',
      `Client ID ${caller.clientId} does not have sufficient scopes and is missing the following scopes:\n\n\`\`\`\n${text}\n\`\`\`\n\nThis request requires the client to satisfy the following scope expression:\n\n\`\`\`\n${required}\n\`\`\``,
    );
  }

  private route(call: EmulatorCall, method: string, s: string[], body: unknown, query: URLSearchParams, caller: Caller): { status: number; body: unknown; headers?: Record<string, string> } {
    const is = (m: string, service: string, pattern: RegExp): boolean => method === m && call.service === service && pattern.test(s.join('\u0000'));
    const named = (name: string): void => {
      call.name = name;
    };
    if (s[0] === 'ping' && s.length === 1) return named('ping'), { status: 200, body: { alive: true, uptime: 1 } };
    if (call.service === 'queue') {
      if (is('PUT', 'queue', /^task\u0000[^\u0000]+$/)) return named('createTask'), { status: 200, body: this.createTask(s[1]!, body, caller) };
      if (is('GET', 'queue', /^task\u0000[^\u0000]+$/)) {
        named('task');
        this.authorize('queue', 'task', caller, { taskId: s[1] });
        return { status: 200, body: this.existing(s[1]!).task };
      }
      if (is('GET', 'queue', /^task\u0000[^\u0000]+\u0000status$/)) {
        named('status');
        this.authorize('queue', 'status', caller, { taskId: s[1] });
        return { status: 200, body: { status: this.statusOf(this.existing(s[1]!)) } };
      }
      if (is('POST', 'queue', /^task\u0000[^\u0000]+\u0000rerun$/)) {
        named('rerunTask');
        const stored = this.existing(s[1]!);
        this.authorize('queue', 'rerunTask', caller, { taskId: s[1], schedulerId: stored.task.schedulerId, taskGroupId: stored.task.taskGroupId, projectId: stored.task.projectId });
        return { status: 200, body: { status: this.rerunTask(s[1]!) } };
      }
      if (is('POST', 'queue', /^task\u0000[^\u0000]+\u0000cancel$/)) {
        named('cancelTask');
        const stored = this.existing(s[1]!);
        this.authorize('queue', 'cancelTask', caller, { taskId: s[1], schedulerId: stored.task.schedulerId, taskGroupId: stored.task.taskGroupId, projectId: stored.task.projectId });
        return { status: 200, body: { status: this.cancelTask(stored) } };
      }
      if (method === 'GET' && s[0] === 'provisioners' && s[2] === 'worker-types' && s[4] === 'workers' && (s.length === 5 || s.length === 7)) {
        const [provisionerId, workerType] = [s[1]!, s[3]!];
        const pool = this.workers.get(`${provisionerId}/${workerType}`) ?? new Map<string, EmulatedWorker>();
        if (s.length === 5) {
          named('listWorkers');
          this.authorize('queue', 'listWorkers', caller, { provisionerId, workerType });
          const limit = Math.min(1000, Number(query.get('limit') ?? 1000) || 1000);
          const start = Number(query.get('continuationToken') ?? 0) || 0;
          const all = [...pool.values()];
          const workers = all.slice(start, start + limit).map((w) => ({ workerGroup: w.workerGroup, workerId: w.workerId, firstClaim: w.firstClaim, ...(w.recentTasks.length && { latestTask: w.recentTasks.at(-1) }), ...(w.lastDateActive && { lastDateActive: w.lastDateActive }) }));
          return { status: 200, body: { workers, ...(start + limit < all.length && { continuationToken: String(start + limit) }) } };
        }
        named('getWorker');
        this.authorize('queue', 'getWorker', caller, { provisionerId, workerType, workerGroup: s[5], workerId: s[6] });
        const w = pool.get(`${s[5]}/${s[6]}`);
        if (!w) throw new ApiError(404, 'ResourceNotFound', `Worker with workerId ${s[6]}, workerGroup ${s[5]}, provisionerId ${provisionerId} and workerType ${workerType} not found. Are you sure it was created?`);
        return { status: 200, body: { provisionerId, workerType, workerGroup: w.workerGroup, workerId: w.workerId, recentTasks: w.recentTasks, firstClaim: w.firstClaim, expires: new Date(this.now() + 86_400_000).toISOString(), actions: [], ...(w.lastDateActive && { lastDateActive: w.lastDateActive }) } };
      }
      if (is('GET', 'queue', /^task-group\u0000[^\u0000]+\u0000list$/)) {
        named('listTaskGroup');
        this.authorize('queue', 'listTaskGroup', caller, { taskGroupId: s[1] });
        return { status: 200, body: this.listTaskGroup(s[1]!, query) };
      }
      if (method === 'GET' && s[0] === 'task' && (s[2] === 'artifacts' || s[2] === 'artifact-content') && s.length >= 4) {
        const redirect = s[2] === 'artifacts';
        named(redirect ? 'getLatestArtifact' : 'latestArtifact');
        const stored = this.existing(s[1]!);
        const name = s.slice(3).join('/');
        // The Queue asks for queue:get-artifact:<name> for every artifact, public/ ones too (a
        // deployment's `anonymous` role holds queue:get-artifact:public/*): the real Queue (v106)
        // refused a public artifact to a caller without it, where this emulator used to let it through.
        this.authorize('queue', redirect ? 'getLatestArtifact' : 'latestArtifact', caller, { names: [name] });
        if (!stored.artifacts.has(name)) throw new ApiError(404, 'ResourceNotFound', `Artifact ${name} not found for task ${s[1]}`);
        const location = `${this.rootUrl}/_artifacts/${encodeURIComponent(s[1]!)}/${name.split('/').map(encodeURIComponent).join('/')}`;
        return redirect ? { status: 303, body: { storageType: 's3', url: location }, headers: { location } } : { status: 200, body: { storageType: 's3', url: location } };
      }
    }
    if (call.service === 'index' && s[0] !== 'task') return this.indexListing(call, method, s, body, query, caller);
    if (is('GET', 'index', /^task\u0000[^\u0000]+\u0000artifacts\u0000.+$/)) {
      // findArtifactFromTask: redirect to the artifact of the indexed task's latest run.
      named('findArtifactFromTask');
      const artifactName = s.slice(3).join('/');
      // As the index service does: public artifacts need no scope.
      if (!artifactName.startsWith('public/')) this.authorize('index', 'findArtifactFromTask', caller, { indexPath: s[1], name: artifactName });
      const entry = this.index.get(s[1]!);
      if (!entry) throw new ApiError(404, 'ResourceNotFound', `Indexed task not found: ${s[1]}`);
      const name = s.slice(3).join('/');
      const location = `${this.rootUrl}/api/queue/v1/task/${encodeURIComponent(entry.taskId)}/artifacts/${name.split('/').map(encodeURIComponent).join('/')}`;
      return { status: 303, body: { url: location }, headers: { location } };
    }
    if (is('PUT', 'index', /^task\u0000[^\u0000]+$/)) {
      named('insertTask');
      this.authorize('index', 'insertTask', caller, { namespace: s[1] });
      const problems = this.indexSchemas.check('insert-task-request.json', body ?? {});
      if (problems.length) throw new ApiError(400, 'InputValidationError', `Schema Validation Failed:\n${problems.join('\n')}`);
      const given = body as { taskId: string; rank: number; data: unknown; expires: string };
      const existing = this.index.get(s[1]!);
      // services/index: a lower rank than the stored one changes nothing; equal or higher replaces it.
      if (!existing || given.rank >= existing.rank) this.index.set(s[1]!, { taskId: given.taskId, rank: given.rank, data: given.data, expires: given.expires });
      const stored = this.index.get(s[1]!)!;
      return { status: 200, body: { namespace: s[1], ...stored } };
    }
    if (is('GET', 'index', /^task\u0000[^\u0000]+$/)) {
      named('findTask');
      this.authorize('index', 'findTask', caller, { indexPath: s[1] });
      const entry = this.index.get(s[1]!);
      if (!entry || Date.parse(entry.expires) < this.now()) throw new ApiError(404, 'ResourceNotFound', `Indexed task not found: ${s[1]}`);
      return { status: 200, body: { namespace: s[1], ...entry } };
    }
    if (is('POST', 'hooks', /^hooks\u0000[^\u0000]+\u0000[^\u0000]+\u0000trigger$/)) {
      named('triggerHook');
      this.authorize('hooks', 'triggerHook', caller, { hookGroupId: s[1], hookId: s[2] });
      return { status: 200, body: this.triggerHook(s[1]!, s[2]!, body, caller) };
    }
    if (is('POST', 'auth', /^scopes\u0000expand$/)) {
      named('expandScopes');
      this.authorizeExpression(caller, 'auth:expand-scopes');
      const given = (body as { scopes?: unknown } | undefined)?.scopes;
      if (!Array.isArray(given) || !given.every((x) => typeof x === 'string')) throw new ApiError(400, 'InputValidationError', 'body must be {scopes: [string]}');
      return { status: 200, body: { scopes: this.expand(given as string[]) } };
    }
    if (is('GET', 'auth', /^scopes\u0000current$/)) {
      named('currentScopes');
      return { status: 200, body: { scopes: caller.scopes } };
    }
    if (is('GET', 'secrets', /^secret\u0000.+$/)) {
      // The secrets service's route is /secret/<name(*)>: a name's slashes may come encoded
      // (taskcluster-client) or raw (push_image.sh's curl http://taskcluster/secrets/v1/secret/project/…).
      named('get');
      const name = s.slice(1).join('/');
      this.authorize('secrets', 'get', caller, { name });
      const secret = this.secrets.get(name);
      if (!secret || Date.parse(secret.expires) < this.now()) throw new ApiError(404, 'ResourceNotFound', `Secret ${name} not found`);
      return { status: 200, body: secret };
    }
    throw new ApiError(404, 'ResourceNotFound', `no such endpoint ${method} /api/${call.service}/v1/${s.join('/')}`);
  }

  /**
   * The index's listings, as services/index implements them: findTasksAtIndex (POST
   * /tasks/indexes: 0 or 1 task per index path, input and output checked against the published
   * schemas), listTasks (GET /tasks/<namespace>: tasks immediately under it) and listNamespaces
   * (GET /namespaces/<namespace>: namespaces immediately under it); up to `limit` (at most
   * 1000) a page, with a continuationToken while more remain.
   */
  private indexListing(call: EmulatorCall, method: string, s: string[], body: unknown, query: URLSearchParams, caller: Caller): { status: number; body: unknown } {
    const limitText = query.get('limit');
    const limit = limitText === null ? 1000 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'InputError', `limit ${limitText} must be an integer from 1 to 1000`);
    const start = Number(query.get('continuationToken') ?? 0) || 0;
    const page = <T>(items: T[]): { items: T[]; continuationToken?: string } => ({ items: items.slice(start, start + limit), ...(start + limit < items.length && { continuationToken: String(start + limit) }) });
    const task = (namespace: string, e: { taskId: string; rank: number; data: unknown; expires: string }) => ({ namespace, taskId: e.taskId, rank: e.rank, data: e.data, expires: e.expires });
    let answer: Record<string, unknown>;
    let schema: string;
    if (method === 'POST' && s.length === 2 && s[0] === 'tasks' && s[1] === 'indexes') {
      call.name = 'findTasksAtIndex';
      const problems = this.indexSchemas.check('list-tasks-at-index.json', body ?? {});
      if (problems.length) throw new ApiError(400, 'InputValidationError', `Schema Validation Failed:\n${problems.join('\n')}`);
      this.authorize('index', 'findTasksAtIndex', caller, { indexPaths: (body as { indexes?: string[] } | undefined)?.indexes ?? [] });
      const indexes = ((body as { indexes?: string[] } | undefined)?.indexes ?? []).filter((path) => this.index.has(path));
      const { items, continuationToken } = page(indexes);
      answer = { tasks: items.map((path) => task(path, this.index.get(path)!)), ...(continuationToken && { continuationToken }) };
      schema = 'list-tasks-response.json';
    } else if (method === 'GET' && (s[0] === 'tasks' || s[0] === 'namespaces') && s.length <= 2) {
      const parent = s[1] ?? '';
      const under = (key: string): string | undefined => {
        if (parent !== '' && !key.startsWith(`${parent}.`)) return undefined;
        return key.slice(parent === '' ? 0 : parent.length + 1);
      };
      if (s[0] === 'tasks') {
        call.name = 'listTasks';
        this.authorize('index', 'listTasks', caller, { namespace: parent });
        const names = [...this.index.keys()].filter((key) => under(key) !== undefined && !under(key)!.includes('.')).sort();
        const { items, continuationToken } = page(names);
        answer = { tasks: items.map((key) => task(key, this.index.get(key)!)), ...(continuationToken && { continuationToken }) };
        schema = 'list-tasks-response.json';
      } else {
        call.name = 'listNamespaces';
        this.authorize('index', 'listNamespaces', caller, { namespace: parent });
        const children = new Map<string, string>();
        for (const [key, entry] of this.index) {
          const rest = under(key);
          if (rest === undefined || !rest.includes('.')) continue;
          const name = rest.split('.')[0]!;
          const expires = children.get(name);
          if (expires === undefined || expires < entry.expires) children.set(name, entry.expires);
        }
        const { items, continuationToken } = page([...children.keys()].sort());
        answer = { namespaces: items.map((name) => ({ namespace: parent ? `${parent}.${name}` : name, name, expires: children.get(name)! })), ...(continuationToken && { continuationToken }) };
        schema = 'list-namespaces-response.json';
      }
    } else {
      throw new ApiError(404, 'ResourceNotFound', `no such endpoint ${method} /api/index/v1/${s.join('/')}`);
    }
    // The emulator's own answers keep to the published response schemas.
    const wrong = this.indexSchemas.check(schema, answer);
    if (wrong.length) throw new Error(`emulator answer breaks ${schema}: ${wrong.join('; ')}`);
    return { status: 200, body: answer };
  }

  private get indexSchemas(): { check: (file: string, data: unknown) => string[] } {
    this.indexValidators ??= new Map();
    const validators = this.indexValidators;
    return {
      check: (file, data) => {
        let validate = validators.get(file);
        if (!validate) {
          const schema = JSON.parse(readFileSync(path.join(this.schemasDir, 'index', 'v1', file), 'utf8')) as Record<string, unknown>;
          delete schema.$schema;
          validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
          validators.set(file, validate);
        }
        return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
      },
    };
  }

  private indexValidators: Map<string, import('ajv').ValidateFunction> | undefined;

  private existing(taskId: string): StoredTask {
    const stored = this.tasks.get(taskId);
    if (!stored) throw new ApiError(404, 'ResourceNotFound', `Task ${taskId} not found`);
    return stored;
  }

  /** queue.createTask and its documented rules; `caller` null: a test inserting as the Queue itself. */
  createTask(taskId: string, body: unknown, caller: Caller | null): Record<string, unknown> {
    if (!/^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/.test(taskId)) throw new ApiError(400, 'InputError', `taskId ${taskId} is not a slugid`);
    const injected = this.failCreate.get(taskId) ?? this.failCreateIf?.(taskId, body);
    if (injected) throw new ApiError(injected.status, injected.code, injected.message);
    const problems = this.validatePayload ? checkTaskAgainstReference(this.validators, body, 'task') : this.validators.createTask(body, 'task');
    if (problems.length) throw new ApiError(400, 'InputValidationError', `Schema Validation Failed:\n${problems.join('\n')}`);
    const definition = body as Record<string, unknown>;
    // services/queue/src/api.js: both forms of the worker pool must agree (or one is given).
    if (definition.provisionerId && definition.workerType && definition.taskQueueId && `${definition.provisionerId}/${definition.workerType}` !== definition.taskQueueId) {
      throw new ApiError(400, 'InputError', 'taskQueueId must match "provisionerId/workerType"');
    }
    if (!definition.taskQueueId && !(definition.provisionerId && definition.workerType)) throw new ApiError(400, 'InputError', 'at least a provisionerId and a workerType or a taskQueueId must be provided"');
    if (caller) {
      // services/queue/src/api.js authorizeTaskCreation: the priority and every higher one.
      const [provisionerId, workerType] = String(definition.taskQueueId ?? `${definition.provisionerId}/${definition.workerType}`).split('/');
      const priority = String(definition.priority ?? 'lowest');
      this.authorize('queue', 'createTask', caller, {
        taskId,
        priorities: priorityLevels.slice(0, priorityLevels.indexOf(priority as (typeof priorityLevels)[number]) + 1),
        routes: definition.routes ?? [],
        scopes: definition.scopes ?? [],
        schedulerId: definition.schedulerId ?? '-',
        projectId: definition.projectId ?? 'none',
        taskGroupId: definition.taskGroupId ?? taskId,
        provisionerId,
        workerType,
      });
      if (((definition.scopes ?? []) as string[]).some((scope) => scope.endsWith('**'))) throw new ApiError(400, 'InputError', 'scopes must not end with `**`');
    }
    const task = withDefaults(definition) as StoredTask['task'];
    task.taskGroupId ??= taskId;
    const now = this.now();
    const created = Date.parse(task.created as string);
    const deadline = Date.parse(task.deadline);
    task.expires ??= new Date(deadline + 365 * 86_400_000).toISOString();
    const expires = Date.parse(task.expires);
    const existing = this.tasks.get(taskId);
    if (existing) {
      if (isDeepStrictEqual(existing.task, task)) return { status: this.statusOf(existing) };
      throw new ApiError(409, 'RequestConflict', `taskId ${taskId} already used by another task`);
    }
    if (Math.abs(created - now) > fifteenMinutes) throw new ApiError(400, 'InputError', `created ${task.created} is not within 15 minutes of now (${new Date(now).toISOString()})`);
    if (created > deadline) throw new ApiError(400, 'InputError', '`deadline` cannot be later than `created`');
    if (deadline < now) throw new ApiError(400, 'InputError', `deadline ${task.deadline} is in the past`);
    // maxTaskDeadlineDays (5) with the Queue's 15 minutes of drift.
    if (deadline > now + fiveDays + fifteenMinutes) throw new ApiError(400, 'InputError', 'Deadline cannot be more than 5 days into the future');
    if (expires < deadline) throw new ApiError(400, 'InputError', `expires ${task.expires} is before the deadline ${task.deadline}`);
    const missing = task.dependencies.filter((d) => !this.tasks.has(d));
    if (missing.length) throw new ApiError(400, 'InputError', `task.dependencies references non-existing tasks: ${missing.join(', ')}`);
    // dependencytracker.js: a dependency must outlive this task's deadline.
    const expiring = task.dependencies.filter((d) => Date.parse(this.tasks.get(d)!.task.expires) < deadline);
    if (expiring.length) throw new ApiError(400, 'InputError', `\`task.dependencies\` references tasks that expires\nbefore \`task.deadline\` this is not allowed, see tasks: \n${expiring.map((d) => ` * ${d},`).join('\n')}`);
    const sameGroup = [...this.tasks.values()].find((t) => t.task.taskGroupId === task.taskGroupId);
    if (sameGroup && sameGroup.task.schedulerId !== task.schedulerId) {
      throw new ApiError(409, 'RequestConflict', `taskGroupId ${task.taskGroupId} contains tasks with schedulerId ${sameGroup.task.schedulerId}; a task group has one schedulerId`);
    }
    const stored: StoredTask = { taskId, task, runs: [], artifacts: new Map() };
    this.tasks.set(taskId, stored);
    if (this.ready(stored)) stored.runs.push({ runId: 0, state: 'pending', reasonCreated: 'scheduled', scheduled: new Date(now).toISOString() });
    return { status: this.statusOf(stored) };
  }

  private ready(stored: StoredTask): boolean {
    const deps = stored.task.dependencies.map((d) => this.tasks.get(d)).map((t) => (t ? currentState(t) : 'unscheduled'));
    return stored.task.requires === 'all-resolved' ? deps.every((s) => ['completed', 'failed', 'exception'].includes(s)) : deps.every((s) => s === 'completed');
  }

  private scheduleDependents(taskId: string): void {
    for (const t of this.tasks.values()) {
      if (t.runs.length === 0 && t.task.dependencies.includes(taskId) && this.ready(t)) {
        t.runs.push({ runId: 0, state: 'pending', reasonCreated: 'scheduled', scheduled: new Date(this.now()).toISOString() });
      }
    }
  }

  /** queue.cancelTask: an unresolved task ends in exception (canceled); a resolved one is left as it is. */
  private cancelTask(stored: StoredTask): Record<string, unknown> {
    const state = currentState(stored);
    const at = new Date(this.now()).toISOString();
    if (state === 'unscheduled') stored.runs.push({ runId: 0, state: 'exception', reasonCreated: 'exception', reasonResolved: 'canceled', scheduled: at, resolved: at });
    else if (state === 'pending' || state === 'running') Object.assign(stored.runs.at(-1)!, { state: 'exception', reasonResolved: 'canceled', resolved: at });
    if (state !== currentState(stored)) this.scheduleDependents(stored.taskId);
    return this.statusOf(stored);
  }

  private rerunTask(taskId: string): Record<string, unknown> {
    const stored = this.existing(taskId);
    if (Date.parse(stored.task.deadline) < this.now()) throw new ApiError(409, 'RequestConflict', `Task ${taskId} can't be rerun: it is past its deadline ${stored.task.deadline}`);
    const state = currentState(stored);
    if (state !== 'pending' && state !== 'running') {
      stored.runs.push({ runId: stored.runs.length, state: 'pending', reasonCreated: 'rerun', scheduled: new Date(this.now()).toISOString() });
    }
    return this.statusOf(stored);
  }

  private listTaskGroup(taskGroupId: string, query: URLSearchParams): Record<string, unknown> {
    const all = [...this.tasks.values()].filter((t) => t.task.taskGroupId === taskGroupId);
    const limit = Math.min(this.listTaskGroupPageSize, Number(query.get('limit') ?? 1000) || 1000);
    const start = Number(query.get('continuationToken') ?? 0) || 0;
    const page = all.slice(start, start + limit);
    return {
      taskGroupId,
      tasks: page.map((t) => ({ status: this.statusOf(t), task: t.task })),
      ...(start + limit < all.length && { continuationToken: String(start + limit) }),
    };
  }

  /** hooks.triggerHook as services/hooks fires a hook (api.js triggerHookCommon, taskcreator.js). */
  private triggerHook(hookGroupId: string, hookId: string, payload: unknown, caller: Caller): Record<string, unknown> {
    const hook = this.hooks.get(`${hookGroupId}/${hookId}`);
    if (!hook) throw new ApiError(404, 'ResourceNotFound', 'No such hook');
    if (hook.triggerSchema) {
      const validate = new Ajv({ strict: false, allErrors: true }).compile(hook.triggerSchema);
      if (!validate(payload)) throw new ApiError(400, 'InputError', `payload does not match the hook's triggerSchema: ${JSON.stringify(validate.errors)}`);
    }
    const given = (payload as { taskId?: unknown } | null)?.taskId;
    if (given !== undefined && (typeof given !== 'string' || !slugidPattern.test(given))) throw new ApiError(400, 'InputError', `Invalid taskId format: ${String(given)}`);
    const taskId = typeof given === 'string' ? given : niceSlugid();
    const now = new Date(this.now());
    let task: Record<string, unknown> | null;
    try {
      task = fireHookTask(hook.task, { firedBy: 'triggerHook', payload, ...(caller.clientId !== null && { clientId: caller.clientId }) }, taskId, now);
    } catch (error) {
      throw new ApiError(400, 'InputError', `rendering the hook's task template failed: ${(error as Error).message}`);
    }
    if (task === null) return {};
    // The hooks service creates the task with authorizedScopes [assume:hook-id:<group>/<id>].
    const role = { clientId: 'static/taskcluster/hooks', scopes: this.expand([`assume:hook-id:${hookGroupId}/${hookId}`, 'assume:anonymous']) };
    try {
      this.createTask(taskId, task, role);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'InsufficientScopes') {
        // The Queue's answer came over HTTP to the hooks service: its message with lib-api's trailer.
        const queueMessage = `${error.message}${errorTrailer('createTask', error.code, error.status, new Date(this.now()).toISOString())}`;
        throw new ApiError(403, 'InsufficientScopes', `The role \`hook-id:${hookGroupId}/${hookId}\` does not have sufficient scopes to create the task:\n\n${queueMessage}`);
      }
      throw error;
    }
    return { taskId, status: { taskId } };
  }

  private indexRoutes(stored: StoredTask): void {
    for (const route of stored.task.routes) {
      if (!route.startsWith('index.')) continue;
      this.index.set(route.slice('index.'.length), { taskId: stored.taskId, rank: 0, data: {}, expires: stored.task.expires });
    }
  }

  statusOf(stored: StoredTask): Record<string, unknown> {
    const [provisionerId, workerType] = String(stored.task.taskQueueId ?? `${stored.task.provisionerId}/${stored.task.workerType}`).split('/');
    return {
      taskId: stored.taskId,
      provisionerId,
      workerType,
      taskQueueId: `${provisionerId}/${workerType}`,
      schedulerId: stored.task.schedulerId,
      projectId: stored.task.projectId,
      taskGroupId: stored.task.taskGroupId,
      deadline: stored.task.deadline,
      expires: stored.task.expires,
      retriesLeft: stored.task.retries,
      state: currentState(stored),
      runs: stored.runs.map((r) => ({ ...r })),
    };
  }
}

/** What taskcluster-lib-api appends to every error message (middleware/express-error.js). */
function errorTrailer(method: string, code: string, status: number, time: string): string {
  return ['\n\n---\n', `* method:     ${method}`, `* errorCode:  ${code}`, `* statusCode: ${status}`, `* time:       ${time}`].join('\n');
}

const slugidPattern = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;
const priorityLevels = ['highest', 'very-high', 'high', 'medium', 'low', 'very-low', 'lowest'] as const;

/**
 * A scope expression template as taskcluster-lib-api renders it: `<param>` in strings,
 * `{for, in, each}` over a list parameter, `{if, then}` on a boolean one, AllOf / AnyOf.
 * A template of null (a public method) renders to null.
 */
export function renderScopeExpression(template: unknown, params: Record<string, unknown>): ScopeExpression | null {
  if (template === null) return null;
  const fill = (text: string): string =>
    text.replace(/<([a-zA-Z][a-zA-Z0-9_]*)>/g, (_, key: string) => {
      const value = params[key];
      if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`scope template ${text}: parameter ${key} missing`);
      return String(value);
    });
  const render = (node: unknown): ScopeExpression[] => {
    if (typeof node === 'string') return [fill(node)];
    const n = node as { AllOf?: unknown[]; AnyOf?: unknown[]; for?: string; in?: string; each?: string; if?: string; then?: unknown };
    if (n.AllOf) return [{ AllOf: n.AllOf.flatMap(render) }];
    if (n.AnyOf) return [{ AnyOf: n.AnyOf.flatMap(render) }];
    if (n.for !== undefined && n.in !== undefined && n.each !== undefined) {
      const values = params[n.in];
      if (!Array.isArray(values)) throw new Error(`scope template: parameter ${n.in} is not a list`);
      return values.map((v) => fill(n.each!.replaceAll(`<${n.for}>`, String(v))));
    }
    if (n.if !== undefined) return params[n.if] ? render(n.then) : [];
    throw new Error(`scope template: cannot render ${JSON.stringify(node)}`);
  };
  return render(template)[0] ?? null;
}

function currentState(stored: StoredTask): TaskState {
  return stored.runs.at(-1)?.state ?? 'unscheduled';
}

/** The Queue's defaults for optional createTask fields, so equal definitions compare equal. */
function withDefaults(task: Record<string, unknown>): Record<string, unknown> {
  return {
    dependencies: [],
    requires: 'all-completed',
    routes: [],
    priority: 'lowest',
    retries: 5,
    scopes: [],
    tags: {},
    extra: {},
    schedulerId: '-',
    projectId: 'none',
    ...structuredClone(task),
  };
}

function hawkClientId(header: string | undefined): string | null {
  if (!header?.startsWith('Hawk ')) return null;
  return /\bid="([^"]*)"/.exec(header)?.[1] ?? null;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'MalformedPayload', 'request body is not JSON');
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let fxciDefault: Roles | undefined;
/**
 * The roles of Firefox-CI as the reference fxci-config's grants make them for
 * scriptworker-scripts (and the `anonymous` role every caller holds), plus the hook-id role
 * of the generated promotion hook: what the deployment holds before the consumer patches.
 */
export function defaultRoles(): Roles {
  if (!fxciDefault) {
    const dir = path.join(sharedReferenceDir, 'fxci-config');
    fxciDefault = fxciRoles(grantFiles(dir), loadProjects(dir), ['scriptworker-scripts']);
    const hook = JSON.parse(readFileSync(path.join(dir, 'in-tree-action-hook.scriptworker-3-release-promotion.json'), 'utf8')) as { role: { roleId: string; scopes: string[] } };
    fxciDefault[hook.role.roleId] = hook.role.scopes;
  }
  return structuredClone(fxciDefault);
}

export async function startTaskclusterEmulator(options: EmulatorOptions = {}): Promise<TaskclusterEmulator> {
  return new TaskclusterEmulator(options).start();
}
