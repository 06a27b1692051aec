// A loopback emulator of the Taskcluster endpoints tc-promote uses, speaking the documented
// HTTP API (what taskcluster-client sends: <rootUrl>/api/<service>/v1/...) and enforcing the
// documented rules of queue.createTask:
//   - the body validates against the published create-task-request schema (and, since every
//     tc-promote task is a docker-worker task, the docker-worker payload schema);
//   - every dependency exists already;
//   - one schedulerId per task group;
//   - `created` within 15 minutes of now, `deadline` not past and at most 5 days ahead,
//     `expires` not before `deadline`;
//   - the same taskId with the same definition is accepted again (idempotent), with another
//     definition refused with 409;
// and rerunTask refused past the task's deadline. Endpoints: queue createTask, task, status,
// rerunTask, listTaskGroup (in pages of at most `listTaskGroupPageSize`), getLatestArtifact / latestArtifact (+ the artifact bytes);
// index findTask, findTasksAtIndex, listTasks, listNamespaces, findArtifactFromTask; hooks triggerHook (the hook's task template rendered with json-e as the
// hooks service does); secrets get; and the published schemas under /schemas/.
//
// Use it through real taskcluster-client instances pointed at `rootUrl`.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { renderHookTask } from '../../src/graph/taskcluster-yml.js';
import { checkTaskAgainstReference, loadReferenceValidators, readFromDirectory, type ReferenceValidators } from '../../src/taskcluster/reference-schemas.js';
import { niceSlugid } from '../../src/taskcluster/slugid.js';

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
  now: () => number;
  /** Most tasks listTaskGroup answers per page (the Queue may answer fewer than `limit`; tests page with small values). */
  listTaskGroupPageSize = 1000;
  private server!: http.Server;
  private validators!: ReferenceValidators;
  private readonly validatePayload: boolean;
  private readonly schemasDir: string;
  private readonly sockets = new Set<import('node:net').Socket>();
  rootUrl = '';

  constructor(options: EmulatorOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.now = options.now ?? Date.now;
    this.validatePayload = options.validatePayload ?? true;
    this.schemasDir = options.schemasDir ?? path.join(referenceDir, 'schemas');
  }

  async start(): Promise<this> {
    this.validators = await loadReferenceValidators(readFromDirectory(this.schemasDir));
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
        if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
        ({ status, body, headers = {} } = this.route(call, req.method ?? 'GET', segments, json, url.searchParams));
      }
    } catch (error) {
      if (error instanceof ApiError) {
        status = error.status;
        body = { code: error.code, message: error.message, requestInfo: { method: call.name, params: {}, payload: {}, time: new Date(this.now()).toISOString() } };
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

  private route(call: EmulatorCall, method: string, s: string[], body: unknown, query: URLSearchParams): { status: number; body: unknown; headers?: Record<string, string> } {
    const is = (m: string, service: string, pattern: RegExp): boolean => method === m && call.service === service && pattern.test(s.join('\u0000'));
    const named = (name: string): void => {
      call.name = name;
    };
    if (s[0] === 'ping' && s.length === 1) return named('ping'), { status: 200, body: { alive: true, uptime: 1 } };
    if (call.service === 'queue') {
      if (is('PUT', 'queue', /^task\u0000[^\u0000]+$/)) return named('createTask'), { status: 200, body: this.createTask(s[1]!, body) };
      if (is('GET', 'queue', /^task\u0000[^\u0000]+$/)) return named('task'), { status: 200, body: this.existing(s[1]!).task };
      if (is('GET', 'queue', /^task\u0000[^\u0000]+\u0000status$/)) return named('status'), { status: 200, body: { status: this.statusOf(this.existing(s[1]!)) } };
      if (is('POST', 'queue', /^task\u0000[^\u0000]+\u0000rerun$/)) return named('rerunTask'), { status: 200, body: { status: this.rerunTask(s[1]!) } };
      if (is('GET', 'queue', /^task-group\u0000[^\u0000]+\u0000list$/)) return named('listTaskGroup'), { status: 200, body: this.listTaskGroup(s[1]!, query) };
      if (method === 'GET' && s[0] === 'task' && (s[2] === 'artifacts' || s[2] === 'artifact-content') && s.length >= 4) {
        const redirect = s[2] === 'artifacts';
        named(redirect ? 'getLatestArtifact' : 'latestArtifact');
        const stored = this.existing(s[1]!);
        const name = s.slice(3).join('/');
        if (!stored.artifacts.has(name)) throw new ApiError(404, 'ResourceNotFound', `Artifact ${name} not found for task ${s[1]}`);
        const location = `${this.rootUrl}/_artifacts/${encodeURIComponent(s[1]!)}/${name.split('/').map(encodeURIComponent).join('/')}`;
        return redirect ? { status: 303, body: { storageType: 's3', url: location }, headers: { location } } : { status: 200, body: { storageType: 's3', url: location } };
      }
    }
    if (call.service === 'index' && s[0] !== 'task') return this.indexListing(call, method, s, body, query);
    if (is('GET', 'index', /^task\u0000[^\u0000]+\u0000artifacts\u0000.+$/)) {
      // findArtifactFromTask: redirect to the artifact of the indexed task's latest run.
      named('findArtifactFromTask');
      const entry = this.index.get(s[1]!);
      if (!entry) throw new ApiError(404, 'ResourceNotFound', `Indexed task not found: ${s[1]}`);
      const name = s.slice(3).join('/');
      const location = `${this.rootUrl}/api/queue/v1/task/${encodeURIComponent(entry.taskId)}/artifacts/${name.split('/').map(encodeURIComponent).join('/')}`;
      return { status: 303, body: { url: location }, headers: { location } };
    }
    if (is('GET', 'index', /^task\u0000[^\u0000]+$/)) {
      named('findTask');
      const entry = this.index.get(s[1]!);
      if (!entry || Date.parse(entry.expires) < this.now()) throw new ApiError(404, 'ResourceNotFound', `Indexed task not found: ${s[1]}`);
      return { status: 200, body: { namespace: s[1], ...entry } };
    }
    if (is('POST', 'hooks', /^hooks\u0000[^\u0000]+\u0000[^\u0000]+\u0000trigger$/)) return named('triggerHook'), { status: 200, body: this.triggerHook(s[1]!, s[2]!, body) };
    if (is('GET', 'secrets', /^secret\u0000[^\u0000]+$/)) {
      named('get');
      const secret = this.secrets.get(s[1]!);
      if (!secret || Date.parse(secret.expires) < this.now()) throw new ApiError(404, 'ResourceNotFound', `Secret ${s[1]} not found`);
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
  private indexListing(call: EmulatorCall, method: string, s: string[], body: unknown, query: URLSearchParams): { status: number; body: unknown } {
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
        const names = [...this.index.keys()].filter((key) => under(key) !== undefined && !under(key)!.includes('.')).sort();
        const { items, continuationToken } = page(names);
        answer = { tasks: items.map((key) => task(key, this.index.get(key)!)), ...(continuationToken && { continuationToken }) };
        schema = 'list-tasks-response.json';
      } else {
        call.name = 'listNamespaces';
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

  /** queue.createTask and its documented rules. */
  createTask(taskId: string, body: unknown): Record<string, unknown> {
    if (!/^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/.test(taskId)) throw new ApiError(400, 'InputError', `taskId ${taskId} is not a slugid`);
    const injected = this.failCreate.get(taskId) ?? this.failCreateIf?.(taskId, body);
    if (injected) throw new ApiError(injected.status, injected.code, injected.message);
    const problems = this.validatePayload ? checkTaskAgainstReference(this.validators, body, 'task') : this.validators.createTask(body, 'task');
    if (problems.length) throw new ApiError(400, 'InputValidationError', `Schema Validation Failed:\n${problems.join('\n')}`);
    const task = withDefaults(body as Record<string, unknown>) as StoredTask['task'];
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
    if (deadline < now) throw new ApiError(400, 'InputError', `deadline ${task.deadline} is in the past`);
    if (deadline > now + fiveDays) throw new ApiError(400, 'InputError', 'Deadline cannot be more than 5 days into the future');
    if (expires < deadline) throw new ApiError(400, 'InputError', `expires ${task.expires} is before the deadline ${task.deadline}`);
    const missing = task.dependencies.filter((d) => !this.tasks.has(d));
    if (missing.length) throw new ApiError(400, 'InputError', `task.dependencies references non-existing tasks: ${missing.join(', ')}`);
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

  private triggerHook(hookGroupId: string, hookId: string, payload: unknown): Record<string, unknown> {
    const hook = this.hooks.get(`${hookGroupId}/${hookId}`);
    if (!hook) throw new ApiError(404, 'ResourceNotFound', `hook ${hookGroupId}/${hookId} not found`);
    if (hook.triggerSchema) {
      const validate = new Ajv({ strict: false, allErrors: true }).compile(hook.triggerSchema);
      if (!validate(payload)) throw new ApiError(400, 'InputError', `payload does not match the hook's triggerSchema: ${JSON.stringify(validate.errors)}`);
    }
    const taskId = niceSlugid();
    let task: Record<string, unknown> | null;
    try {
      task = renderHookTask(hook.task, payload, taskId, `hook ${hookGroupId}/${hookId}`, new Date(this.now()).toISOString());
    } catch (error) {
      throw new ApiError(400, 'InputError', `rendering the hook's task template failed: ${(error as Error).message}`);
    }
    if (task === null) return {};
    this.createTask(taskId, task);
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

export async function startTaskclusterEmulator(options: EmulatorOptions = {}): Promise<TaskclusterEmulator> {
  return new TaskclusterEmulator(options).start();
}
