// Benchmark: the task graph.
//  1. Cold start of `tc-promote render --offline …` as a process against `node -e 0`
//     (median of alternating runs). Target: under 300 ms median.
//  2. In-process rendering of all 13 scripts' graphs (templates, context, json-e, schema
//     validation). Target: all 13 under 50 ms.
//  3. Submission of a 50-task graph to the Taskcluster emulator with 20 ms added to every
//     call, through taskcluster-client. Target: wall time ≤ 1.5 × (graph depth + 1) × 20 ms.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { examplePlan, revision, targetDigest } from '../test/support/plans.js';
import { binPath, median, printTable, repoRoot, setting, settings, timeProcess } from './common.js';

// The built tool (dist/), typed by its sources.
const { loadConfig, parseConfig } = (await import(`${repoRoot}dist/config/load.js`)) as typeof import('../src/config/load.js');
const { buildGraph, graphDepth } = (await import(`${repoRoot}dist/graph/build.js`)) as typeof import('../src/graph/build.js');
const { createClients } = (await import(`${repoRoot}dist/taskcluster-api/clients.js`)) as typeof import('../src/taskcluster-api/clients.js');
const { submitGraph, defaultConcurrency } = (await import(`${repoRoot}dist/taskcluster/submit.js`)) as typeof import('../src/taskcluster/submit.js');
type TaskCreator = import('../src/taskcluster/submit.js').TaskCreator;

const runs = setting('BENCH_RUNS', 15, 1);
const latencyMs = 20;

/** createTask as one PUT with node:http and a keep-alive agent: no signing, no retries. */
function bareCreator(rootUrl: string): TaskCreator {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return {
    createTask: (taskId, task) =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify(task);
        const req = http.request(`${rootUrl}/api/queue/v1/task/${taskId}`, { method: 'PUT', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown));
        });
        req.on('error', reject);
        req.end(body);
      }),
  };
}

