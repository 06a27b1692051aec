// Benchmark: `tc-promote history` of a realistic pushlog of 5,000 and 50,000 archive tags
// (test/support/scale-history.ts) in a loopback real registry, against the floor
// (bench/history-floor.ts: the same requests, nothing else) and `node -e 0`, each as a
// process, alternating, median and range; peak RSS of the CLI; HTTP requests from the
// registry's access log; round trips through a proxy that adds 25 ms to every request.
// Targets: 5,000 tags within 2× of the floor; 50,000 tags under 1 s and 200 MiB; round trips:
// the tag list and the moving tag's HEAD at once, then the digests in one batch.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { startDelayProxy } from '../test/support/delay-proxy.js';
import { startRegistry, type RunningRegistry } from '../test/support/registry.js';
import { seedScaleHistory } from '../test/support/scale-history.js';
import { median, printTable, repoRoot, timeCli, timeNode } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 7);
const sizes = (process.env.BENCH_HISTORY_SIZES ?? '5000,50000').split(',').map(Number);
const floorPath = `${repoRoot}.bench/bench/history-floor.js`;
const delayMs = 25;

const ms = (values: number[]): string => `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;

export async function benchHistory(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous' });
  const rows: (string | number)[][] = [];
  const trips: (string | number)[][] = [];
  try {
    // One repository per size (both are configured scripts).
    const scripts = ['signingscript', 'beetmoverscript', 'pushapkscript'];
    for (const [i, size] of sizes.entries()) {
      const script = scripts[i]!;
      const repository = `mozilla/releng-${script}`;
      const started = Date.now();
      await seedScaleHistory(reg, repository, size, i + 1);
      console.error(`seeded ${size} tags in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      rows.push(...(await measure(reg, script, repository, size)));
      trips.push(...(await measureRoundTrips(reg, script, repository, size)));
    }
  } finally {
    await reg.stop();
  }
  printTable(`history, realistic pushlog (median and range of ${runs} alternating runs, every program as a process)`, ['tags', 'output', 'tc-promote', 'floor', 'ratio', 'node -e 0', 'peak RSS', 'requests (tag pages + HEADs)'], rows);
  printTable(`round trips with ${delayMs} ms added to every request (loopback proxy; one run each)`, ['tags', 'program', 'requests', 'round trips', 'wall time'], trips);
}

async function headsOf(reg: RunningRegistry, repository: string, movingTag: string): Promise<{ heads: string[]; pages: number; total: number }> {
  const log = await reg.accessLog();
  const prefix = `/v2/${repository}/manifests/`;
  const heads = log.filter((e) => e.method === 'HEAD' && e.path.startsWith(prefix)).map((e) => decodeURIComponent(e.path.slice(prefix.length)));
  return { heads: heads.filter((t) => t !== movingTag), pages: log.filter((e) => e.path.includes('/tags/list')).length, total: log.length };
}

async function measure(reg: RunningRegistry, script: string, repository: string, size: number): Promise<(string | number)[][]> {
  const args = ['history', script, '--registry', reg.url];
  // Once, to learn which digests history resolves: the floor resolves the same.
  await reg.accessLog();
  reg.clearAccessLog();
  const probe = await timeCli([...args, '--json']);
  if (probe.code !== 0) throw new Error(`history failed: ${probe.stderr}`);
  const parsed = JSON.parse(probe.stdout) as { deploys: unknown[]; current: { tag: string } | null };
  if (!parsed.current || parsed.deploys.length < size / 2) throw new Error(`history returned the wrong pushlog (${parsed.deploys.length} deploys)`);
  const { heads, pages, total } = await headsOf(reg, repository, 'production');
  const file = path.join(tmpdir(), `tcp-floor-${process.pid}-${size}.txt`);
  writeFileSync(file, heads.join('\n'));
  const out: (string | number)[][] = [];
  try {
    for (const output of ['--json', 'table'] as const) {
      const tc: number[] = [];
      const floor: number[] = [];
      const bare: number[] = [];
      const rss: number[] = [];
      for (let r = 0; r < runs; r++) {
        const run = await timeCli(output === '--json' ? [...args, '--json'] : args);
        if (run.code !== 0) throw new Error(`history failed: ${run.stderr}`);
        tc.push(run.ms);
        rss.push(run.maxRssKb ?? 0);
        const f = await timeNode([floorPath, reg.url, repository, 'production', file]);
        if (f.code !== 0) throw new Error(`floor failed: ${f.stderr}`);
        floor.push(f.ms);
        bare.push((await timeNode(['-e', '0'])).ms);
      }
      out.push([size, output, ms(tc), ms(floor), (median(tc) / median(floor)).toFixed(2), ms(bare), `${(median(rss) / 1024).toFixed(0)} MiB`, `${total} (${pages} + ${total - pages})`]);
    }
  } finally {
    rmSync(file, { force: true });
  }
  // Tag pages as the OCI spec serves them (1,000 a page), for the smaller size.
  if (size <= 10_000) {
    const proxy = await startFaultProxy(reg.url, { paginateTags: true });
    try {
      const t: number[] = [];
      for (let r = 0; r < runs; r++) t.push((await timeCli(['history', script, '--registry', proxy.url, '--page-size', '1000', '--json'])).ms);
      const requests = proxy.requests().length / runs;
      out.push([size, '--json, 1,000 tags a page', ms(t), '', '', '', '', `${requests}`]);
    } finally {
      await proxy.stop();
    }
  }
  return out;
}

async function measureRoundTrips(reg: RunningRegistry, script: string, repository: string, size: number): Promise<(string | number)[][]> {
  const proxy = await startDelayProxy(reg.url, delayMs);
  try {
    const run = await timeCli(['history', script, '--registry', proxy.url, '--json']);
    if (run.code !== 0) throw new Error(`history through the proxy failed: ${run.stderr}`);
    const tcRequests = proxy.requests().length;
    const tcTrips = proxy.roundTrips();
    const heads = proxy
      .requests()
      .filter((r) => r.method === 'HEAD')
      .map((r) => decodeURIComponent(r.path.split('/manifests/')[1]!))
      .filter((t) => t !== 'production');
    const file = path.join(tmpdir(), `tcp-floor-trips-${process.pid}-${size}.txt`);
    writeFileSync(file, heads.join('\n'));
    proxy.clear();
    const floor = await timeNode([floorPath, proxy.url, repository, 'production', file]);
    rmSync(file, { force: true });
    return [
      [size, 'tc-promote history --json', tcRequests, tcTrips, `${run.ms.toFixed(0)} ms`],
      [size, 'floor', proxy.requests().length, proxy.roundTrips(), `${floor.ms.toFixed(0)} ms`],
    ];
  } finally {
    await proxy.stop();
  }
}
