// Shared by the benchmarks: run a command as a process and time it, medians, tables.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = `${repoRoot}bin/tc-promote.js`;
const rssPreload = `${repoRoot}bench/rss-report.mjs`;

/**
 * `npm run bench -- --quick [names]`: each benchmark once, with one run, one layer count and
 * its smallest size. Whether every benchmark still runs and checks what it measures, not a
 * figure to quote (test/bench/bench.test.ts runs it). A BENCH_* variable that is set still wins.
 */
export const quick = process.argv.includes('--quick');

/**
 * A BENCH_* setting: whole numbers above zero, comma-separated (the variable when set, else the
 * quick or the full default); anything else is refused, naming the variable and its value.
 */
export function settings(name: string, full: string, quickValue: string): number[] {
  const text = process.env[name] ?? (quick ? quickValue : full);
  const values = text.split(',').map((v) => (/^\s*[1-9]\d*\s*$/.test(v) ? Number(v) : NaN));
  if (values.some(Number.isNaN)) throw new Error(`${name}=${JSON.stringify(text)}: not a whole number above 0 (or a comma-separated list of them)`);
  return values;
}

/** One BENCH_* number (see settings). */
export function setting(name: string, full: number, quickValue: number): number {
  const [value, ...more] = settings(name, String(full), String(quickValue));
  if (more.length) throw new Error(`${name}=${JSON.stringify(process.env[name])}: one number, not a list`);
  return value!;
}

export interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
  maxRssKb?: number;
}

export function timeProcess(command: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr);
      resolve({ ms, code: code ?? -1, stdout, stderr: stderr.replace(/\nBENCH_MAX_RSS_KB=\d+\n/, ''), ...(rss && { maxRssKb: Number(rss[1]) }) });
    });
  });
}

/** Any Node.js program as a process, with the same RSS preload tc-promote gets (comparisons stay fair). */
export function timeNode(args: string[], env: Record<string, string | undefined> = {}): Promise<Timed> {
  return timeProcess(process.execPath, ['--import', rssPreload, ...args], env);
}

/** tc-promote as a process, with its peak RSS reported. */
export function timeCli(args: string[], env: Record<string, string | undefined> = {}): Promise<Timed> {
  return timeProcess(process.execPath, ['--import', rssPreload, binPath, ...args], env);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function printTable(title: string, headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** The range of a sample, as `min–max` rounded to whole units. */
export function spread(values: number[]): string {
  return `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
}