export async function benchGraph(): Promise<void> {
  const rows: (string | number)[][] = [];

  // 1. Cold start, alternating so that both see the same machine state.
  const renderArgs = [binPath, 'render', 'signingscript', '--offline', '--target-tag', `production-20210929025643-${revision}`, '--target-digest', targetDigest];
  const samples = { render: [] as number[], node: [] as number[] };
  for (let i = 0; i < runs + 1; i++) {
    const render = await timeProcess(process.execPath, renderArgs);
    if (render.code !== 0) throw new Error(`render failed: ${render.stderr}`);
    const bare = await timeProcess(process.execPath, ['-e', '0']);
    // The first pair warms the file cache (and the compile cache bin/tc-promote.js enables).
    if (i === 0) continue;
    samples.render.push(render.ms);
    samples.node.push(bare.ms);
  }
  const renderMedian = median(samples.render);
  const nodeMedian = median(samples.node);
  rows.push(['cold start: tc-promote render --offline', `${renderMedian.toFixed(0)} ms`, `node -e 0: ${nodeMedian.toFixed(0)} ms (+${(renderMedian - nodeMedian).toFixed(0)} ms)`, '< 300 ms', renderMedian < 300 ? 'yes' : 'NO']);

  // 2. All 13 graphs in-process. The first pass of a fresh process reads the templates and
  // loads the validator, with nothing optimised yet: measured in `runs` fresh processes.
  const config = loadConfig();
  const renderAll = (): number => {
    const started = performance.now();
    for (const script of config.scripts) buildGraph(config, examplePlan(config, { script }), { allowFallback: true });
    return performance.now() - started;
  };
  const firsts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await timeProcess(process.execPath, [fileURLToPath(new URL('./render-first.js', import.meta.url))]);
    if (run.code !== 0) throw new Error(`render-first failed: ${run.stderr}`);
    firsts.push(Number(run.stdout.trim()));
  }
  const first = median(firsts);
  renderAll();
  const warm = median(Array.from({ length: runs }, renderAll));
  rows.push([`render all ${config.scripts.length} graphs in-process (first pass)`, `${first.toFixed(1)} ms`, `median of ${runs} fresh processes (${Math.min(...firsts).toFixed(0)}–${Math.max(...firsts).toFixed(0)} ms): nothing optimised yet`, '< 50 ms', first < 50 ? 'yes' : 'NO']);
  rows.push([`render all ${config.scripts.length} graphs in-process (warm median)`, `${warm.toFixed(1)} ms`, `${(warm / config.scripts.length).toFixed(2)} ms a graph`, '< 50 ms', warm < 50 ? 'yes' : 'NO']);

  // 3. A 50-task graph: 49 promote targets and the fallback.
  const text = readFileSync(`${repoRoot}config/scriptworker-scripts.yml`, 'utf8');
  const line = "      - { registry: docker.io, repository: 'mozilla/releng-{script}', tag: production }";
  const wide = parseConfig(text.replace(line, Array.from({ length: 49 }, (_, i) => (i ? `      - { registry: registry${i}.example.com, repository: 'mozilla/releng-{script}', tag: production }` : line)).join('\n')), 'bench-49-targets.yml');
  // Every submission below uses the same graph shape and submitGraph's scheduling; what changes
  // is the client and the server. The first round of each opens the connections.
  const rounds = runs;
  let attempt = 0;
  const timeSubmissions = async (creator: TaskCreator): Promise<{ ms: number; depth: number; tasks: number }> => {
    const times: number[] = [];
    let depth = 0;
    let tasks = 0;
    for (let i = 0; i < rounds + 1; i++) {
      // Each round is a new attempt from the same state (promote ids are keyed on it).
      const graph = buildGraph(wide, examplePlan(wide), { attempt: ++attempt });
      depth = graphDepth(graph);
      tasks = graph.tasks.length;
      const started = performance.now();
      await submitGraph(creator, graph);
      if (i > 0) times.push(performance.now() - started);
    }
    return { ms: median(times), depth, tasks };
  };
  const withWorker = async <T>(script: string, latency: number, use: (rootUrl: string, worker: Worker) => Promise<T>): Promise<T> => {
    const worker = new Worker(new URL(script, import.meta.url), { workerData: { latencyMs: latency } });
    try {
      const [{ rootUrl }] = (await once(worker, 'message')) as [{ rootUrl: string }];
      return await use(rootUrl, worker);
    } finally {
      await worker.terminate();
    }
  };
  const queueFor = async (rootUrl: string): Promise<TaskCreator> =>
    (await createClients({ apiRootUrl: rootUrl, rootUrl, viaProxy: false, credentials: { clientId: 'bench', accessToken: 'bench' } }, { retries: 0 })).queue;

  // The figure: taskcluster-client against the rule-enforcing emulator, 20 ms a call; then the
  // same with no latency, which shows what client and emulator cost in CPU.
  for (const latency of [latencyMs, 0]) {
    await withWorker('./emulator-worker.js', latency, async (rootUrl, worker) => {
      const { ms, depth, tasks } = await timeSubmissions(await queueFor(rootUrl));
      worker.postMessage({ type: 'count' });
      const [{ created }] = (await once(worker, 'message')) as [{ created: number }];
      if (created !== tasks * (rounds + 1)) throw new Error(`the emulator created ${created} tasks, expected ${tasks * (rounds + 1)}`);
      if (latency > 0) {
        const bound = 1.5 * (depth + 1) * latency;
        rows.push([`submit ${tasks}-task graph (depth ${depth}), ${latency} ms a call`, `${ms.toFixed(0)} ms`, `median of ${rounds}; taskcluster-client, emulator in a worker thread`, `≤ ${bound} ms`, ms <= bound ? 'yes' : 'NO']);
      } else {
        rows.push([`  the same with no latency (CPU cost)`, `${ms.toFixed(0)} ms`, `${(ms / tasks).toFixed(2)} ms a createTask call, client and emulator`, '', '']);
      }
    });
  }
  // Floors: a Queue that checks nothing (still 20 ms a call), reached through taskcluster-client
  // and through bare node:http. What is left above the bound here is the client's own cost.
  await withWorker('./null-queue-worker.js', latencyMs, async (rootUrl) => {
    const tc = await timeSubmissions(await queueFor(rootUrl));
    const bare = await timeSubmissions(bareCreator(rootUrl));
    const bound = 1.5 * (tc.depth + 1) * latencyMs;
    rows.push([`  taskcluster-client, a Queue that checks nothing, ${latencyMs} ms a call`, `${tc.ms.toFixed(0)} ms`, `floor for the required client; median of ${rounds}`, `≤ ${bound} ms`, tc.ms <= bound ? 'yes' : 'NO']);
    rows.push([`  bare node:http, the same Queue`, `${bare.ms.toFixed(0)} ms`, 'floor for any Node.js HTTP client', `≤ ${bound} ms`, bare.ms <= bound ? 'yes' : 'NO']);
  });
  // The scheduling alone: a creator that only waits the latency (no HTTP client cost).
  {
    const times: number[] = [];
    let depth = 0;
    let tasks = 0;
    for (let i = 0; i < 6; i++) {
      const graph = buildGraph(wide, examplePlan(wide));
      depth = graphDepth(graph);
      tasks = graph.tasks.length;
      // Answers as the Queue does (a task status), after the latency.
      const waiting = { createTask: (taskId: string) => new Promise((resolve) => setTimeout(() => resolve({ status: { taskId } }), latencyMs)) };
      const started = performance.now();
      await submitGraph(waiting, graph);
      times.push(performance.now() - started);
    }
    const bound = 1.5 * (depth + 1) * latencyMs;
    const ms = median(times);
    rows.push([`  scheduling only (${tasks} creates that just wait ${latencyMs} ms)`, `${ms.toFixed(0)} ms`, `dependency order, ${defaultConcurrency} in flight`, `≤ ${bound} ms`, ms <= bound ? 'yes' : 'NO']);
  }
  printTable(`task graph (median of ${runs} runs unless noted)`, ['measure', 'result', 'detail', 'target', 'met'], rows);
  await benchSubmitAtDistance(queueFor, withWorker);
}

