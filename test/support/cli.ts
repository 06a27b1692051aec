// Run tc-promote in-process (main(argv, io)) or as a real process (bin/tc-promote.js, built),
// capturing stdout, stderr and the exit code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

function result(code: number, stdout: string, stderr: string): CliResult {
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
      }
    },
  };
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    isTty: false,
    // Messages whole, as they are matched: a test of the layout gives COLUMNS (test/cli/widths.test.ts).
    ...(env.COLUMNS === undefined && { wrap: false }),
  });
  return result(code, stdout, stderr);
}

export const binPath = fileURLToPath(new URL('../../bin/tc-promote.js', import.meta.url));

export function runCliProcess(argv: string[], env: Record<string, string | undefined> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...argv], {
      // Messages whole, as they are matched, unless the test says COLUMNS (undefined: unset, the
      // default 120 of a pipe; test/cli/widths.test.ts).
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(!Object.hasOwn(env, 'COLUMNS') && { COLUMNS: '9999' }), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve(result(code ?? -1, stdout, stderr)));
    child.stdin.end(input ?? '');
  });
}
