// Benchmark: the same-repository promotion with `tc-promote copy` against `skopeo copy` (what
// the production pipeline uses), for images of 1, 10 and 50 layers, alternating in one run.
// Median wall time of each, their ratio, and HTTP requests of each from the registry's access
// log. Target: tc-promote's request count flat in the layer count; wall time ≤ half skopeo's.
// Alongside, what Node.js itself costs here: `node -e 0`, and copy-floor.js, the least any Node
// program can do for the same promotion (the same four requests, nothing else).
import { fileURLToPath } from 'node:url';
import { archiveTag, buildImage, randomCommit } from '../test/support/fixtures.js';
import { startRegistry } from '../test/support/registry.js';
import { binPath, median, printTable, timeProcess } from './common.js';

const floorProgram = fileURLToPath(new URL('./copy-floor.js', import.meta.url));

// One repository per layer count, each with its real moving tag (copy holds a moving tag to the
// promote step's rules: an archive tag of its environment, of the image's revision, dated now).
const repoFor = (layers: number): string => `mozilla/releng-${({ 1: 'signingscript', 10: 'beetmoverscript', 50: 'treescript' } as Record<number, string>)[layers] ?? 'signingscript'}`;
const runs = Number(process.env.BENCH_RUNS ?? 9);

export async function benchCopy(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous' });
  const rows: (string | number)[][] = [];
  const floorRows: (string | number)[][] = [];
  try {
    for (const layers of [1, 10, 50]) {
      const repo = repoFor(layers);
      const base = Date.now();
      // Two images; each run points the moving tag at the one it does not point at now.
      const ca = randomCommit();
      const cb = randomCommit();
      const a = { commit: ca, ...(await buildImage(reg, { repository: repo, commit: ca, tags: [`a-${layers}`], layers })) };
      const b = { commit: cb, ...(await buildImage(reg, { repository: repo, commit: cb, tags: [`b-${layers}`, 'production'], layers })) };
      let at = b.digest;
      const samples = { tc: [] as number[], tcFull: [] as number[], skopeo: [] as number[], floor: [] as number[], node: [] as number[] };
      const requests = { tc: [] as number[], tcFull: [] as number[], skopeo: [] as number[], floor: [] as number[], node: [] as number[] };
      for (let i = 0; i < runs; i++) {
        for (const tool of ['tc', 'skopeo', 'floor', 'node', 'tcFull'] as const) {
          const next = at === a.digest ? b : a;
          await reg.accessLog();
          reg.clearAccessLog();
          // Every program is timed the same way: a process, spawned and waited for.
          const run =
            tool === 'skopeo'
              ? await timeProcess('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/${repo}@${next.digest}`, `docker://${reg.host}/${repo}:production`])
              : tool === 'floor'
                ? await timeProcess(process.execPath, [floorProgram, reg.host, repo, next.digest, 'production'])
                : tool === 'node'
                  ? await timeProcess(process.execPath, ['-e', '0'])
                  : await timeProcess(process.execPath, [
                  binPath,
                  'copy',
                  `${reg.host}/${repo}@${next.digest}`,
                  `${reg.host}/${repo}:production`,
                  '--expect-current',
                  at,
                  // The full promote step: compare-and-swap, provenance check and archive tag.
                  ...(tool === 'tcFull' ? ['--archive-tag', archiveTag('production', new Date(base - i * 1000), next.commit)] : []),
                ]);
          if (run.code !== 0) throw new Error(`${tool} copy failed: ${run.stderr}`);
          if (tool !== 'node') at = next.digest;
          samples[tool].push(run.ms);
          requests[tool].push((await reg.accessLog()).length);
        }
      }
      const tc = median(samples.tc);
      const sk = median(samples.skopeo);
      rows.push([layers, `${tc.toFixed(0)} ms`, `${sk.toFixed(0)} ms`, (tc / sk).toFixed(2), tc <= sk / 2 ? 'yes' : 'NO', median(requests.tc), median(requests.skopeo), `${median(samples.tcFull).toFixed(0)} ms`, median(requests.tcFull)]);
      const floor = median(samples.floor);
      floorRows.push([layers, `${(sk / 2).toFixed(0)} ms`, `${median(samples.node).toFixed(0)} ms`, `${floor.toFixed(0)} ms`, (floor / sk).toFixed(2), median(requests.floor), `${(tc - floor).toFixed(0)} ms`]);
    }
    printTable(
      `same-repository promotion, median of ${runs} alternating runs (HTTP requests as the registry's access log counts them)`,
      ['layers', 'tc-promote copy', 'skopeo copy', 'ratio', '≤ 0.5', 'tc-promote requests', 'skopeo requests', 'full promote step*', 'its requests'],
      rows,
    );
    console.log('\n* copy --expect-current --archive-tag: also reads /app/version.json (one layer) and writes and verifies the archive tag.');
    printTable(
      'what Node.js itself costs here (same runs): node -e 0, and copy-floor.js, the same four requests with node:http and nothing else',
      ['layers', 'half of skopeo', 'node -e 0', 'floor program', 'floor ÷ skopeo', 'its requests', 'tc-promote above the floor'],
      floorRows,
    );
  } finally {
    await reg.stop();
  }
}