/**
 * Submission at a realistic Queue latency: graphs of N tasks (N - 1 promote targets and the
 * fallback: depth 1) at 100 ms a createTask, through taskcluster-client, to the rule-enforcing
 * emulator and to a Queue that checks nothing. Target: (depth + 1) × latency up to N = 200.
 */
async function benchSubmitAtDistance(
  queueFor: (rootUrl: string) => Promise<TaskCreator>,
  withWorker: <T>(script: string, latency: number, use: (rootUrl: string, worker: Worker) => Promise<T>) => Promise<T>,
): Promise<void> {
  const latency = setting('BENCH_QUEUE_LATENCY_MS', 100, 100);
  const rounds = setting('BENCH_SUBMIT_RUNS', 11, 1);
  const sizes = settings('BENCH_SUBMIT_TASKS', '10,50,100,200', '10');
  const text = readFileSync(`${repoRoot}config/scriptworker-scripts.yml`, 'utf8');
  const line = "      - { registry: docker.io, repository: 'mozilla/releng-{script}', tag: production }";
  const rows: (string | number)[][] = [];
  let attempt = 1000;
  for (const server of ['./emulator-worker.js', './null-queue-worker.js']) {
    await withWorker(server, latency, async (rootUrl) => {
      const queue = await queueFor(rootUrl);
      for (const n of sizes) {
        const config = parseConfig(text.replace(line, Array.from({ length: n - 1 }, (_, i) => (i ? `      - { registry: registry${i}.example.com, repository: 'mozilla/releng-{script}', tag: production }` : line)).join('\n')), `bench-${n - 1}-targets.yml`);
        const times: number[] = [];
        let depth = 0;
        for (let i = 0; i < rounds + 1; i++) {
          const graph = buildGraph(config, examplePlan(config), { attempt: ++attempt });
          depth = graphDepth(graph);
          const started = performance.now();
          await submitGraph(queue, graph);
          // The first round opens the connections.
          if (i > 0) times.push(performance.now() - started);
        }
        const ideal = (depth + 1) * latency;
        const ms = median(times);
        rows.push([server.includes('emulator') ? 'emulator (checks every rule)' : 'a Queue that checks nothing', n, depth, `${ms.toFixed(0)} ms (${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)})`, `${ideal} ms`, (ms / ideal).toFixed(2)]);
      }
    });
  }
  printTable(`submission at ${latency} ms a createTask (taskcluster-client; median (range) of ${rounds})`, ['Queue', 'tasks', 'depth', 'submit', '(depth + 1) × latency', 'ratio'], rows);
}
