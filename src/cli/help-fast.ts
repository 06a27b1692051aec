/**
 * `tc-promote <command> --help`, `--help` and `--version` from what the build wrote beside
 * this file (help.json, by scripts/write-help.js), with nothing else loaded: bin/tc-promote.js
 * asks here before it imports main.js (test/cli/startup.test.ts holds it; bench/help.ts
 * measures it). A command module rebuilt since help.json was written (its size or time
 * differ) is asked itself, through main.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface BuiltHelp {
  usage: string;
  /** commands.js (the command table) as it was when usage was written. */
  main?: { size: number; mtimeMs: number };
  commands: Record<string, { help: string; flags: string[]; module: { size: number; mtimeMs: number } }>;
}

let built: BuiltHelp | null | undefined;
function readBuilt(): BuiltHelp | null {
  if (built !== undefined) return built;
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    built = JSON.parse(fs.readFileSync(new URL('./help.json', import.meta.url), 'utf8')) as BuiltHelp;
  } catch {
    built = null;
  }
  return built;
}

/** Whether the built module `file` (beside this one) is the one help.json was written from. */
function unchanged(file: string, recorded: { size: number; mtimeMs: number } | undefined): boolean {
  if (!recorded) return false;
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    const stat = fs.statSync(new URL(`./${file}`, import.meta.url));
    return stat.size === recorded.size && Math.floor(stat.mtimeMs) === Math.floor(recorded.mtimeMs);
  } catch {
    return false;
  }
}

/** A command's help text as the build wrote it, while the module it came from is unchanged. */
export function prebuiltHelp(name: string): string | undefined {
  const entry = readBuilt()?.commands[name];
  if (!entry || !Object.hasOwn(readBuilt()!.commands, name)) return undefined;
  return unchanged(`${name}.js`, entry.module) ? entry.help : undefined;
}

/** The top-level usage as the build wrote it, while commands.js (the command table) is unchanged. */
function prebuiltUsage(): string | undefined {
  const built = readBuilt();
  return built && unchanged('commands.js', built.main) ? built.usage : undefined;
}

/** tc-promote's version, from package.json. */
export function version(): string {
  try {
    const fs = require('node:fs') as typeof import('node:fs');
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * What to print for argv without loading anything else, or undefined (main decides):
 * `<command> --help|-h` (flags before `--`), `--help`, `-h`, `help`, `--version`, `-V`.
 * Help texts are tc-promote's own, printed as written.
 */
export function fastOutput(argv: readonly string[]): string | undefined {
  const [name, ...rest] = argv;
  if (name === undefined) return undefined;
  if (argv.length === 1 && (name === '--version' || name === '-V' || name === 'version')) return `tc-promote ${version()} (Node.js ${process.version})\n`;
  if (argv.length === 1 && (name === '--help' || name === '-h' || name === 'help')) return prebuiltUsage();
  if (name.startsWith('-')) return undefined;
  const end = rest.indexOf('--');
  const flags = end < 0 ? rest : rest.slice(0, end);
  if (!flags.includes('--help') && !flags.includes('-h')) return undefined;
  const text = prebuiltHelp(name);
  return text === undefined ? undefined : `${text}\n`;
}
