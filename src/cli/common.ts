/**
 * What every command shares at the CLI edge: flag parsing with node:util parseArgs (unknown
 * flags are usage errors that name the flag), the runtime built from global flags, and output.
 */
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/load.js';
import { UsageError, quote, quoteUrl } from '../errors.js';
import type { Runtime } from '../history/runtime.js';
import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/credentials.js';
import { registryCredentialSource } from '../registry/secret-credentials.js';
import type { Redactor } from '../registry/redact.js';
import { parseRegistryOverride } from '../registry/reference.js';
import { util } from '../util/builtins.js';
import { didYouMean } from '../util/suggest.js';

const { parseArgs } = util;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTty: boolean;
  /** The command's stop signal: aborted when its deadline passes (set by main). */
  signal?: AbortSignal;
  /** Credentials the run knows of or sent: removed from everything printed (set by main). */
  redactor?: Redactor;
  /** stdout is a colour terminal (main turns it off for NO_COLOR); commands mark words with paint. */
  colour?: boolean;
  /** Output goes to another main()'s io (the drill's steps), which cleans and colours it. */
  nested?: boolean;
  /** The width every line fits (set by main: COLUMNS, else the terminal's, else 120). */
  width?: number;
  /** False: lines are not wrapped to the width (tests that match messages whole); tables still fit it. */
  wrap?: boolean;
  /** stdout's terminal columns, when it is one (defaultIo). */
  columns?: number;
  /** Ask a yes/no question on the terminal; absent when no terminal can answer (no TTY on stdin). */
  confirm?: (question: string) => Promise<boolean>;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export const globalOptions = {
  config: { type: 'string' },
  registry: { type: 'string' },
  'root-url': { type: 'string' },
  'hub-api': { type: 'string' },
  'page-size': { type: 'string' },
  'registry-secret': { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export const globalHelp = `Global flags:
  --config FILE      configuration (YAML); default: the embedded scriptworker-scripts one
  --registry URL     use this registry for every repository (e.g. http://127.0.0.1:5000)
  --root-url URL     Taskcluster root URL; default $TASKCLUSTER_ROOT_URL or the configuration's
  --hub-api URL      Docker Hub API base (default https://hub.docker.com, for docker.io repositories)
  --page-size N      tags per page when listing a registry (default 1000)
  --registry-secret NAME
                     registry credentials from this Taskcluster secret's dockercfg (inside a
                     task, with TASKCLUSTER_PROXY_URL, the configured taskcluster.secrets.registry)
  --json             print machine-readable JSON instead of tables
  --debug            print stack traces of errors (never credentials)
  -h, --help         this help`;

export interface Parsed<V> {
  values: V;
  positionals: string[];
}

export function parseCommandArgs<O extends OptionSpec>(command: string, argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options: { ...globalOptions, ...options }, allowPositionals, strict: true });
  } catch (error) {
    // An unknown flag: the closest known one, when one is close.
    const unknown = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(--?[^']*)'/.exec((error as Error).message)?.[1] : undefined;
    const known = Object.keys({ ...globalOptions, ...options });
    const hint = unknown?.startsWith('--') ? didYouMean(unknown.slice(2).split('=')[0]!, known, '--') : '';
    // node:util's message quotes the flag as typed: escape and shorten it, and keep one line.
    const message = (error as Error).message
      .replace(/\. To specify a positional argument starting with a '-'.*$/s, '')
      .replace(/'([^']*)'/g, (_, flag: string) => `'${quote(flag, 60).slice(1, -1)}'`)
      .replace(/\s*\n\s*/g, ' ');
    throw new UsageError(hint ? `${message}${hint} See tc-promote ${command} --help` : `${message}; see tc-promote ${command} --help`);
  }
}

export interface GlobalValues {
  config?: string;
  registry?: string;
  'root-url'?: string;
  'hub-api'?: string;
  'page-size'?: string;
  'registry-secret'?: string;
  json?: boolean;
  debug?: boolean;
}

export function positiveInteger(text: string | undefined, field: string, max = 100_000): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`${field}: ${quote(text)} is not a whole number from 1 to ${max}`);
  return Number(text);
}

