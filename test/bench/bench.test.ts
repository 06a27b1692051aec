// The benchmarks run, from what the repository holds: built as `npm run bench` builds them
// (scripts/build-bench.js, after the build npm test has run), then every one of them once in
// --quick mode (one run, one layer count, the smallest size), so a broken benchmark fails the
// suite. No figure is checked (a shared two-core machine); what each benchmark checks itself
// is (a copy or a skopeo step that fails, a wrong pushlog, a task the emulator did not create,
// a failed status throw, and the run exits non-zero). The commands the README and
// docs/benchmarks.md give name benchmarks that exist.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const runJs = `${repoRoot}.bench/bench/run.js`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // The registries it starts die with it (setpriv --pdeathsig in test/support/registry.ts).
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The benchmark names in every `npm run bench -- …` command of a document. */
function documentedNames(file: string): string[][] {
  const text = readFileSync(`${repoRoot}${file}`, 'utf8');
  return [...text.matchAll(/npm run bench -- ([a-z -]+?)`/g)].map((m) => m[1]!.trim().split(/\s+/).filter((word) => !word.startsWith('--')));
}

describe('benchmarks', () => {
  let names: string[] = [];
  beforeAll(() => {
    execFileSync(process.execPath, [`${repoRoot}scripts/build-bench.js`], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    names = execFileSync(process.execPath, [runJs, '--list'], { encoding: 'utf8' }).trim().split('\n');
  }, 120_000);

  it('the README and docs/benchmarks.md name benchmarks that exist, and docs/benchmarks.md describes each', () => {
    expect(names.length).toBeGreaterThanOrEqual(5);
    const commands = [...documentedNames('README.md'), ...documentedNames('docs/benchmarks.md')];
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const command of commands) for (const name of command) expect(names, `npm run bench -- ${command.join(' ')}`).toContain(name);
    const docs = readFileSync(`${repoRoot}docs/benchmarks.md`, 'utf8');
    for (const name of names) expect(docs, `docs/benchmarks.md on bench/${name}.ts`).toContain(`bench/${name}.ts`);
  });

  it('an unknown benchmark is refused, naming it and the ones there are', async () => {
    const run = await runBench(['--quick', 'cpoy'], 30_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown benchmark "cpoy"');
    expect(run.stderr).toContain(names.join(', '));
  });

  it('every benchmark runs once (--quick) and prints its tables', async () => {
    const run = await runBench(['--quick'], 400_000);
    expect(run.code, run.stderr).toBe(0);
    for (const name of names) expect(run.stderr).toMatch(new RegExp(`^bench ${name}: done in `, 'm'));
    // A table each benchmark prints, and no figure that is not a number.
    for (const title of ['history, realistic pushlog', 'promotion within one repository', 'the floor under the plain retag', 'task graph', 'submission at 100 ms', 'status of every script', '--help without the command']) {
      expect(run.stdout).toContain(title);
    }
    expect(run.stdout).not.toMatch(/NaN|undefined|Infinity/);
  }, 420_000);
});
