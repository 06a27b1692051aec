// Benchmark: pointing a tag at an image that is already in the repository, on loopback and at a
// registry's real distance (a TLS delay proxy holding every answer and every new connection's
// handshakes 25 ms, as Docker Hub is from a cloud worker), for images of 1, 10 and 50 layers.
// Every program is a process, timed the same way, alternating in one run; medians and ranges.
//
//   - the plain retag: `tc-promote copy SRC@DIGEST REPO:TAG` against `skopeo copy
//     --preserve-digests` (what the production pipeline pushes with);
//   - the full promote step, as a promote task runs it (`--expect-current`, `--archive-tag`
//     dated now, provenance with `--version-layer`), against what the production pipeline runs
//     for the same job (scriptworker-scripts' push_image.sh): look at the destination
//     (`skopeo inspect`), `skopeo copy` to the moving tag, `skopeo copy` to the archive tag;
//   - the floors: `node -e 0`, and bench/copy-floor.ts, the plain retag's requests in its
//     round trips with node:http(s) and nothing else, and (--full) the full step's requests in
//     its five round trips with the same settle.
//
// Requests on loopback come from the registry's access log; at a distance, requests and round
// trips from the proxy (requests in flight together are one round trip).
import { fileURLToPath } from 'node:url';
import { startDelayProxy, type DelayProxy } from '../test/support/delay-proxy.js';
import { archiveTag, buildImage, randomCommit } from '../test/support/fixtures.js';
import { makeTempDir, removeTempDir, startRegistry } from '../test/support/registry.js';
import { loopbackCertificate } from '../test/support/tls.js';
import { binPath, repoRoot, median, printTable, setting, settings, spread, timeProcess, type Timed } from './common.js';

const floorProgram = fileURLToPath(new URL('./copy-floor.js', import.meta.url));
const runs = setting('BENCH_RUNS', 11, 1);
// What bin/tc-promote.js loads for a copy, with the same compile cache, and nothing run.
const loadOnly = `import module from 'node:module'; module.enableCompileCache?.(); ${['dist/cli/help-fast.js', 'dist/cli/main.js', 'dist/cli/copy.js'].map((f) => `await import(${JSON.stringify(`${repoRoot}${f}`)});`).join(' ')}`;
const delayMs = setting('BENCH_DELAY_MS', 25, 25);
const layerCounts = settings('BENCH_LAYERS', '1,10,50', '1');

// One repository per layer count, each a configured script with its real moving tag.
const repoFor = (layers: number): string => `mozilla/releng-${({ 1: 'signingscript', 10: 'beetmoverscript', 50: 'treescript' } as Record<number, string>)[layers] ?? 'signingscript'}`;

type Tool = 'plain' | 'skopeo' | 'floor' | 'node' | 'load' | 'full' | 'pipeline' | 'fullFloor';
const tools: Tool[] = ['plain', 'skopeo', 'floor', 'node', 'load', 'full', 'pipeline', 'fullFloor'];

interface Network {
  label: string;
  /** host[:port] images are named with. */
  host: string;
  /** The base URL tc-promote and the floor program are pointed at. */
  base: string;
  env: Record<string, string>;
  proxy?: DelayProxy;
}

interface Image {
  digest: string;
  commit: string;
  versionLayer: string;
}

interface Sample {
  ms: number;
  requests: number;
  roundTrips: number | null;
}