export function buildRuntime(values: GlobalValues, io: Io, config: Config = loadConfig(values.config), options: { connections?: number } = {}): Runtime {
  const override = values.registry !== undefined ? parseRegistryOverride(values.registry) : undefined;
  const timeoutMs = positiveInteger(io.env.TC_PROMOTE_HTTP_TIMEOUT_MS, 'TC_PROMOTE_HTTP_TIMEOUT_MS', 3_600_000);
  const deadlineMs = positiveInteger(io.env.TC_PROMOTE_HTTP_DEADLINE_MS, 'TC_PROMOTE_HTTP_DEADLINE_MS', 3_600_000);
  const retryBaseMs = positiveInteger(io.env.TC_PROMOTE_RETRY_BASE_MS, 'TC_PROMOTE_RETRY_BASE_MS', 60_000);
  const maxPages = positiveInteger(io.env.TC_PROMOTE_MAX_TAG_PAGES, 'TC_PROMOTE_MAX_TAG_PAGES', 1_000_000);
  const maxTags = positiveInteger(io.env.TC_PROMOTE_MAX_TAGS, 'TC_PROMOTE_MAX_TAGS', 100_000_000);
  const client = new RegistryClient({
    credentials: registryCredentialSource({
      env: io.env,
      secretName: values['registry-secret'],
      configSecret: config.taskcluster.secrets.registry,
      rootUrl: config.taskcluster.rootUrl,
      flagRootUrl: values['root-url'],
      dockerConfig: dockerConfigCredentials(io.env, io.signal),
    }),
    plainHttpHosts: new Set(override?.plainHttp ? [override.registry] : []),
    describeRegistry: (host) => (override ? (host === override.registry ? '--registry' : undefined) : registryOrigin(config, host)),
    httpsHosts: new Set(override && !override.plainHttp ? [override.registry] : []),
    ...(options.connections !== undefined && { connections: options.connections }),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(deadlineMs !== undefined && { deadlineMs }),
    ...(io.signal && { signal: io.signal }),
    ...(io.redactor && { redactor: io.redactor }),
    listing: { ...(maxPages !== undefined && { maxPages }), ...(maxTags !== undefined && { maxTags }) },
    retry: {
      ...(retryBaseMs !== undefined && { baseDelayMs: retryBaseMs }),
      onRetry: ({ attempt, delayMs, reason }) => {
        if (io.isTty || values.debug) io.stderr(`retrying after ${reason} (attempt ${attempt}, waiting ${Math.round(delayMs)} ms)\n`);
      },
    },
  });
  let hubApi: string | undefined;
  if (values['hub-api'] !== undefined) {
    try {
      hubApi = new URL(values['hub-api']).origin;
    } catch {
      throw new UsageError(`--hub-api: ${quoteUrl(values['hub-api'])} is not a URL`);
    }
  }
  const pageSize = positiveInteger(values['page-size'], '--page-size', 10_000);
  return {
    config,
    client,
    ...(override && { registryOverride: override.registry }),
    ...(hubApi !== undefined && { hubApi }),
    ...(pageSize !== undefined && { pageSize }),
    nowMs: clock(io.env),
  };
}

/** Which configuration entry names a registry host (docker.io's API host is registry-1.docker.io). */
function registryOrigin(config: Config, host: string): string | undefined {
  for (const [env, settings] of Object.entries(config.environments)) {
    const named = (registry: string): boolean => registry === host || (registry === 'docker.io' && host === 'registry-1.docker.io');
    if (named(settings.source.registry)) return `the configuration's environments.${env}.source (--config, or --registry URL for another)`;
    const i = settings.targets.findIndex((t) => named(t.registry));
    if (i >= 0) return `the configuration's environments.${env}.targets[${i}] (--config, or --registry URL for another)`;
  }
  return undefined;
}

/** One clock for a run; `TC_PROMOTE_NOW` (ISO 8601) pins it for reproducible output. */
export function clock(env: NodeJS.ProcessEnv): number {
  const pinned = env.TC_PROMOTE_NOW;
  if (pinned === undefined) return Date.now();
  const ms = parseIsoTime(pinned);
  if (ms === undefined) throw new UsageError(`TC_PROMOTE_NOW: ${quote(pinned)} is not an ISO 8601 time (YYYY-MM-DDTHH:MM:SS[.sss]Z or ±HH:MM)`);
  return ms;
}

/**
 * An ISO 8601 date-time with a zone, and a real one: Date.parse alone takes other forms
 * ("Feb 30 2021") and rolls impossible dates over (2021-02-30 becomes March 2).
 */
export function parseIsoTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || check.getUTCHours() !== hour || check.getUTCMinutes() !== minute || check.getUTCSeconds() !== second) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
