/**
 * The GitHub token: `GITHUB_TOKEN`, or inside a task the `github_token` field of the
 * configured Taskcluster secret (`taskcluster.secrets.github`), read through the task's
 * Taskcluster proxy (`TASKCLUSTER_PROXY_URL`). The value never leaves this module except to
 * the client's Authorization header; messages only say where a token came from.
 */
import type { Config } from '../config/load.js';
import { NotFoundError, RemoteError, UsageError, quote } from '../errors.js';

/** The field of the Taskcluster secret that holds the GitHub token. */
export const githubSecretKey = 'github_token';

export interface GitHubCredential {
  token: string;
  /** Where the token came from, for messages: `GITHUB_TOKEN` or the secret's name and key. */
  source: string;
}

export interface ResolveTokenOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export async function resolveGitHubToken(env: NodeJS.ProcessEnv, config: Config, options: ResolveTokenOptions = {}): Promise<GitHubCredential | undefined> {
  const fromEnv = env.GITHUB_TOKEN;
  if (fromEnv !== undefined && fromEnv !== '') return { token: checkToken(fromEnv, 'GITHUB_TOKEN'), source: 'GITHUB_TOKEN' };
  const proxy = env.TASKCLUSTER_PROXY_URL;
  if (proxy === undefined || proxy === '') return undefined;
  const name = config.taskcluster.secrets.github;
  const source = `Taskcluster secret ${quote(name)} (field ${githubSecretKey})`;
  const data = await readSecret(proxy, name, options);
  const value = data[githubSecretKey];
  if (typeof value !== 'string' || value === '') {
    throw new UsageError(`${source}: the secret has no non-empty string field ${quote(githubSecretKey)}; set GITHUB_TOKEN or add the field`);
  }
  return { token: checkToken(value, source), source };
}

/** A token is sent in a header: refuse anything that could break out of it. */
function checkToken(token: string, source: string): string {
  if (/[\s\u0000-\u001f\u007f]/.test(token)) throw new UsageError(`${source}: the token contains white space or control characters`);
  return token;
}

async function readSecret(proxyUrl: string, name: string, options: ResolveTokenOptions): Promise<Record<string, unknown>> {
  let base: URL;
  try {
    base = new URL(proxyUrl);
  } catch {
    throw new UsageError(`TASKCLUSTER_PROXY_URL: ${quote(proxyUrl)} is not a URL`);
  }
  const url = `${base.origin}${base.pathname.replace(/\/+$/, '')}/api/secrets/v1/secret/${encodeURIComponent(name)}`;
  const where = `Taskcluster secret ${quote(name)} through TASKCLUSTER_PROXY_URL`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new RemoteError(`${where}: request failed (${cause})`);
  }
  if (response.status === 404) throw new NotFoundError(`${where}: no such secret (HTTP 404)`);
  if (!response.ok) throw new RemoteError(`${where}: HTTP ${response.status}; the task needs the scope secrets:get:${name}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new RemoteError(`${where}: the response is not JSON`);
  }
  const secret = (body as { secret?: unknown } | null)?.secret;
  if (secret === null || typeof secret !== 'object' || Array.isArray(secret)) throw new RemoteError(`${where}: the response has no "secret" object`);
  return secret as Record<string, unknown>;
}
