// Run the benchmarks: `npm run bench` (all) or `npm run bench -- history copy`; `--quick`: each
// once, one run, one layer count, the smallest size (test/bench/bench.test.ts); `--list`: the names.
import { machine, quick } from './common.js';
import { benchHistory } from './history.js';
import { benchCopy } from './copy.js';
import { benchGraph } from './graph.js';
import { benchHelp } from './help.js';
import { benchHub } from './hub.js';
import { benchStatus } from './status.js';

const all: Record<string, () => Promise<void>> = { history: benchHistory, copy: benchCopy, graph: benchGraph, status: benchStatus, help: benchHelp, hub: benchHub };
const args = process.argv.slice(2);
if (args.includes('--list')) {
  console.log(Object.keys(all).join('\n'));
  process.exit(0);
}
const names = args.filter((a) => a !== '--quick');
for (const name of names) {
  if (!Object.hasOwn(all, name)) {
    console.error(`bench: unknown benchmark ${JSON.stringify(name)}; one of ${Object.keys(all).join(', ')} (and --quick, --list)`);
    process.exit(2);
  }
}
const chosen = names.length ? names : Object.keys(all);
console.log(`machine: ${machine()}${quick ? ' (--quick: one run each, not figures to quote)' : ''}`);
for (const name of chosen) {
  const started = performance.now();
  await all[name]!();
  console.error(`bench ${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
