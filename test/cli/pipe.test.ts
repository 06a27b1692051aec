// `| head` ends quietly (issue 22): the reader closing the pipe is no EPIPE stack trace, and the
// command's exit code is its own; no MaxListenersExceededWarning on many requests in flight.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { seedDrill } from '../../src/drill/seed.js';
import { RegistryClient } from '../../src/registry/client.js';
import { main } from '../../src/cli/main.js';
import { binPath, runCliProcess } from '../support/cli.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

/** `tc-promote ARGS | head -N` through a shell, as a person types it: the exit codes of both, and stderr. */
function piped(args: string[], lines: number): Promise<{ codes: string; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('bash', ['-c', `"$NODE" "$BIN" ${quoted} | head -${lines}; echo "codes: \${PIPESTATUS[*]}"`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE: process.execPath, BIN: binPath, TC_PROMOTE_NOW: '2026-12-01T00:00:00Z' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => resolve({ codes: /codes: (.*)\n/.exec(stdout)?.[1] ?? '?', stdout: stdout.replace(/codes: .*\n/, ''), stderr }));
  });
}

let reg: RunningRegistry;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]) });
  // Every script seeded, as the drill does: status then has 26 pairs (dozens of requests at once).
  const config = loadConfig(undefined);
  for (const script of config.scripts) await seedDrill(client, reg.host, config, script, Date.parse('2026-12-01T00:00:00Z'));
}, 120_000);
afterAll(async () => {
  await reg?.stop();
});

describe('| head', () => {
  it.each([
    ['history', () => ['history', 'signingscript', '--registry', reg.url], 3],
    ['grants', () => ['grants'], 1],
    ['status', () => ['status', '--registry', reg.url], 1],
    ['plan', () => ['plan', 'signingscript', '--registry', reg.url], 2],
    ['--help', () => ['--help'], 1],
    ['history --help', () => ['history', '--help'], 1],
  ] as const)('%s | head ends quietly with exit 0', async (_, args, lines) => {
    const r = await piped([...args()], lines);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.stdout.split('\n').length - 1).toBe(lines);
    expect(r.codes).toBe(`0 0`);
  }, 60_000);
});

describe('many requests at once', () => {
  it('status and plan print no MaxListenersExceededWarning', async () => {
    for (const args of [['status', '--registry', reg.url], ['plan', 'signingscript', '--registry', reg.url]]) {
      const r = await piped(args, 1000);
      expect(r.codes).toBe('0 0');
      expect(r.stderr).not.toContain('MaxListeners');
      expect(r.stderr).not.toContain('Warning');
    }
  }, 60_000);
});

// README: progress (retries, each task created, the deploy branch read) goes to stderr only
// when stderr is a terminal or with --debug. A registry that answers 503 once makes a retry.
describe('progress', () => {
  const withRetry = async (run: (url: string) => Promise<string>): Promise<string> => {
    const proxy = await startFaultProxy(reg.url);
    try {
      proxy.add({ path: /\/tags\/list/, fault: { kind: 'status', status: 503 } });
      return await run(proxy.url);
    } finally {
      await proxy.stop();
    }
  };
  const args = (url: string): string[] => ['history', 'signingscript', '--registry', url];
  const env = { TC_PROMOTE_RETRY_BASE_MS: '1', TC_PROMOTE_NOW: '2026-12-01T00:00:00Z' };

  it('into a pipe: no retry said, the answer the same', async () => {
    const stderr = await withRetry(async (url) => {
      const r = await runCliProcess(args(url), env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('CURRENT');
      return r.stderr;
    });
    expect(stderr).toBe('');
  });

  it('with --debug: the retry is said on stderr', async () => {
    const stderr = await withRetry(async (url) => (await runCliProcess([...args(url), '--debug'], env)).stderr);
    expect(stderr).toMatch(/retrying after HTTP 503/);
  });

  it('on a terminal: the retry is said on stderr', async () => {
    const stderr = await withRetry(async (url) => {
      let err = '';
      const code = await main(args(url), { stdout: () => undefined, stderr: (t) => void (err += t), env: { PATH: process.env.PATH, ...env }, isTty: true });
      expect(code).toBe(0);
      return err;
    });
    expect(stderr).toMatch(/retrying after HTTP 503/);
  });
});
