/**
 * What every command shares at the CLI edge: flag parsing with node:util parseArgs (unknown
 * flags are usage errors that name the flag), the runtime built from global flags, and output.
 */
import { shellQuote } from '../util/shell.js';
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/load.js';
import { UsageError, quote, quoteUrl } from '../errors.js';
import type { Runtime } from '../history/runtime.js';
import type { Redactor } from '../registry/redact.js';
import { buildRuntime as buildRuntimeFrom, type RuntimeOptions } from '../operations/runtime.js';
import { positiveInteger } from '../operations/settings.js';
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
  /** When that deadline passes, ms since the epoch (set by main): no retry waits past it. */
  deadlineAtMs?: number;
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

/** What main hands a command besides its arguments: the table, and a way to run another command as main would. */
export interface CommandContext {
  commands: CommandTable;
  /** Run a command line as main does (a drill step): its output cleaned into `io`, its error a message and an exit code. */
  run: (argv: string[], io: Io) => Promise<number>;
}

export interface Command {
  help: string;
  run: (argv: string[], io: Io, context: CommandContext) => Promise<number>;
}

export interface CommandEntry {
  summary: string;
  /** Loaded on use: a command pays only for its own dependencies at start-up. */
  load: () => Promise<Command>;
}

export type CommandTable = Record<string, CommandEntry>;

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

export { clock, parseIsoTime, positiveInteger } from '../operations/settings.js';

/** The global flags as the runtime's options: the only place their names meet the runtime. */
export function runtimeOptions(values: GlobalValues, io: Io, config: Config = loadConfig(values.config), options: { connections?: number } = {}): RuntimeOptions {
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
    env: io.env,
    ...(values.registry !== undefined && { registry: values.registry }),
    ...(values['root-url'] !== undefined && { rootUrl: values['root-url'] }),
    ...(hubApi !== undefined && { hubApi }),
    ...(pageSize !== undefined && { pageSize }),
    ...(values['registry-secret'] !== undefined && { registrySecret: values['registry-secret'] }),
    ...(io.signal && { signal: io.signal }),
    ...(io.deadlineAtMs !== undefined && { deadlineAtMs: io.deadlineAtMs }),
    ...(io.redactor && { redactor: io.redactor }),
    ...(options.connections !== undefined && { connections: options.connections }),
    onProgress: (message) => {
      if (io.isTty || values.debug) io.stderr(`${message}\n`);
    },
  };
}

/** The runtime for a command's global flags. */
export function buildRuntime(values: GlobalValues, io: Io, config?: Config, options: { connections?: number } = {}): Runtime {
  return buildRuntimeFrom(runtimeOptions(values, io, config, options));
}

export function printJson(io: Io, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** The flags a pasted follow or cancel line needs to reach the same Taskcluster and registry. */
export function followFlags(values: { config?: string | undefined; registry?: string | undefined; 'root-url'?: string | undefined }): string {
  return [values.config !== undefined && ` --config ${shellQuote(values.config)}`, values.registry !== undefined && ` --registry ${shellQuote(values.registry)}`, values['root-url'] !== undefined && ` --root-url ${shellQuote(values['root-url'])}`].filter(Boolean).join('');
}
