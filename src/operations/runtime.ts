/**
 * The runtime every registry-reading operation stands on: the configuration, one registry
 * client (its credential source, timeouts, retries and page caps), the registry override and
 * the clock. Built from options of its own type: the command line maps its flags onto them
 * (src/cli/common.ts runtimeOptions), the drill and other programs fill them in directly.
 */
import { loadConfig, type Config } from '../config/load.js';
import type { Runtime } from '../history/runtime.js';
import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/credentials.js';
import type { Redactor } from '../registry/redact.js';
import { parseRegistryOverride } from '../registry/reference.js';
import { registryCredentialSource } from '../taskcluster/registry-credentials.js';
import { clock, positiveInteger } from './settings.js';

export interface RuntimeOptions {
  /** The configuration; else read from configPath (else the embedded one). */
  config?: Config;
  configPath?: string;
  /** Use this registry for every repository (http://host:port for plain HTTP). */
  registry?: string;
  /** Taskcluster root URL given for this run (where a secret is read from). */
  rootUrl?: string;
  /** Docker Hub API origin. */
  hubApi?: string;
  /** Tags per page when listing. */
  pageSize?: number;
  /** Registry credentials from this Taskcluster secret (inside a task: the configured one). */
  registrySecret?: string;
  /** The environment: TC_PROMOTE_HTTP_TIMEOUT_MS and the other knobs, docker and Taskcluster credentials. */
  env: NodeJS.ProcessEnv;
  /** Stops every request (the command deadline, Ctrl-C). */
  signal?: AbortSignal;
  /** When the command's deadline passes (ms since the epoch): no retry waits past it. */
  deadlineAtMs?: number;
  redactor?: Redactor;
  /** Most registry connections at once. */
  connections?: number;
  /** The clock; default TC_PROMOTE_NOW or now. */
  nowMs?: number;
  /** Told of each retry. */
  onProgress?: (message: string) => void;
}

export function buildRuntime(options: RuntimeOptions): Runtime {
  const config = options.config ?? loadConfig(options.configPath);
  const env = options.env;
  const override = options.registry !== undefined ? parseRegistryOverride(options.registry) : undefined;
  const timeoutMs = positiveInteger(env.TC_PROMOTE_HTTP_TIMEOUT_MS, 'TC_PROMOTE_HTTP_TIMEOUT_MS', 3_600_000);
  const deadlineMs = positiveInteger(env.TC_PROMOTE_HTTP_DEADLINE_MS, 'TC_PROMOTE_HTTP_DEADLINE_MS', 3_600_000);
  const retryBaseMs = positiveInteger(env.TC_PROMOTE_RETRY_BASE_MS, 'TC_PROMOTE_RETRY_BASE_MS', 60_000);
  const maxPages = positiveInteger(env.TC_PROMOTE_MAX_TAG_PAGES, 'TC_PROMOTE_MAX_TAG_PAGES', 1_000_000);
  const maxTags = positiveInteger(env.TC_PROMOTE_MAX_TAGS, 'TC_PROMOTE_MAX_TAGS', 100_000_000);
  const client = new RegistryClient({
    credentials: registryCredentialSource({
      env: env,
      secretName: options.registrySecret,
      configSecret: config.taskcluster.secrets.registry,
      rootUrl: config.taskcluster.rootUrl,
      flagRootUrl: options.rootUrl,
      dockerConfig: dockerConfigCredentials(env, options.signal),
    }),
    plainHttpHosts: new Set(override?.plainHttp ? [override.registry] : []),
    describeRegistry: (host) => (override ? (host === override.registry ? '--registry' : undefined) : registryOrigin(config, host)),
    httpsHosts: new Set(override && !override.plainHttp ? [override.registry] : []),
    ...(options.connections !== undefined && { connections: options.connections }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(deadlineMs !== undefined && { deadlineMs }),
    ...(options.signal && { signal: options.signal }),
    ...(options.deadlineAtMs !== undefined && { deadlineAtMs: options.deadlineAtMs }),
    ...(options.redactor && { redactor: options.redactor }),
    listing: { ...(maxPages !== undefined && { maxPages }), ...(maxTags !== undefined && { maxTags }) },
    retry: {
      ...(retryBaseMs !== undefined && { baseDelayMs: retryBaseMs }),
      onRetry: ({ attempt, delayMs, reason }) => options.onProgress?.(`retrying after ${reason} (attempt ${attempt}, waiting ${Math.round(delayMs)} ms)`),
    },
  });
  const { hubApi, pageSize } = options;
  return {
    config,
    client,
    ...(override && { registryOverride: override.registry }),
    ...(hubApi !== undefined && { hubApi }),
    ...(pageSize !== undefined && { pageSize }),
    nowMs: options.nowMs ?? clock(env),
  };
}

/** Which configuration entry names a registry host (docker.io's API host is registry-1.docker.io): what a refused connection names. */
function registryOrigin(config: Config, host: string): string | undefined {
  for (const [env, settings] of Object.entries(config.environments)) {
    const named = (registry: string): boolean => registry === host || (registry === 'docker.io' && host === 'registry-1.docker.io');
    if (named(settings.source.registry)) return `the configuration's environments.${env}.source (--config, or --registry URL for another)`;
    const i = settings.targets.findIndex((t) => named(t.registry));
    if (i >= 0) return `the configuration's environments.${env}.targets[${i}] (--config, or --registry URL for another)`;
  }
  return undefined;
}
