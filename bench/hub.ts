// Benchmark: history, plan and status over Docker Hub's tag API at its real shape (100 tags a
// page, newest first, count on the first page), 25 ms away. Hub's API is the stand-in
// test/support/hub-api.ts (Hub's documented shapes; Hub cannot be reached here) behind the TLS
// delay proxy (every answer, TCP accept and TLS handshake held 25 ms), and the manifests a
// real registry behind another. Every program is a process; they alternate; medians and ranges.
// - history of a realistic pushlog of 5,000 archive tags: Hub round trips (target ≤ 8; the
//   listing read one page after another took 51) against bench/hub-history-floor.ts (the
//   same pages with the same concurrency, nothing else; target within 1.5×);
// - plan of the same: at most 2 Hub round trips when the answer is on the newest page;
// - status of the 13 configured scripts × 2 environments, each repository a realistic pushlog
//   of 5,000 archive tags (production and dev): each repository listed once for both
//   environments, at most 3 Hub round trips per repository, under 1 s in all.
// BENCH_HUB_BEFORE=<path to another build's bin/tc-promote.js> adds that build's history and
// status rows (the listing before this work: one page after another).
import { loadConfig } from '../src/config/load.js';
import { expandPattern } from '../src/config/load.js';
import { startDelayProxy, type DelayProxy } from '../test/support/delay-proxy.js';
import { hubEntriesOf, startHubApi, type HubApi } from '../test/support/hub-api.js';
import { makeTempDir, removeTempDir, startRegistry } from '../test/support/registry.js';
import { seedScaleHistory } from '../test/support/scale-history.js';
import { loopbackCertificate } from '../test/support/tls.js';
import { median, printTable, repoRoot, setting, timeNode, timeProcess, type Timed } from './common.js';

const runs = setting('BENCH_RUNS', 11, 1);
const size = setting('BENCH_HUB_TAGS', 5000, 300);
const statusSize = setting('BENCH_HUB_STATUS_TAGS', 5000, 300);
const delayMs = 25;
const concurrency = 10;
const floorPath = `${repoRoot}.bench/bench/hub-history-floor.js`;
const before = process.env.BENCH_HUB_BEFORE;
const binPath = `${repoRoot}bin/tc-promote.js`;
const rssPreload = `${repoRoot}bench/rss-report.mjs`;

