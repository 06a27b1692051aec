// Run the benchmarks: `npm run bench` (all) or `npm run bench -- history copy`.
import { machine } from './common.js';
import { benchHistory } from './history.js';
import { benchCopy } from './copy.js';
import { benchGraph } from './graph.js';
import { benchHelp } from './help.js';
import { benchHub } from './hub.js';
import { benchStatus } from './status.js';

const all: Record<string, () => Promise<void>> = { history: benchHistory, copy: benchCopy, graph: benchGraph, status: benchStatus, help: benchHelp, hub: benchHub };
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
console.log(`machine: ${machine()}`);
for (const name of chosen) {
  const bench = all[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; one of ${Object.keys(all).join(', ')}`);
  await bench();
}
