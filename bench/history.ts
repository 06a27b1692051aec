// Benchmark: `tc-promote history` of a repository with 5,000 archive tags on a loopback real
// registry. HTTP requests from the registry's access log, median wall time and peak RSS of the
// CLI process. Target: requests ≤ tag pages + 30, wall time < 2 s.
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { archiveTag, buildImage, randomCommit, tagExisting, writeTagsDirectly } from '../test/support/fixtures.js';
import { startRegistry } from '../test/support/registry.js';
import { median, printTable, timeCli } from './common.js';

const repo = 'mozilla/releng-signingscript';
const tagCount = 5000;
const runs = Number(process.env.BENCH_RUNS ?? 7);

export async function benchHistory(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous' });
  try {
    // 25 distinct images; 5,000 archive tags spread over them, one deploy an hour.
    const images: { digest: string; commit: string }[] = [];
    for (let i = 0; i < 25; i++) {
      const commit = randomCommit();
      images.push({ commit, digest: (await buildImage(reg, { repository: repo, commit, tags: [`seed-${i}`] })).digest });
    }
    const start = Date.UTC(2020, 7, 1);
    const entries = Array.from({ length: tagCount }, (_, i) => {
      const image = images[i % images.length]!;
      return { tag: archiveTag('production', new Date(start + i * 3_600_000), image.commit), digest: image.digest };
    });
    await writeTagsDirectly(reg, repo, entries);
    await tagExisting(reg, repo, entries[entries.length - 1]!.digest, 'production');
    const proxy = await startFaultProxy(reg.url, { paginateTags: true });
    const rows: (string | number)[][] = [];
    try {
      for (const [label, url, pageSize] of [
        ['registry (distribution 2.8: one tag page)', reg.url, 1000],
        ['spec pagination, 1,000 tags a page', proxy.url, 1000],
      ] as const) {
        const times: number[] = [];
        const rss: number[] = [];
        const requests: number[] = [];
        let pages = 0;
        for (let i = 0; i < runs; i++) {
          await reg.accessLog();
          reg.clearAccessLog();
          proxy.clear();
          const run = await timeCli(['history', 'signingscript', '--registry', url, '--page-size', String(pageSize), '--json']);
          if (run.code !== 0) throw new Error(`history failed: ${run.stderr}`);
          const parsed = JSON.parse(run.stdout) as { deploys: unknown[]; current: { tag: string } | null };
          if (parsed.deploys.length !== tagCount || !parsed.current) throw new Error('history returned the wrong pushlog');
          times.push(run.ms);
          rss.push(run.maxRssKb ?? 0);
          const log = await reg.accessLog();
          pages = url === proxy.url ? proxy.requests().filter((r) => r.path.includes('/tags/list')).length : log.filter((e) => e.path.includes('/tags/list')).length;
          // Through the proxy, count what the client sent to the proxy; direct, what the registry saw.
          requests.push(url === proxy.url ? proxy.requests().length + log.filter((e) => e.path === '/v2/').length : log.length);
        }
        rows.push([label, tagCount, pages, median(requests), `${pages} + 30 = ${pages + 30}`, `${median(times).toFixed(0)} ms`, `${(median(rss) / 1024).toFixed(0)} MiB`]);
      }
    } finally {
      await proxy.stop();
    }
    printTable(`history of ${tagCount} archive tags (median of ${runs} runs, CLI as a process)`, ['source', 'tags', 'tag pages', 'HTTP requests', 'target', 'wall time', 'peak RSS'], rows);
  } finally {
    await reg.stop();
  }
}
