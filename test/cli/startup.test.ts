// Start-up cost is part of a rollback's time. Two habits keep it low, and these tests hold
// them: Node built-ins that build a costly ES module namespace are loaded with require()
// (src/util/builtins.ts, registry/transport.ts), and built-ins only some runs need (TLS, zlib,
// child processes) are loaded on first use.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Internal modules a real run of a command loaded, in a fresh process: the command runs through
 * the CLI's main() and then the process reports `process.moduleLoadList`.
 */
function loadedBy(argv: string[]): { code: number; loaded: string[] } {
  const script = `
    const { main } = await import(${JSON.stringify(`${repoRoot}dist/cli/main.js`)});
    const code = await main(${JSON.stringify(argv)});
    process.stdout.write('\\nMODULES ' + JSON.stringify({ code, loaded: process.moduleLoadList }) + '\\n');`;
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, TC_PROMOTE_RETRY_BASE_MS: '1' } });
  const line = stdout.split('\n').find((l) => l.startsWith('MODULES '));
  return JSON.parse(line!.slice('MODULES '.length)) as { code: number; loaded: string[] };
}

const digest = `sha256:${'b'.repeat(64)}`;
// Nothing listens on port 9: the registry commands make real requests over node:http, which
// are refused (exit 1). render --offline needs no registry and succeeds.
const unreachable = ['--registry', 'http://127.0.0.1:9'];
const runs: [string, string[], number][] = [
  ['copy', ['copy', `127.0.0.1:9/mozilla/releng-signingscript@${digest}`, '127.0.0.1:9/mozilla/releng-signingscript:production', ...unreachable], 1],
  ['history', ['history', 'signingscript', ...unreachable], 1],
  ['plan', ['plan', 'signingscript', ...unreachable], 1],
  ['render', ['render', 'signingscript', '--offline', '--target-tag', `production-20210929025643-${'a'.repeat(40)}`, '--target-digest', digest], 0],
  ['status', ['status', '--script', 'signingscript', ...unreachable], 1],
];

describe('start-up', () => {
  it('imports no costly built-in as an ES module (they go through require)', () => {
    const costly = /^import\s+(?!type\b)[^;]*from\s+'node:(crypto|fs|util|http|https|zlib|child_process)'/m;
    const offenders = sourceFiles(path.join(repoRoot, 'src')).filter((file) => costly.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => path.relative(repoRoot, file))).toEqual([]);
  });

  it.each(runs)('a run of %s loads neither TLS, zlib, child processes, undici, webcrypto, fs/promises nor (but to render) crypto', (command, argv, exitCode) => {
    const { code, loaded } = loadedBy(argv);
    // The run went as far as it should: the registry commands reached the network over plain HTTP.
    expect(code).toBe(exitCode);
    if (command !== 'render') expect(loaded).toContain('NativeModule http');
    const unwanted = loaded.filter((m) => /^NativeModule (https|tls|zlib|child_process|internal\/deps\/undici\/undici|internal\/crypto\/webcrypto|internal\/fs\/promises)$/.test(m));
    expect(unwanted).toEqual([]);
    // Over plain HTTP, digests are checked without node:crypto (util/sha256.ts); render makes
    // random task ids with it.
    if (command !== 'render') expect(loaded).not.toContain('NativeModule crypto');
  });
});

/**
 * The modules of tc-promote (dist/) a `--help` run loaded, in a fresh process: a module hook
 * (module.registerHooks) records every URL the ES module loader loads, then main() prints the help.
 */
