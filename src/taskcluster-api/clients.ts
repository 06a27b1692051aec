/**
 * Taskcluster API clients from the environment: `TASKCLUSTER_ROOT_URL` with
 * `TASKCLUSTER_CLIENT_ID`/`TASKCLUSTER_ACCESS_TOKEN` on a workstation, or
 * `TASKCLUSTER_PROXY_URL` inside a task (the proxy signs with the task's scopes).
 * taskcluster-client is imported only here and only when a command talks to Taskcluster,
 * so rendering starts fast. Its errors become typed errors without credentials.
 */
import type { Auth, ClientError, ClientOptions, Credentials, Hooks, Index, Queue, Secrets } from 'taskcluster-client';
import { ConflictError, NotFoundError, PromoteError, RemoteError, UsageError, quoteUrl } from '../errors.js';

/**
 * Most calls in flight, and sockets kept, per client. A promotion graph is wide and shallow
 * (one promote task per target, then the fallback): at the Queue's latency (~100 ms a call) a
 * limit below the graph's width makes submission take a round per batch instead of one per
 * level (bench/graph.ts).
 */
export const maxConcurrentCalls = 200;

export interface TaskclusterConnection {
  /** Where API calls go: the proxy inside a task, otherwise the deployment. */
  apiRootUrl: string;
  /** The deployment itself, for links such as the task group's page. */
  rootUrl: string;
  credentials?: Credentials;
  viaProxy: boolean;
}

