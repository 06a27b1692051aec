/**
 * The part of taskcluster-client (ESM, untyped) that tc-promote uses. Responses are typed
 * as far as tc-promote reads them; everything else stays `unknown`. The client classes are
 * properties of the default export only (`taskcluster.Queue`): the package has no named
 * `Queue` export, so the classes are declared here as types plus constructors on `default`.
 */
declare module 'taskcluster-client' {
  export interface Credentials {
    clientId: string;
    accessToken: string;
    certificate?: string;
  }

  export interface ClientOptions {
    rootUrl: string;
    /** `{}` means anonymous (no fallback to the process-wide defaults). */
    credentials?: Credentials | Record<string, never>;
    retries?: number;
    delayFactor?: number;
    randomizationFactor?: number;
    maxDelay?: number;
    timeout?: number;
    /** Options for the http(s).Agent the client creates. */
    agent?: { keepAlive?: boolean; maxSockets?: number; maxFreeSockets?: number };
    /** Fake mode for unit tests: calls go to these functions and are recorded in `fakeCalls`. */
    fake?: Record<string, (...args: never[]) => unknown> | null;
  }

  /** What taskcluster-client throws for an HTTP error answer. */
  export interface ClientError extends Error {
    statusCode?: number;
    code?: string;
    body?: unknown;
  }

  export interface TaskStatus {
    taskId: string;
    taskGroupId: string;
    schedulerId: string;
    state: 'unscheduled' | 'pending' | 'running' | 'completed' | 'failed' | 'exception';
    deadline: string;
    expires: string;
    runs: { runId: number; state: string; reasonCreated?: string; reasonResolved?: string }[];
    [key: string]: unknown;
  }

  export interface TaskStatusResponse {
    status: TaskStatus;
  }

  export interface ListTaskGroupResponse {
    taskGroupId: string;
    tasks: { status: TaskStatus; task: Record<string, unknown> }[];
    continuationToken?: string;
  }

  export interface ArtifactLocation {
    storageType: string;
    url?: string;
    [key: string]: unknown;
  }

  interface BaseClient {
    fakeCalls?: Record<string, Record<string, unknown>[]>;
    /** Build the URL of a method call, e.g. `queue.buildUrl(queue.task, taskId)`. */
    buildUrl(method: (...args: never[]) => unknown, ...args: string[]): string;
  }

  export interface Queue extends BaseClient {
    createTask(taskId: string, task: object): Promise<TaskStatusResponse>;
    task(taskId: string): Promise<Record<string, unknown>>;
    status(taskId: string): Promise<TaskStatusResponse>;
    rerunTask(taskId: string): Promise<TaskStatusResponse>;
    listTaskGroup(taskGroupId: string, query?: { continuationToken?: string; limit?: number }): Promise<ListTaskGroupResponse>;
    latestArtifact(taskId: string, name: string): Promise<ArtifactLocation>;
    getLatestArtifact(taskId: string, name: string): Promise<ArtifactLocation>;
  }

  export interface Hooks extends BaseClient {
    triggerHook(hookGroupId: string, hookId: string, payload: object): Promise<{ taskId?: string; status?: { taskId?: string } }>;
  }

  export interface Auth extends BaseClient {
    expandScopes(body: { scopes: string[] }): Promise<{ scopes: string[] }>;
    currentScopes(): Promise<{ scopes: string[] }>;
  }

  export interface IndexedTask {
    namespace: string;
    taskId: string;
    rank: number;
    data: unknown;
    expires: string;
  }

  export interface Index extends BaseClient {
    findTask(indexPath: string): Promise<IndexedTask>;
    /** The task at each index path (0 or 1 each), up to 1000 a page. */
    findTasksAtIndex(payload: { indexes: string[] }, query?: { continuationToken?: string; limit?: number }): Promise<{ tasks: IndexedTask[]; continuationToken?: string }>;
    /** The tasks directly in a namespace, up to 1000 a page. */
    listTasks(namespace: string, query?: { continuationToken?: string; limit?: number }): Promise<{ tasks: IndexedTask[]; continuationToken?: string }>;
    insertTask(namespace: string, payload: { taskId: string; rank: number; data: Record<string, unknown>; expires: string }): Promise<IndexedTask>;
  }

  export interface Secrets extends BaseClient {
    get(name: string): Promise<{ secret: unknown; expires: string }>;
  }

  /** Download an artifact of the latest (or given) run, whatever its storage type. Returns its content type. */
  export function downloadArtifact(options: {
    taskId: string;
    runId?: number;
    name: string;
    queue: Queue;
    streamFactory: () => Promise<NodeJS.WritableStream> | NodeJS.WritableStream;
    retries?: number;
  }): Promise<string>;

  export function slugid(): string;
  export function fromNowJSON(offset?: string, reference?: Date): string;
  export function fromEnvVars(): Partial<ClientOptions>;

  const taskcluster: {
    Queue: new (options: ClientOptions) => Queue;
    Hooks: new (options: ClientOptions) => Hooks;
    Auth: new (options: ClientOptions) => Auth;
    Index: new (options: ClientOptions) => Index;
    Secrets: new (options: ClientOptions) => Secrets;
    downloadArtifact: typeof downloadArtifact;
    slugid: typeof slugid;
    fromNowJSON: typeof fromNowJSON;
    fromEnvVars: typeof fromEnvVars;
  };
  export default taskcluster;
}