function helpRun(argv: string[]): { code: number; stdout: string; loaded: string[] } {
  const script = `
    const { registerHooks } = await import('node:module');
    const urls = [];
    registerHooks({ load(url, context, nextLoad) { urls.push(url); return nextLoad(url, context); } });
    const { main } = await import(${JSON.stringify(`${repoRoot}dist/cli/main.js`)});
    let stdout = '';
    const code = await main(${JSON.stringify(argv)}, { stdout: (t) => { stdout += t; }, stderr: () => {}, env: process.env, isTty: false });
    process.stdout.write(JSON.stringify({ code, stdout, loaded: urls.filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6)) }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { code: number; stdout: string; loaded: string[] };
}

/** What main.js itself needs: the command table, the error types, redaction, colour marks and did-you-mean. */
const helpModules = ['cli/main.js', 'cli/commands.js', 'cli/deadline.js', 'cli/colour.js', 'cli/help-fast.js', 'errors.js', 'registry/redact.js', 'util/suggest.js', 'present/layout.js'];

/** The modules of tc-promote a run of bin/tc-promote.js loaded (a module hook, preloaded with --import). */
function binRun(argv: string[]): { code: number; stdout: string; loaded: string[] } {
  const hook = `import { registerHooks } from 'node:module';
    const urls = [];
    registerHooks({ load(url, context, nextLoad) { urls.push(url); return nextLoad(url, context); } });
    process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(urls.filter((u) => u.startsWith(${JSON.stringify(`file://${repoRoot}`)})).map((u) => u.slice(${`file://${repoRoot}`.length}))) + '\\n'));`;
  const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, path.join(repoRoot, 'bin/tc-promote.js'), ...argv], { encoding: 'utf8' });
  const line = run.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  return { code: run.status ?? -1, stdout: run.stdout, loaded: JSON.parse(line!.slice('LOADED '.length)) as string[] };
}

describe('--help loads no command module graph', () => {
  const { commands } = JSON.parse(readFileSync(path.join(repoRoot, 'dist/cli/help.json'), 'utf8')) as { commands: Record<string, { help: string }> };
  const names = Object.keys(commands);

  it('the build wrote the help of every command', async () => {
    const { commands: table } = await import('../../src/cli/main.js');
    expect(names.sort()).toEqual(Object.keys(table).sort());
  });

  it.each(names)('%s --help prints its own help text and loads only main.js and what it imports', async (name) => {
    for (const flag of ['--help', '-h']) {
      const run = helpRun([name, flag]);
      expect(run.code).toBe(0);
      // The text is the command module's own (the sources'), not a stale copy.
      const module = (await import(`../../src/cli/${name}.ts`)) as { help: string };
      expect(run.stdout).toBe(`${module.help}\n`);
      expect([...new Set(run.loaded)].sort()).toEqual([...helpModules].sort());
    }
  });

  it('bin/tc-promote.js prints every --help, --help and --version loading only help-fast.js', async () => {
    for (const argv of [...names.map((n) => [n, '--help']), ['copy', 'a', 'b', '-h'], ['--help'], ['--version']]) {
      const run = binRun(argv);
      expect(run.code, argv.join(' ')).toBe(0);
      expect(run.loaded, argv.join(' ')).toEqual(['bin/tc-promote.js', 'dist/cli/help-fast.js']);
    }
    const { usage } = await import('../../src/cli/main.js');
    expect(binRun(['--help']).stdout).toBe(usage());
    expect(binRun(['copy', '--help']).stdout).toBe(`${commands.copy!.help}\n`);
    // Anything else goes through main.
    expect(binRun(['histroy']).loaded).toContain('dist/cli/main.js');
  });

  it.skipIf(!existsSync('/proc/self'))('a TMPDIR where Node cannot make its compile cache folder (/proc: mkdir -p spins there) does not hang the CLI', () => {
    // Node's own enableCompileCache() and mkdirSync(recursive) loop at full CPU on /proc; the
    // CLI ran forever, even --version.
    for (const argv of [['--version'], ['histroy']]) {
      const run = spawnSync(process.execPath, [path.join(repoRoot, 'bin/tc-promote.js'), ...argv], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH, TMPDIR: '/proc' } });
      expect(run.error, argv.join(' ')).toBeUndefined();
      expect(run.status, argv.join(' ')).toBe(argv[0] === '--version' ? 0 : 2);
    }
  });

  it('tc-promote --help, help and help <command> load no command either', () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['help', 'copy'], ['--version']]) {
      const run = helpRun(argv);
      expect(run.code, argv.join(' ')).toBe(0);
      expect([...new Set(run.loaded)].sort()).toEqual([...helpModules].sort());
    }
    expect(helpRun(['help', 'copy']).stdout).toContain('Usage: tc-promote copy <src> <dst>');
  });

  it('a command module rebuilt since help.json was written is asked itself (its size or time differ)', async () => {
    const { prebuiltHelp } = await import(`${repoRoot}dist/cli/main.js`);
    expect(prebuiltHelp('copy')).toBe(commands.copy!.help);
    const file = path.join(repoRoot, 'dist/cli/copy.js');
    const { utimesSync, statSync } = await import('node:fs');
    const before = statSync(file);
    try {
      utimesSync(file, before.atime, new Date(before.mtimeMs + 5000));
      expect(prebuiltHelp('copy')).toBeUndefined();
    } finally {
      utimesSync(file, before.atimeMs / 1000, before.mtimeMs / 1000);
    }
    expect(prebuiltHelp('copy')).toBe(commands.copy!.help);
  });
});
