/**
 * Registry credentials from the docker configuration (`DOCKER_CONFIG` or `~/.docker/config.json`):
 * `auths` entries with `auth` (base64 user:password) or `identitytoken`, `credHelpers` per host
 * and `credsStore` for all, through `docker-credential-<name> get`. Values never leave this
 * module except to the auth layer, and never appear in messages.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, PromoteError, UsageError, quote } from '../errors.js';
import { fs, loadChildProcess } from '../util/builtins.js';
import { dockerHubHost } from './reference.js';

const { readFileSync } = fs;

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (`identitytoken`), exchanged at the token service. */
  identityToken?: string;
}

export type CredentialSource = (registry: string) => Promise<Credential | undefined>;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export const anonymous: CredentialSource = async () => undefined;

/** The keys docker itself may have written for a host. */
function keysFor(registry: string): string[] {
  if (registry === dockerHubHost) {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io'];
  }
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `http://${registry}/v1/`, `https://${registry}/v2/`];
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  return join(dir, 'config.json');
}

function readDockerConfig(path: string): DockerConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as DockerConfig;
  } catch {
    throw new UsageError(`docker configuration ${quote(path)}: not valid JSON`);
  }
}

/** `signal`: the command's stop (its deadline); a helper still running then is stopped with everything it started. */
export function dockerConfigCredentials(env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): CredentialSource {
  const path = dockerConfigPath(env);
  const cache = new Map<string, Promise<Credential | undefined>>();
  return (registry) => {
    let found = cache.get(registry);
    if (!found) {
      found = lookup(path, registry, env, signal);
      cache.set(registry, found);
    }
    return found;
  };
}

async function lookup(path: string, registry: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Promise<Credential | undefined> {
  const config = readDockerConfig(path);
  if (!config) return undefined;
  const keys = keysFor(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => h !== undefined);
  if (helper) return fromHelper(helper, keys[0]!, env, signal);
  const found = credentialFromAuths(config.auths ?? {}, registry, `docker configuration ${quote(path)}`);
  if (found) return found;
  if (config.credsStore) return fromHelper(config.credsStore, keys[0]!, env, signal);
  return undefined;
}

/** The credential an `auths` map of a docker config.json holds for a registry (the keys docker writes for it). */
export function credentialFromAuths(auths: NonNullable<DockerConfig['auths']>, registry: string, source: string): Credential | undefined {
  for (const key of keysFor(registry)) {
    const entry = Object.hasOwn(auths, key) ? auths[key] : undefined;
    if (!entry) continue;
    if (entry.identitytoken) return { identityToken: entry.identitytoken, ...(entry.username && { username: entry.username }) };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new UsageError(`${source}: auths[${quote(key)}].auth is not base64 of user:password`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** How long a credential helper may take, unless TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS says otherwise. */
export const defaultHelperTimeoutMs = 30_000;

function helperTimeoutMs(env: NodeJS.ProcessEnv): number {
  const text = env.TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS;
  if (text === undefined) return defaultHelperTimeoutMs;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) throw new UsageError(`TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS: ${quote(text)} is not a whole number of milliseconds from 1 to 9999999`);
  return Number(text);
}

function fromHelper(helper: string, serverUrl: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) {
    return Promise.reject(new UsageError(`docker configuration: credential helper name ${quote(helper)} is not valid`));
  }
  let timeout: number;
  try {
    timeout = helperTimeoutMs(env);
  } catch (error) {
    return Promise.reject(error);
  }
  const { spawn } = loadChildProcess();
  const name = `docker-credential-${helper}`;
  const stopped = (): PromoteError => {
    const reason: unknown = signal?.reason;
    return new PromoteError(`credential helper ${name} for ${serverUrl} was stopped: ${reason instanceof Error ? reason.message : 'the command was stopped'}`, ExitCode.operational);
  };
  if (signal?.aborted) return Promise.reject(stopped());
  return new Promise((resolve, reject) => {
    // Its own process group, so that a stuck helper is stopped with everything it started
    // (a shell's `sleep`, a keyring prompt) and nothing keeps its output open.
    const child = spawn(name, ['get'], { env, detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (outcome: () => void): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      process.removeListener('exit', stopGroup);
      outcome();
    };
    const stopGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      child.stdout?.destroy();
    };
    // The command's deadline, or the process ending, stops the helper's whole group too.
    const onAbort = (): void => {
      stopGroup();
      finish(() => reject(stopped()));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    process.once('exit', stopGroup);
    const timer = setTimeout(() => {
      stopGroup();
      finish(() =>
        reject(
          new PromoteError(
            `credential helper ${name} did not answer within ${timeout} ms for ${serverUrl} and was stopped (TC_PROMOTE_CREDENTIAL_HELPER_TIMEOUT_MS); check that it does not wait for a prompt or a locked keyring`,
            ExitCode.operational,
          ),
        ),
      );
    }, timeout);
    child.stdout?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) {
        stopGroup();
        finish(() => reject(new UsageError(`credential helper ${name} wrote more than 1 MiB for ${serverUrl}`)));
      } else chunks.push(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish(() =>
        reject(error.code === 'ENOENT' ? new UsageError(`credential helper ${name} (named by the docker configuration for ${serverUrl}) is not on PATH`) : new UsageError(`credential helper ${name} could not be run for ${serverUrl}: ${error.code ?? 'failed'}`)),
      ),
    );
    child.on('close', (code) =>
      finish(() => {
        const stdout = Buffer.concat(chunks).toString('utf8');
        if (code !== 0) {
          // "credentials not found" is how helpers say "anonymous"; anything else is a failure.
          if (/not found/i.test(stdout) || code === 1) return resolve(undefined);
          return reject(new UsageError(`credential helper ${name} failed for ${serverUrl} (exit ${code ?? 'by a signal'})`));
        }
        try {
          const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
          if (!parsed.Secret) return resolve(undefined);
          if (parsed.Username === '<token>') return resolve({ identityToken: parsed.Secret });
          resolve({ username: parsed.Username ?? '', password: parsed.Secret });
        } catch {
          reject(new UsageError(`credential helper ${name} returned malformed output for ${serverUrl}`));
        }
      }),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(serverUrl);
  });
}