export async function benchCopy(): Promise<void> {
  const reg = await startRegistry({ auth: 'anonymous' });
  const dir = makeTempDir('bench-copy-');
  const certificate = loopbackCertificate(dir);
  const proxy = await startDelayProxy(reg.url, delayMs, { tls: certificate });
  const networks: Network[] = [
    { label: 'loopback', host: reg.host, base: reg.url, env: {} },
    { label: `${delayMs} ms away (TLS)`, host: proxy.host, base: proxy.url, env: { NODE_EXTRA_CA_CERTS: certificate.certPath }, proxy },
  ];
  const promotion: (string | number)[][] = [];
  const floors: (string | number)[][] = [];
  const fullFloors: (string | number)[][] = [];
  // Archive tags dated one second apart going back from the start: unique however long a run takes.
  const stampBase = Date.now();
  let stampOffset = 0;
  try {
    for (const layers of layerCounts) {
      const repo = repoFor(layers);
      const images: Image[] = [];
      for (const name of ['a', 'b']) {
        const commit = randomCommit();
        const built = await buildImage(reg, { repository: repo, commit, tags: [`${name}-${layers}`, ...(name === 'b' ? ['production', 'staging'] : [])], layers });
        images.push({ digest: built.digest, commit, versionLayer: built.layerDigests.at(-1)! });
      }
      // What each tag points at now: every run points it at the other image, so every run writes.
      const at: Record<string, string> = { production: images[1]!.digest, staging: images[1]!.digest };
      const other = (tag: string): Image => (at[tag] === images[0]!.digest ? images[1]! : images[0]!);
      for (const net of networks) {
        const samples = Object.fromEntries(tools.map((t) => [t, [] as Sample[]])) as Record<Tool, Sample[]>;
        for (let i = 0; i < runs; i++) {
          // Alternate, and rotate the order so no program always follows the same one.
          for (const tool of [...tools.slice(i % tools.length), ...tools.slice(0, i % tools.length)]) {
            const tag = tool === 'full' || tool === 'pipeline' || tool === 'fullFloor' ? 'production' : 'staging';
            const next = other(tag);
            const src = `${net.host}/${repo}@${next.digest}`;
            const archive = archiveTag('production', new Date(stampBase - ++stampOffset * 1000), next.commit);
            await reg.accessLog();
            reg.clearAccessLog();
            net.proxy?.clear();
            const skopeo = (args: string[]): Promise<Timed> => timeProcess('skopeo', args);
            let run: Timed;
            if (tool === 'plain') run = await timeProcess(process.execPath, [binPath, 'copy', src, `${net.host}/${repo}:${tag}`, '--registry', net.base], net.env);
            else if (tool === 'full') {
              run = await timeProcess(process.execPath, [binPath, 'copy', src, `${net.host}/${repo}:${tag}`, '--registry', net.base, '--expect-current', at[tag]!, '--archive-tag', archive, '--version-layer', next.versionLayer], net.env);
            } else if (tool === 'skopeo') run = await skopeo(['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${net.host}/${repo}:${tag}`]);
            else if (tool === 'pipeline') {
              // push_image.sh's steps for the same job, one after the other, timed as a whole.
              const started = performance.now();
              const steps = [
                ['inspect', '--tls-verify=false', '--raw', `docker://${net.host}/${repo}:${tag}`],
                ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${net.host}/${repo}:${tag}`],
                ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${net.host}/${repo}:${archive}`],
              ];
              run = { ms: 0, code: 0, stdout: '', stderr: '' };
              for (const step of steps) {
                const one = await skopeo(step);
                if (one.code !== 0) run = one;
              }
              run.ms = performance.now() - started;
            } else if (tool === 'floor') run = await timeProcess(process.execPath, [floorProgram, net.base, repo, next.digest, tag], net.env);
            else if (tool === 'fullFloor') run = await timeProcess(process.execPath, [floorProgram, net.base, repo, next.digest, tag, '--full', archive, next.versionLayer], net.env);
            else if (tool === 'load') run = await timeProcess(process.execPath, ['--input-type=module', '-e', loadOnly]);
            else run = await timeProcess(process.execPath, ['-e', '0']);
            if (run.code !== 0) throw new Error(`${tool} (${net.label}, ${layers} layers) failed: ${run.stderr}`);
            if (tool !== 'node' && tool !== 'load') at[tag] = next.digest;
            const log = await reg.accessLog();
            samples[tool].push({ ms: run.ms, requests: net.proxy ? net.proxy.requests().length : log.length, roundTrips: net.proxy ? net.proxy.roundTrips() : null });
          }
        }
        const ms = (tool: Tool): number => median(samples[tool].map((s) => s.ms));
        const req = (tool: Tool): string => {
          const r = median(samples[tool].map((s) => s.requests));
          const trips = samples[tool][0]?.roundTrips === null ? '' : ` / ${median(samples[tool].map((s) => s.roundTrips ?? 0))}`;
          return `${r}${trips}`;
        };
        const timed = (tool: Tool): string => `${ms(tool).toFixed(0)} ms (${spread(samples[tool].map((s) => s.ms))})`;
        const distant = net.proxy !== undefined;
        const plainRatio = ms('plain') / ms('skopeo');
        const fullRatio = ms('full') / ms('pipeline');
        const plainTarget = distant ? (layers >= 10 ? 0.5 : 0.6) : undefined;
        const fullTarget = distant ? ({ 1: 0.4, 10: 0.3, 50: 0.2 } as Record<number, number>)[layers] : undefined;
        const verdict = (ratio: number, target: number | undefined): string => (target === undefined ? '-' : `≤ ${target}: ${ratio <= target ? 'met' : 'NOT met'}`);
        promotion.push([net.label, layers, timed('plain'), timed('skopeo'), plainRatio.toFixed(2), verdict(plainRatio, plainTarget), req('plain'), req('skopeo'), timed('full'), timed('pipeline'), fullRatio.toFixed(2), verdict(fullRatio, fullTarget), req('full'), req('pipeline')]);
        const floorRatio = ms('plain') / ms('floor');
        // The least tc-promote's own code can cost: the floor plus loading the modules copy runs (nothing run).
        const bound = (ms('floor') + ms('load') - ms('node')) / ms('floor');
        floors.push([net.label, layers, timed('node'), timed('load'), timed('floor'), req('floor'), timed('plain'), floorRatio.toFixed(2), bound.toFixed(2), distant ? '-' : `≤ 1.2: ${floorRatio <= 1.2 ? 'met' : 'NOT met'}`]);
        // The full step's floor against the pipeline: the least ratio these round trips and this settle leave a Node.js program.
        fullFloors.push([net.label, layers, timed('full'), timed('fullFloor'), req('fullFloor'), (ms('full') / ms('fullFloor')).toFixed(2), timed('pipeline'), fullRatio.toFixed(2), (ms('fullFloor') / ms('pipeline')).toFixed(2), verdict(fullRatio, fullTarget)]);
      }
    }
    printTable(
      `promotion within one repository, median (range) of ${runs} alternating runs; requests / round trips`,
      ['network', 'layers', 'tc-promote copy', 'skopeo copy', 'ratio', 'target', 'requests', 'skopeo requests', 'full promote step*', "pipeline's steps**", 'ratio', 'target', 'requests', 'pipeline requests'],
      promotion,
    );
    console.log('\n* copy --expect-current --archive-tag --version-layer, as a promote task runs it: compare-and-swap, provenance, the settle, the archive tag, a verifying HEAD after each write.');
    console.log('** push_image.sh for the same job: skopeo inspect of the destination, skopeo copy to the moving tag, skopeo copy to the archive tag.');
    printTable(
      'the floor under the plain retag (same runs): node -e 0, and copy-floor.js, the same requests in the same round trips with node:http(s) and nothing else',
      ['network', 'layers', 'node -e 0', "copy's modules loaded***", 'floor program', 'its requests', 'tc-promote copy', 'tc-promote ÷ floor', '(floor + modules) ÷ floor', 'target'],
      floors,
    );
    console.log("\n*** node importing the modules a copy loads (bin's fast path, main.js, cli/copy.js and what they import), running nothing: (floor + modules − node -e 0) ÷ floor is the least any copy built of this code can reach.");
    printTable(
      'the floor under the full promote step (same runs): copy-floor.js --full, the same requests in the same five round trips with the same settle (50 ms + twice the PUT), node:http(s) and nothing else',
      ['network', 'layers', 'full promote step', 'floor program', 'its requests', 'full ÷ floor', "pipeline's steps", 'full ÷ pipeline', 'floor ÷ pipeline', 'target (full ÷ pipeline)'],
      fullFloors,
    );
  } finally {
    await proxy.stop();
    await reg.stop();
    removeTempDir(dir);
  }
}