const ms = (values: number[]): string => `${median(values).toFixed(0)} ms (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
const range = (values: number[]): string => (Math.min(...values) === Math.max(...values) ? `${values[0]}` : `${median(values)} (${Math.min(...values)}–${Math.max(...values)})`);

interface Sample {
  ms: number;
  requests: number;
  trips: number;
  /** Most pages of one repository asked for page 1 (status: each repository listed once). */
  firstPages?: number;
}

function cli(bin: string, args: string[], env: Record<string, string>): Promise<Timed> {
  return timeProcess(process.execPath, ['--import', rssPreload, bin, ...args], env);
}

async function sample(proxy: DelayProxy, hub: HubApi, run: () => Promise<Timed>, what: string): Promise<Sample> {
  proxy.clear();
  hub.clear();
  const r = await run();
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  const perRepository = new Map<string, number>();
  for (const q of hub.requests()) if (q.page === 1) perRepository.set(q.path.split('/tags')[0]!, (perRepository.get(q.path.split('/tags')[0]!) ?? 0) + 1);
  return { ms: r.ms, requests: proxy.requests().length, trips: proxy.roundTrips(), firstPages: Math.max(0, ...perRepository.values()) };
}

export async function benchHub(): Promise<void> {
  const dir = makeTempDir('bench-hub-');
  const certificate = loopbackCertificate(dir);
  const trust = { NODE_EXTRA_CA_CERTS: certificate.certPath };
  const regA = await startRegistry({ auth: 'anonymous', accessLog: false });
  const regB = await startRegistry({ auth: 'anonymous', accessLog: false });
  const hubA = await startHubApi();
  const hubB = await startHubApi();
  hubA.scheme = hubB.scheme = 'https';
  const proxies = await Promise.all([startDelayProxy(hubA.url, delayMs, { tls: certificate }), startDelayProxy(regA.url, delayMs, { tls: certificate }), startDelayProxy(hubB.url, delayMs, { tls: certificate }), startDelayProxy(regB.url, delayMs, { tls: certificate })]);
  const [hubProxyA, regProxyA, hubProxyB, regProxyB] = proxies as [DelayProxy, DelayProxy, DelayProxy, DelayProxy];
  const rows: (string | number)[][] = [];
  try {
    const repository = 'mozilla/releng-signingscript';
    const started = Date.now();
    const seeded = await seedScaleHistory(regA, repository, size, 1);
    hubA.repositories.set(repository, hubEntriesOf(seeded.entries));
    // Every configured script's repository with a realistic pushlog of its own (production and dev in one repository).
    const config = loadConfig(`${repoRoot}config/scriptworker-scripts.yml`);
    for (const [i, script] of config.scripts.entries()) {
      const name = expandPattern(config.environments.production!.source.repository, script);
      const pushlog = await seedScaleHistory(regB, name, statusSize, 100 + i);
      hubB.repositories.set(name, hubEntriesOf(pushlog.entries));
    }
    console.error(`seeded ${size} tags, and ${config.scripts.length} repositories of ${statusSize} for status, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const pages = Math.ceil(hubA.repositories.get(repository)!.length / 100);
    const argsA = ['--registry', regProxyA.url, '--hub-api', hubProxyA.url, '--json'];
    const argsB = ['--registry', regProxyB.url, '--hub-api', hubProxyB.url, '--json'];
    const programs: { label: string; proxy: DelayProxy; hub: HubApi; run: () => Promise<Timed> }[] = [
      { label: 'tc-promote history --json', proxy: hubProxyA, hub: hubA, run: () => cli(binPath, ['history', 'signingscript', ...argsA], trust) },
      { label: 'floor (the same pages, the same concurrency)', proxy: hubProxyA, hub: hubA, run: () => timeNode([floorPath, hubProxyA.url, repository, regProxyA.url, 'production', String(concurrency)], trust) },
      { label: 'tc-promote plan --json', proxy: hubProxyA, hub: hubA, run: () => cli(binPath, ['plan', 'signingscript', ...argsA], trust) },
      { label: 'tc-promote status --json (13 × 2)', proxy: hubProxyB, hub: hubB, run: () => cli(binPath, ['status', ...argsB], trust) },
      ...(before
        ? [
            { label: 'before: history --json', proxy: hubProxyA, hub: hubA, run: () => cli(before, ['history', 'signingscript', ...argsA], trust) },
            { label: 'before: plan --json', proxy: hubProxyA, hub: hubA, run: () => cli(before, ['plan', 'signingscript', ...argsA], trust) },
            { label: 'before: status --json (13 × 2)', proxy: hubProxyB, hub: hubB, run: () => cli(before, ['status', ...argsB], trust) },
          ]
        : []),
    ];
    const samples = programs.map(() => [] as Sample[]);
    for (let r = 0; r < runs; r++) {
      // Alternating, the order rotated each run.
      for (let k = 0; k < programs.length; k++) {
        const i = (k + r) % programs.length;
        const p = programs[i]!;
        samples[i]!.push(await sample(p.proxy, p.hub, p.run, p.label));
      }
    }
    const historyMs = median(samples[0]!.map((s) => s.ms));
    const floorMs = median(samples[1]!.map((s) => s.ms));
    const targets = ['≤ 8', '', '≤ 2', '≤ 3 a repository; < 1 s'];
    const met = (i: number, s: Sample[]): string => {
      const trips = median(s.map((x) => x.trips));
      if (i === 0) return trips <= 8 && historyMs / floorMs <= 1.5 ? 'yes' : 'NO';
      if (i === 2) return trips <= 2 ? 'yes' : 'NO';
      if (i === 3) return trips <= 3 && median(s.map((x) => x.ms)) < 1000 && Math.max(...s.map((x) => x.firstPages ?? 0)) === 1 ? 'yes' : 'NO';
      return '';
    };
    for (const [i, p] of programs.entries()) {
      const s = samples[i]!;
      rows.push([
        p.label,
        range(s.map((x) => x.requests)),
        range(s.map((x) => x.trips)),
        targets[i] ?? '',
        ms(s.map((x) => x.ms)),
        i === 0 ? (historyMs / floorMs).toFixed(2) : i === 1 ? '1.00' : '',
        i === 3 || p.label.startsWith('before: status') ? `${Math.max(...s.map((x) => x.firstPages ?? 0))}` : '',
        met(i, s),
      ]);
    }
    printTable(
      `Docker Hub API ${delayMs} ms away (TLS delay proxies: the Hub stand-in and the registry); history and plan: ${size} archive tags (${pages} pages of 100); status: 13 repositories of ${statusSize}; median (range) of ${runs} alternating runs`,
      ['program', 'Hub requests', 'Hub round trips', 'target', 'wall time', '÷ floor (≤ 1.5)', 'page 1 asked a repository', 'met'],
      rows,
    );
  } finally {
    for (const p of proxies) await p.stop();
    await hubA.stop();
    await hubB.stop();
    await regA.stop();
    await regB.stop();
    removeTempDir(dir);
  }
}
