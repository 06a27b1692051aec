// Benchmark: `tc-promote copy --help` (and `status --help`, `--version`) against `node -e 0`,
// each as a process, alternating, median and range of many runs. --help prints the text the
// build wrote (dist/cli/help.json) without loading the command's module graph.
// Target (issue 14): within 1.3× of `node -e 0`.
import { median, printTable, setting, timeCli, timeNode } from './common.js';

const runs = setting('BENCH_RUNS_HELP', 21, 1);
const ms = (values: number[]): string => `${median(values).toFixed(1)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;

export async function benchHelp(): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const args of [['copy', '--help'], ['status', '--help'], ['--version']]) {
    // Once first: the compile cache is written by the first run, as on a user's machine.
    await timeCli(args);
    const tool: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) {
      tool.push((await timeCli(args)).ms);
      node.push((await timeNode(['-e', '0'])).ms);
    }
    const ratio = median(tool) / median(node);
    rows.push([`tc-promote ${args.join(' ')}`, ms(tool), ms(node), ratio.toFixed(2), ratio <= 1.3 ? 'yes' : 'no']);
  }
  printTable(`--help without the command's modules (median and range of ${runs} alternating runs, every program as a process)`, ['command', 'tc-promote', 'node -e 0', 'ratio', '≤ 1.3'], rows);
}
