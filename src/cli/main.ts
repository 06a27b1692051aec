/**
 * The CLI edge: dispatch to one thin module per command, and turn typed errors into a
 * message on stderr and an exit code (with --json, a JSON object on stderr as well). No stack
 * traces unless --debug; never credentials.
 *
 * `--help` of any command prints without loading the command's module graph: the help texts
 * are written at build time beside this file (help.json, by scripts/write-help.js, checked
 * against each module's own text); without it (tests run the sources) the module is loaded.
 */
import { createRequire } from 'node:module';
import { ExitCode, PromoteError, RemoteError, UsageError, escapeUnsafeCharacters, quote } from '../errors.js';
import { Redactor } from '../registry/redact.js';
import { colourWanted, renderColour } from './colour.js';
import { prebuiltHelp, version } from './help-fast.js';
import { commands, usage } from './commands.js';
import { defaultCommandTimeoutMs } from './deadline.js';
import type { CommandContext, Io } from './common.js';
import { didYouMean } from '../util/suggest.js';
import { fitText, terminalWidth } from '../present/layout.js';

const require = createRequire(import.meta.url);

export { commands, usage } from './commands.js';
export { prebuiltHelp, version } from './help-fast.js';

/** The error as --json prints it on stderr: its code, exit code, the field it names, its message. */
export function errorJson(error: unknown, exit: number): { error: { code: string; exit: number; field: string | null; message: string } } {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof PromoteError ? ({ 1: 'operational', 2: 'usage', 3: 'conflict', 4: 'not-found' } as Record<number, string>)[error.exitCode] ?? 'error' : 'internal';
  // Messages name their field first: "--limit: …", "TC_PROMOTE_NOW: …", "<dst>: …", "github.repository: …".
  // node:util's parse errors quote the flag ("Unknown option '--limt'"); "A and B: not set" names A first.
  const named =
    /^(--?[a-z][a-z0-9-]*|[A-Z][A-Z0-9_]{2,}|<[a-z]+>|[a-z][\w-]*(?:\.[\w-]+)+|[a-z][a-z-]*)(?=:\s)/.exec(message)?.[1] ??
    /^(?:Unknown option|Option) '(?:-[A-Za-z0-9], )?(--?[A-Za-z0-9][\w-]*)/.exec(message)?.[1] ??
    /^([A-Z][A-Z0-9_]{2,})(?= and [A-Z][A-Z0-9_]{2,}: )/.exec(message)?.[1] ??
    null;
  // "history: takes one script" names the command, not a field.
  const field = named !== null && Object.hasOwn(commands, named) ? null : named;
  return { error: { code, exit, field, message } };
}

export function defaultIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    isTty: Boolean(process.stderr.isTTY),
    colour: Boolean(process.stdout.isTTY),
    ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
    // Asked of the file descriptor: touching process.stdin would build the stream (and load fs/promises) on every start.
    ...((require('node:tty') as typeof import('node:tty')).isatty(0) && process.stderr.isTTY && { confirm: confirmOnTerminal }),
  };
}

