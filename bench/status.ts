// Benchmark: `tc-promote status` of every configured script × environment (13 × 2 = 26
// pairs of the embedded configuration) in a real registry seeded as the drill seeds it, as a
// process, on plain loopback and through a loopback delay proxy holding every response 25 ms
// (a registry ~25 ms away; new connections wait 25 ms too), alternating with `node -e 0`,
// median and range. Requests and round trips from the proxy (one run). The bound on pairs in
// flight is shown by the same run with --concurrency 1 (one pair after another).
// Target (issue 13): 26 pairs at 25 ms per request within 0.5 s.
import { loadConfig } from '../src/config/load.js';
import { seedDrill } from '../src/drill/seed.js';
import { RegistryClient } from '../src/registry/client.js';
import { startRegistry } from '../test/support/registry.js';
import { startDelayProxy } from '../test/support/delay-proxy.js';
import { median, printTable, repoRoot, setting, timeCli, timeNode } from './common.js';

const runs = setting('BENCH_RUNS', 11, 1);
const delayMs = 25;
const ms = (values: number[]): string => `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;

export async function benchStatus(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous', accessLog: false });
  const proxy = await startDelayProxy(reg.url, delayMs);
  const rows: (string | number)[][] = [];
  try {
    const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]), connections: 32 });
    const seeded = await seedDrill(client, reg.host, loadConfig(`${repoRoot}config/scriptworker-scripts.yml`), 'signingscript', Date.now());
    console.error(`seeded ${seeded.images} images in ${seeded.repositories} repositories`);
    const variants: { name: string; url: string; extra: string[] }[] = [
      { name: 'loopback', url: reg.url, extra: [] },
      { name: `${delayMs} ms proxy`, url: proxy.url, extra: [] },
      { name: `${delayMs} ms proxy, --concurrency 1`, url: proxy.url, extra: ['--concurrency', '1'] },
    ];
    for (const v of variants) {
      const args = ['status', '--registry', v.url, '--json', ...v.extra];
      proxy.clear();
      const probe = await timeCli(args);
      if (probe.code !== 0) throw new Error(`status failed: ${probe.stderr}`);
      const pairs = (JSON.parse(probe.stdout) as { rows: unknown[] }).rows.length;
      const stats = { requests: proxy.requests().length, roundTrips: proxy.roundTrips(), connections: proxy.connections() };
      const tool: number[] = [];
      const node: number[] = [];
      const n = v.extra.length ? Math.min(runs, 5) : runs;
      for (let i = 0; i < n; i++) {
        // Alternating: tc-promote, then node -e 0.
        tool.push((await timeCli(args)).ms);
        node.push((await timeNode(['-e', '0'])).ms);
      }
      const met = v.name === `${delayMs} ms proxy` ? (median(tool) <= 500 ? 'yes' : 'no') : '';
      rows.push([v.name, pairs, ms(tool), ms(node), v.url === proxy.url ? stats.requests : '-', v.url === proxy.url ? stats.roundTrips : '-', v.url === proxy.url ? stats.connections : '-', met]);
    }
  } finally {
    await proxy.stop();
    await reg.stop();
  }
  printTable(`status of every script × environment (median and range of ${runs} alternating runs, every program as a process; target: 26 pairs at ${delayMs} ms within 0.5 s)`, ['registry', 'pairs', 'tc-promote status', 'node -e 0', 'requests', 'round trips', 'connections', '≤ 0.5 s'], rows);
}
