/**
 * The CLI edge: dispatch to one thin module per command, and turn typed errors into a
 * message on stderr and an exit code. No stack traces unless --debug; never credentials.
 */
import { ExitCode, PromoteError, RemoteError, UsageError, escapeUnsafeCharacters, quote } from '../errors.js';
import { Redactor } from '../registry/redact.js';
import type { Io } from './common.js';

interface Command {
  help: string;
  run: (argv: string[], io: Io) => Promise<number>;
}

interface CommandEntry {
  summary: string;
  /** Loaded on use: a command pays only for its own dependencies at start-up. */
  load: () => Promise<Command>;
}

export const commands: Record<string, CommandEntry> = {
  history: { summary: 'the deploy history of a script in an environment', load: () => import('./history.js') },
  plan: { summary: 'resolve current and target, choose the route, list warnings and tasks', load: () => import('./plan.js') },
  render: { summary: 'print the task graph a promotion would submit (json, yaml, dot, mermaid)', load: () => import('./render.js') },
  submit: { summary: 'create the promotion task graph in Taskcluster', load: () => import('./submit.js') },
  trigger: { summary: "trigger the promotion action's hook, as the Taskcluster UI does", load: () => import('./trigger.js') },
  actions: { summary: 'write actions.json with the promotion hook action (or merge it into one)', load: () => import('./actions.js') },
  'action-callback': { summary: 'inside the action task: read the action input, plan and submit the graph', load: () => import('./action-callback.js') },
  validate: { summary: 'check every template, task, actions.json and .taskcluster.yml (CI)', load: () => import('./validate.js') },
  copy: { summary: 'point a tag at an existing image: exact bytes, compare-and-swap, archive tag', load: () => import('./copy.js') },
  'force-push': { summary: 'move a deploy branch to a revision, with a lease and a backup ref', load: () => import('./force-push.js') },
  fallback: { summary: 'after the promote tasks: force-push the target revision if promotion failed (when allowed)', load: () => import('./fallback.js') },
  grants: { summary: "every scope the graph's creator needs; --check: which a scope set lacks", load: () => import('./grants.js') },
  rerun: { summary: "push a revision's image again: rerun its push task, or retrigger a clone past its deadline", load: () => import('./rerun.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `Usage: tc-promote <command> [flags]

Roll a container image deployment back (or forward) to an exact image the registry already
holds, reading the deploy history from the registry's archive tags.

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run tc-promote <command> --help for a command's flags and examples.
Exit codes: 0 ok, 1 remote or operational failure, 2 bad input, 3 conflict, 4 not found.
`;
}

export function defaultIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    isTty: Boolean(process.stderr.isTTY),
  };
}

/** The whole command's deadline, unless TC_PROMOTE_COMMAND_TIMEOUT_MS says otherwise: under a promote task's 30 minutes. */
export const defaultCommandTimeoutMs = 20 * 60_000;
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
  // with control and invisible characters escaped.
  const redactor = rawIo.redactor ?? new Redactor();
  for (const name of ['GITHUB_TOKEN', 'TASKCLUSTER_ACCESS_TOKEN']) redactor.add(rawIo.env[name]);
  const clean = (text: string): string => escapeUnsafeCharacters(redactor.redact(text));
  const controller = new AbortController();
  const io: Io = { ...rawIo, stdout: (text) => rawIo.stdout(clean(text)), stderr: (text) => rawIo.stderr(clean(text)), signal: controller.signal, redactor };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr(`tc-promote: unknown command ${quote(name, 60)}\n\n${usage()}`);
    return ExitCode.usage;
  }
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
    return await underDeadline(
      command.load().then((loaded) => loaded.run(rest, io)),
      timeoutMs,
      controller,
    );
  } catch (error) {
    const debug = rest.includes('--debug');
    if (error instanceof PromoteError) {
      io.stderr(`tc-promote ${name}: error: ${error.message}\n`);
      if (debug && error.stack) io.stderr(`${error.stack}\n`);
      return error.exitCode;
    }
    io.stderr(`tc-promote ${name}: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    if (debug && (error as Error)?.stack) io.stderr(`${(error as Error).stack}\n`);
    return ExitCode.operational;
  } finally {
    if (options.signals) for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeListener(signal, stopOnSignal);
  }
}
