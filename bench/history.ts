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
import { makeTempDir, removeTempDir, startRegistry, type RunningRegistry } from '../test/support/registry.js';
import { loopbackCertificate } from '../test/support/tls.js';
import { seedScaleHistory } from '../test/support/scale-history.js';
import { median, printTable, repoRoot, setting, settings, timeCli, timeNode, timeProcess } from './common.js';

const runs = setting('BENCH_RUNS', 7, 1);
const sizes = settings('BENCH_HISTORY_SIZES', '5000,50000', '300');
const floorPath = `${repoRoot}.bench/bench/history-floor.js`;
const delayMs = 25;
const distanceRuns = setting('BENCH_DISTANCE_RUNS', 11, 1);

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
  printTable(`history ${delayMs} ms away (TLS delay proxy: answers and each connection's handshakes held ${delayMs} ms); median (range) of ${distanceRuns} alternating runs`, ['tags', 'program', 'requests', 'round trips', 'wall time', 'tc-promote ÷'], trips);
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
  // HTTPS, as Docker Hub is: every new connection pays a TCP and a TLS handshake at the distance.
  const dir = makeTempDir('bench-history-tls-');
  const certificate = loopbackCertificate(dir);
  const proxy = await startDelayProxy(reg.url, delayMs, { tls: certificate });
  const trust = { NODE_EXTRA_CA_CERTS: certificate.certPath };
  const file = path.join(dir, 'heads.txt');
  try {
    const samples: Record<'tc' | 'floor' | 'skopeo', { ms: number; requests: number; trips: number }[]> = { tc: [], floor: [], skopeo: [] };
    for (let r = 0; r < distanceRuns; r++) {
      for (const program of ['tc', 'floor', 'skopeo'] as const) {
        proxy.clear();
        let ms: number;
        if (program === 'tc') {
          const run = await timeCli(['history', script, '--registry', proxy.url, '--json'], trust);
          if (run.code !== 0) throw new Error(`history through the proxy failed: ${run.stderr}`);
          ms = run.ms;
          // The floor resolves what history resolved.
          const heads = proxy.requests().filter((q) => q.method === 'HEAD').map((q) => decodeURIComponent(q.path.split('/manifests/')[1]!)).filter((t) => t !== 'production');
          writeFileSync(file, heads.join('\n'));
        } else if (program === 'floor') {
          const run = await timeNode([floorPath, proxy.url, repository, 'production', file], trust);
          if (run.code !== 0) throw new Error(`floor failed: ${run.stderr}`);
          ms = run.ms;
        } else {
          // The reads skopeo offers for this: list the tags, inspect the moving tag (no digest per deploy).
          const started = performance.now();
          for (const args of [['list-tags', '--tls-verify=false', `docker://${proxy.host}/${repository}`], ['inspect', '--tls-verify=false', '--raw', `docker://${proxy.host}/${repository}:production`]]) {
            const run = await timeProcess('skopeo', args);
            if (run.code !== 0) throw new Error(`skopeo ${args[0]} failed: ${run.stderr}`);
          }
          ms = performance.now() - started;
        }
        samples[program].push({ ms, requests: proxy.requests().length, trips: proxy.roundTrips() });
      }
    }
    const row = (label: string, s: { ms: number; requests: number; trips: number }[]): (string | number)[] => [size, label, median(s.map((x) => x.requests)), median(s.map((x) => x.trips)), ms(s.map((x) => x.ms))];
    const tc = median(samples.tc.map((x) => x.ms));
    return [
      [...row('tc-promote history --json', samples.tc), ''],
      [...row('floor (the same requests)', samples.floor), (tc / median(samples.floor.map((x) => x.ms))).toFixed(2)],
      [...row('skopeo list-tags + inspect (no digests per deploy)', samples.skopeo), (tc / median(samples.skopeo.map((x) => x.ms))).toFixed(2)],
    ];
  } finally {
    await proxy.stop();
    removeTempDir(dir);
  }
}
