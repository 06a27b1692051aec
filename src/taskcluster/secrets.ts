/**
 * Reading one Taskcluster secret, inside a task through its proxy (`TASKCLUSTER_PROXY_URL`,
 * where the task's own scopes decide) or from a workstation with the caller's credentials.
 * The value goes back to the caller only; messages name the secret and what went wrong,
 * never a value.
 */
import { NotFoundError, RemoteError, quote } from '../errors.js';
import { createClients, type TaskclusterConnection } from '../taskcluster-api/clients.js';

export async function readTaskclusterSecret(connection: TaskclusterConnection, name: string): Promise<Record<string, unknown>> {
  const where = `Taskcluster secret ${quote(name)}${connection.viaProxy ? ' through TASKCLUSTER_PROXY_URL' : ''}`;
  const { secrets } = await createClients(connection, { retries: 2 });
  let answer: { secret: unknown };
  try {
    answer = await secrets.get(name);
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (status === 404) throw new NotFoundError(`${where}: no such secret (HTTP 404)`, { cause: error });
    if (status === 401 || status === 403) {
      throw new RemoteError(`${where}: HTTP ${status}: ${connection.viaProxy ? "the task's scopes lack" : 'the credentials lack'} secrets:get:${name}${connection.viaProxy ? ' (an action task has its role\'s: tc-promote grants --check compares a role with what it needs)' : ''}`, { cause: error });
    }
    throw new RemoteError(`${where}: ${typeof status === 'number' ? `HTTP ${status}` : `request failed (${(error as { code?: string }).code ?? (error as Error).name})`}`, { cause: error });
  }
  const secret = answer?.secret;
  if (secret === null || typeof secret !== 'object' || Array.isArray(secret)) throw new RemoteError(`${where}: the answer has no "secret" object`);
  return secret as Record<string, unknown>;
}
