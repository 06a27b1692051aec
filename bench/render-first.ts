// One fresh process's first in-process render of every configured script's graph, after the
// modules are imported: templates read, validators loaded, code not yet optimised by the JIT.
// Prints the milliseconds. The graph benchmark runs it many times and quotes the median, since
// a single first pass on a noisy machine says little.
import { examplePlan } from '../test/support/plans.js';
import { repoRoot } from './common.js';

const { loadConfig } = (await import(`${repoRoot}dist/config/load.js`)) as typeof import('../src/config/load.js');
const { buildGraph } = (await import(`${repoRoot}dist/graph/build.js`)) as typeof import('../src/graph/build.js');

const config = loadConfig();
const plans = config.scripts.map((script) => examplePlan(config, { script }));
const started = performance.now();
for (const plan of plans) buildGraph(config, plan, { allowFallback: true });
console.log((performance.now() - started).toFixed(2));
