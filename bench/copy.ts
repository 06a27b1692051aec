// Benchmark: the same-repository promotion with `tc-promote copy` against `skopeo copy` (what
// the production pipeline uses), for images of 1, 10 and 50 layers, alternating in one run.
// Median wall time of each, their ratio, and HTTP requests of each from the registry's access
// log. Target: tc-promote's request count flat in the layer count; wall time ≤ half skopeo's.
import { archiveTag, buildImage, randomCommit } from '../test/support/fixtures.js';
import { startRegistry } from '../test/support/registry.js';
import { median, printTable, timeCli, timeProcess } from './common.js';

const repo = 'mozilla/releng-signingscript';
const runs = Number(process.env.BENCH_RUNS ?? 9);

export async function benchCopy(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous' });
  const rows: (string | number)[][] = [];
  try {
    for (const layers of [1, 10, 50]) {
      // Two images; each run points the moving tag at the one it does not point at now.
      const a = await buildImage(reg, { repository: repo, commit: randomCommit(), tags: [`a-${layers}`], layers });
      const b = await buildImage(reg, { repository: repo, commit: randomCommit(), tags: [`b-${layers}`, `moving-${layers}`], layers });
      let at = b.digest;
      const samples = { tc: [] as number[], tcFull: [] as number[], skopeo: [] as number[] };
      const requests = { tc: [] as number[], tcFull: [] as number[], skopeo: [] as number[] };
      for (let i = 0; i < runs; i++) {
        for (const tool of ['tc', 'skopeo', 'tcFull'] as const) {
          const next = at === a.digest ? b : a;
          await reg.accessLog();
          reg.clearAccessLog();
          const run =
            tool === 'skopeo'
              ? await timeProcess('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/${repo}@${next.digest}`, `docker://${reg.host}/${repo}:moving-${layers}`])
              : await timeCli([
                  'copy',
                  `${reg.host}/${repo}@${next.digest}`,
                  `${reg.host}/${repo}:moving-${layers}`,
                  '--expect-current',
                  at,
                  // The full promote step: compare-and-swap, provenance check and archive tag.
                  ...(tool === 'tcFull' ? ['--archive-tag', archiveTag('production', new Date(Date.UTC(2030, 0, 1, 0, 0, i)), randomCommit()), '--allow-revision-mismatch'] : []),
                ]);
          if (run.code !== 0) throw new Error(`${tool} copy failed: ${run.stderr}`);
          at = next.digest;
          samples[tool].push(run.ms);
          requests[tool].push((await reg.accessLog()).length);
        }
      }
      const tc = median(samples.tc);
      const sk = median(samples.skopeo);
      rows.push([layers, `${tc.toFixed(0)} ms`, `${sk.toFixed(0)} ms`, (tc / sk).toFixed(2), median(requests.tc), median(requests.skopeo), `${median(samples.tcFull).toFixed(0)} ms`, median(requests.tcFull)]);
    }
    printTable(
      `same-repository promotion, median of ${runs} alternating runs (HTTP requests as the registry's access log counts them)`,
      ['layers', 'tc-promote copy', 'skopeo copy', 'ratio', 'tc-promote requests', 'skopeo requests', 'full promote step*', 'its requests'],
      rows,
    );
    console.log('\n* copy --expect-current --archive-tag: also reads /app/version.json (one layer) and writes and verifies the archive tag.');
  } finally {
    await reg.stop();
  }
}
