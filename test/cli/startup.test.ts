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

/** Internal modules a command loaded, from a fresh process that imports it. */
function loadedBy(command: string): string[] {
  const script = `await import(${JSON.stringify(`${repoRoot}dist/cli/${command}.js`)}); console.log(JSON.stringify(process.moduleLoadList));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('start-up', () => {
  it('imports no costly built-in as an ES module (they go through require)', () => {
    const costly = /^import\s+(?!type\b)[^;]*from\s+'node:(crypto|fs|util|http|https|zlib|child_process)'/m;
    const offenders = sourceFiles(path.join(repoRoot, 'src')).filter((file) => costly.test(readFileSync(file, 'utf8')));
    expect(offenders.map((file) => path.relative(repoRoot, file))).toEqual([]);
  });

  it.each(['copy', 'history', 'plan', 'render'])('%s loads neither TLS, zlib, child processes, undici, webcrypto nor fs/promises', (command) => {
    const loaded = loadedBy(command);
    // The probe itself works: every command here talks to registries over node:http.
    expect(loaded).toContain('NativeModule http');
    const unwanted = loaded.filter((m) => /^NativeModule (https|tls|zlib|child_process|internal\/deps\/undici\/undici|internal\/crypto\/webcrypto|internal\/fs\/promises)$/.test(m));
    expect(unwanted).toEqual([]);
  });
});