/** Ask on the terminal (the question on stderr, the answer from stdin): true only for y or yes. */
async function confirmOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Ctrl-C at the prompt is a no (and so is Ctrl-D, below).
  const answered = new Promise<null>((resolve) => rl.once('SIGINT', () => resolve(null)));
  try {
    // Ctrl-D (end of input) rejects the question: a no as well.
    const answer = await Promise.race([rl.question(question).catch(() => null), answered]);
    // Neither key ends the line the question is on.
    if (answer === null) process.stderr.write('\n');
    return answer !== null && /^(y|yes)$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export { defaultCommandTimeoutMs };
/** After the deadline, how long the command has to stop on its own (and say where it stopped). */
const stopGraceMs = 2_000;

let deadlinePassed = false;
/** Whether a command of this process ran into its deadline or was stopped by a signal (bin/tc-promote.js then exits at once). */
export function commandDeadlinePassed(): boolean {
  return deadlinePassed;
}

function commandTimeoutMs(env: NodeJS.ProcessEnv): number {
  const text = env.TC_PROMOTE_COMMAND_TIMEOUT_MS;
  if (text === undefined) return defaultCommandTimeoutMs;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new UsageError(`TC_PROMOTE_COMMAND_TIMEOUT_MS: ${quote(text)} is not a whole number of milliseconds from 1 to 999999999`);
  return Number(text);
}

/**
 * Run the command under its deadline. When it passes, every registry and GitHub request is
 * stopped through `signal`; the command then has a moment to fail on its own (its message
 * says where it was, say "the moving tag moved, the archive tag was not written"), else the
 * deadline is the error.
 */
async function underDeadline(run: Promise<number>, timeoutMs: number, controller: AbortController): Promise<number> {
  const first = await within(run, timeoutMs);
  if (first !== undefined) return first;
  deadlinePassed = true;
  controller.abort(new Error(`the command deadline of ${timeoutMs} ms passed (TC_PROMOTE_COMMAND_TIMEOUT_MS)`));
  run.catch(() => undefined);
  const stopped = await within(run, stopGraceMs);
  if (stopped !== undefined) return stopped;
  throw new RemoteError(`the command did not finish within ${timeoutMs} ms (the command deadline, TC_PROMOTE_COMMAND_TIMEOUT_MS)`);
}

/** `run`'s outcome if it settles within `ms` (its rejection is thrown), else undefined. */
async function within(run: Promise<number>, ms: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([run, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MainOptions {
  /**
   * Stop on SIGINT and SIGTERM as at the deadline (bin/tc-promote.js): every request ends, the
   * command says where it stopped ("the moving tag moved, the archive tag was not written");
   * a second signal, or the command still running after a moment, ends the process.
   */
  signals?: boolean;
}

export async function main(argv: string[], rawIo: Io = defaultIo(), options: MainOptions = {}): Promise<number> {
  // Whatever a command prints (a registry's error text, a commit from an image's
  // version.json) loses every credential the run knows of or sent, and reaches the terminal
  // with control and invisible characters escaped; colour marks become colour only then.
  const redactor = rawIo.redactor ?? new Redactor();
  for (const name of ['GITHUB_TOKEN', 'TASKCLUSTER_ACCESS_TOKEN']) redactor.add(rawIo.env[name]);
  const clean = (text: string): string => escapeUnsafeCharacters(redactor.redact(text));
  const colourOut = colourWanted(Boolean(rawIo.colour), rawIo.env);
  const colourErr = colourWanted(rawIo.isTty, rawIo.env);
  const controller = new AbortController();
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  // Every line fits the width (COLUMNS, else the terminal's, else 120): prose wrapped, a command
  // to paste whole on its own line. Not what a program reads: JSON, a graph, a completion
  // script, actions.json, help (its text is the build's, printed before main loads).
  // --wide keeps everything whole, as it always did.
  const width = rawIo.width ?? terminalWidth(rawIo.env, rawIo.columns);
  const whole = json || argv.includes('--wide');
  // What a program reads is stdout; the warnings those commands print on stderr are for a person.
  const verbatim = whole || name === 'render' || name === 'completion' || name === 'actions' || argv.includes('--help') || argv.includes('-h');
  // Prose is wrapped everywhere, into a pipe, a file or a CI log as on a terminal: one rule, the
  // same text wherever it is read (a program reads --json). A test that matches messages whole
  // passes wrap: false; tables fit the width either way.
  const wrap = rawIo.wrap ?? true;
  // A JSON document is a program's, whatever the command (action-callback --dry-run prints its graph): never wrapped.
  const fitted = (text: string, keep: boolean): string => (keep || rawIo.nested || !wrap || isJson(text) ? text : fitText(text, width));
  // A nested run (a drill step) leaves colour marks to the outer run, which prints.
  const show = (text: string, colour: boolean, terminal = colour): string => (rawIo.nested ? clean(text) : renderColour(clean(text), colour, terminal));
  // Live progress rewrites its lines on a terminal (not TERM=dumb), with or without colour.
  const cursorErr = rawIo.isTty && rawIo.env.TERM !== 'dumb';
  const io: Io = {
    ...rawIo,
    stdout: (text) => rawIo.stdout(show(fitted(text, verbatim), colourOut)),
    stderr: (text) => rawIo.stderr(show(fitted(text, whole), colourErr, cursorErr)),
    width,
    colour: colourOut,
    signal: controller.signal,
    redactor,
  };
  const fail = (error: PromoteError): number => {
    io.stderr(json ? `${JSON.stringify(errorJson(error, error.exitCode))}\n` : `tc-promote: ${error.message}\n`);
    return error.exitCode;
  };
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      io.stdout(usage());
      return name === undefined ? ExitCode.usage : ExitCode.ok;
    }
    return main([topic, '--help'], rawIo);
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(json ? `${JSON.stringify({ version: version(), node: process.version })}\n` : `tc-promote ${version()} (Node.js ${process.version})\n`);
    return ExitCode.ok;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    const hint = didYouMean(name, Object.keys(commands));
    if (json) return fail(new UsageError(`unknown command ${quote(name, 60)}${hint}; tc-promote --help lists the commands`));
    io.stderr(`tc-promote: unknown command ${quote(name, 60)}${hint}\n\n${usage()}`);
    return ExitCode.usage;
  }
  // --help before anything else, from the text the build wrote: no module graph is loaded.
  const dashDash = rest.indexOf('--');
  const flags = dashDash < 0 ? rest : rest.slice(0, dashDash);
  if (flags.includes('--help') || flags.includes('-h')) {
    const text = prebuiltHelp(name) ?? (await command.load()).help;
    io.stdout(`${text}\n`);
    return ExitCode.ok;
  }
  // A command that runs others (drill) or lists them (completion) is handed the table and main.
  const context: CommandContext = { commands, run: (stepArgv, stepIo) => main(stepArgv, stepIo) };
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (controller.signal.aborted) process.exit(code);
    deadlinePassed = true;
    controller.abort(new Error(`${signal} received`));
    setTimeout(() => {
      rawIo.stderr(`tc-promote ${name}: error: stopped by ${signal} before it could say where it stopped\n`);
      process.exit(code);
    }, stopGraceMs).unref();
  };
  if (options.signals) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stopOnSignal);
  try {
    const timeoutMs = commandTimeoutMs(io.env);
    io.deadlineAtMs = Date.now() + timeoutMs;
    return await underDeadline(
      command.load().then((loaded) => loaded.run(rest, io, context)),
      timeoutMs,
      controller,
    );
  } catch (error) {
    const debug = rest.includes('--debug');
    if (error instanceof PromoteError) {
      io.stderr(json ? `${JSON.stringify(errorJson(error, error.exitCode))}\n` : `tc-promote ${name}: error: ${error.message}\n`);
      if (debug && error.stack) io.stderr(`${error.stack}\n`);
      return error.exitCode;
    }
    const message = (error as Error)?.message ?? String(error);
    io.stderr(json ? `${JSON.stringify(errorJson(error, ExitCode.operational))}\n` : `tc-promote ${name}: internal error: ${message}\n`);
    if (debug && (error as Error)?.stack) io.stderr(`${(error as Error).stack}\n`);
    return ExitCode.operational;
  } finally {
    if (options.signals) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeListener(signal, stopOnSignal);
  }
}

/** Whether one write is a whole JSON object or array (as printJson writes it). */
function isJson(text: string): boolean {
  const start = text.trimStart()[0];
  if (start !== '{' && start !== '[') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