export function parseRootUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${field}: ${quoteUrl(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${field}: ${quoteUrl(text)} must be an http(s) URL`);
  if (url.username || url.password || url.search || url.hash) throw new UsageError(`${field}: the root URL may not carry credentials, a query or a fragment`);
  return url.href.replace(/\/+$/, '');
}

/** Flag first, then the environment, then the configuration. */
export function resolveConnection(env: NodeJS.ProcessEnv, flagRootUrl: string | undefined, configRootUrl: string): TaskclusterConnection {
  const rootUrl = parseRootUrl(flagRootUrl ?? env.TASKCLUSTER_ROOT_URL ?? configRootUrl, flagRootUrl !== undefined ? '--root-url' : env.TASKCLUSTER_ROOT_URL !== undefined ? 'TASKCLUSTER_ROOT_URL' : 'taskcluster.rootUrl');
  const proxy = env.TASKCLUSTER_PROXY_URL;
  if (proxy !== undefined && proxy !== '' && flagRootUrl === undefined) {
    return { apiRootUrl: parseRootUrl(proxy, 'TASKCLUSTER_PROXY_URL'), rootUrl, viaProxy: true };
  }
  const clientId = env.TASKCLUSTER_CLIENT_ID;
  const accessToken = env.TASKCLUSTER_ACCESS_TOKEN;
  if (Boolean(clientId) !== Boolean(accessToken)) {
    throw new UsageError(`${clientId ? 'TASKCLUSTER_ACCESS_TOKEN' : 'TASKCLUSTER_CLIENT_ID'}: missing; set both TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, or neither`);
  }
  const credentials: Credentials | undefined =
    clientId && accessToken ? { clientId, accessToken, ...(env.TASKCLUSTER_CERTIFICATE ? { certificate: env.TASKCLUSTER_CERTIFICATE } : {}) } : undefined;
  return { apiRootUrl: rootUrl, rootUrl, viaProxy: false, ...(credentials && { credentials }) };
}

export interface TaskclusterClients {
  queue: Queue;
  hooks: Hooks;
  index: Index;
  secrets: Secrets;
  auth: Auth;
}

export async function createClients(connection: TaskclusterConnection, overrides: Partial<ClientOptions> = {}): Promise<TaskclusterClients> {
  const { default: taskcluster } = await import('taskcluster-client');
  const options: ClientOptions = {
    rootUrl: connection.apiRootUrl,
    credentials: connection.credentials ?? {},
    // Submissions run many creates at once: as many sockets, kept open between calls.
    agent: { keepAlive: true, maxSockets: maxConcurrentCalls },
    ...overrides,
  };
  return {
    queue: new taskcluster.Queue(options),
    hooks: new taskcluster.Hooks(options),
    index: new taskcluster.Index(options),
    secrets: new taskcluster.Secrets(options),
    auth: new taskcluster.Auth(options),
  };
}

export function taskGroupUrl(rootUrl: string, taskGroupId: string): string {
  return `${rootUrl}/tasks/groups/${taskGroupId}`;
}

export function taskUrl(rootUrl: string, taskId: string): string {
  return `${rootUrl}/tasks/${taskId}`;
}

/** A taskcluster-client failure as a typed error naming what was being done. */
export function taskclusterError(error: unknown, doing: string): PromoteError {
  if (error instanceof PromoteError) return error;
  const e = error as ClientError;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const detail = e?.code === 'InsufficientScopes' ? insufficientScopes(e.message ?? '') : firstLine(e?.message ?? String(error));
  const code = e?.code ? `${e.code}: ` : '';
  const message = `${doing}: ${status !== undefined ? `${status} ` : ''}${code}${detail}`;
  if (status === 404) return new NotFoundError(message, { cause: error });
  if (status === 409) return new ConflictError(message, { cause: error });
  if (status === 401) return new RemoteError(`${message}${authenticationHint(`${e?.message ?? ''}`)}`, { cause: error });
  if (status === 403) return new RemoteError(`${message} (check the credentials' scopes)`, { cause: error });
  return new RemoteError(message, { cause: error });
}

/**
 * What a 401 (AuthenticationFailed: the Hawk signature was refused, before any scope is
 * looked at) means, from the auth service's reason (hawk's Boom message, as
 * services/auth/src/signaturevalidator.js passes it on): not the scopes, the credentials.
 */
export function authenticationHint(message: string): string {
  if (/Bad mac/i.test(message)) return ': the access token is wrong for this client ID (TASKCLUSTER_ACCESS_TOKEN does not match TASKCLUSTER_CLIENT_ID: copied whole? reset since?)';
  if (/Unknown credentials|client .*not found|Unknown client/i.test(message)) return ': no such client ID (TASKCLUSTER_CLIENT_ID, on this TASKCLUSTER_ROOT_URL)';
  if (/Stale timestamp/i.test(message)) return ": this machine's clock is off by more than a minute (Hawk signs the time): set the clock";
  if (/certificate\.expiry|expired/i.test(message)) return ': the temporary credentials expired (TASKCLUSTER_CERTIFICATE): sign in again for new ones';
  return ' (the credentials were refused: check TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN)';
}

/**
 * taskcluster-lib-api's InsufficientScopes message: its first line, and the scopes it lists
 * in the first code block (what is missing, or the whole requirement for an anonymous call).
 */
function insufficientScopes(message: string): string {
  const head = firstLine(message).replace(/:$/, '');
  const listed = missingScopes(message);
  return listed === undefined ? head : `${head}: ${listed}`;
}

/**
 * The scopes of the first code block of an InsufficientScopes message (lib-api writes what
 * is missing there, as a scope or a JSON scope expression): `a, b, one of c | d`.
 */
export function missingScopes(message: string): string | undefined {
  const block = /```\n([\s\S]*?)\n```/.exec(message)?.[1];
  if (block === undefined) return undefined;
  let items: string[];
  try {
    items = describeExpression(JSON.parse(block) as unknown);
  } catch {
    items = block.split('\n').map((l) => l.trim()).filter(Boolean);
  }
  const unique = [...new Set(items)];
  return unique.slice(0, 20).join(', ') + (unique.length > 20 ? `, … (${unique.length - 20} more)` : '');
}

/** A scope expression as a list: AllOf flattened, AnyOf as `one of a | b`. */
function describeExpression(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  const n = node as { AllOf?: unknown[]; AnyOf?: unknown[] } | null;
  if (n && Array.isArray(n.AllOf)) return n.AllOf.flatMap(describeExpression);
  if (n && Array.isArray(n.AnyOf)) {
    const choices = n.AnyOf.map((c) => describeExpression(c).join(' and '));
    return choices.length === 1 ? choices : [`one of ${choices.join(' | ')}`];
  }
  throw new Error('not a scope expression');
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
