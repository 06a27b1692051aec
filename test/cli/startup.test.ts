// Start-up cost is part of a rollback's time. Two habits keep it low, and these tests hold
// them: Node built-ins that build a costly ES module namespace are loaded with require()
// (src/util/builtins.ts, registry/transport.ts), and built-ins only some runs need (TLS, zlib,
// child processes) are loaded on first use.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
