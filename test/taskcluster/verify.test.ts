// Verification after the move, through real taskcluster-client calls to the Taskcluster
// emulator's Queue (listWorkers, getWorker, status, as services/queue answers them); workers
// are made the way the Queue makes them, by claiming tasks.
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { describeVerification, verifyWorkers, type WorkerQueue } from '../../src/taskcluster/verify.js';
import { parseWorkerPools, poolsFromClients, poolsOf } from '../../src/config/pools.js';
import { loadConfig } from '../../src/config/load.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { referencePath, repositoryRoot } from '../support/reference.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { load } from 'js-yaml';
import path from 'node:path';

let tc: TaskclusterEmulator;
let queue: WorkerQueue;
let clock = Date.parse('2026-12-07T10:00:00Z');

beforeAll(async () => {
  tc = await startTaskclusterEmulator({ now: () => clock });
  const watcher = tc.addClient('releng-oncall', ['queue:list-workers:scriptworker-k8s/*', 'queue:get-worker:scriptworker-k8s/*', 'queue:status:*']);
  queue = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: watcher, retries: 0 }) as unknown as WorkerQueue;
});
afterAll(async () => tc?.close());

/** A task of the pool, claimed by the worker and resolved. */
function work(pool: string, worker: string, state: 'completed' | 'failed' | 'running'): string {
  const taskId = niceSlugid();
  tc.insertTask(taskId, { taskGroupId: taskId, taskQueueId: pool, created: new Date(clock).toISOString(), deadline: new Date(clock + 3_600_000).toISOString(), expires: new Date(clock + 86_400_000).toISOString(), payload: {}, metadata: { name: 'sign', description: '', owner: 'x@example.com', source: 'https://example.com' } }, 'pending');
  tc.claimTask(taskId, { workerGroup: pool.split('/')[1]!, workerId: worker });
  if (state !== 'running') tc.resolveTask(taskId, state);
  return taskId;
}

describe('worker pools from fxci-config', () => {
  it('config/worker-pools.json is what clients.yml gives (tc-promote pools --check)', () => {
    const generated = poolsFromClients(load(readFileSync(referencePath('fxci-config', 'clients.yml'), 'utf8')), loadConfig().scripts, 'fxci-config/clients.yml');
    expect(`${JSON.stringify(generated, null, 2)}\n`).toBe(readFileSync(path.join(repositoryRoot, 'config', 'worker-pools.json'), 'utf8'));
    const pools = parseWorkerPools(readFileSync(path.join(repositoryRoot, 'config', 'worker-pools.json'), 'utf8'), 'worker-pools.json');
    expect(poolsOf(pools, 'signingscript', 'production')).toEqual(expect.arrayContaining(['scriptworker-k8s/gecko-3-signing', 'scriptworker-k8s/gecko-t-signing', 'scriptworker-k8s/comm-3-signing']));
    expect(poolsOf(pools, 'signingscript', 'production')).not.toContain('scriptworker-k8s/gecko-t-signing-dev');
    expect(poolsOf(pools, 'signingscript', 'dev')).toContain('scriptworker-k8s/gecko-t-signing-dev');
    expect(poolsOf(pools, 'treescript', 'production')).toEqual(expect.arrayContaining(['scriptworker-k8s/gecko-3-tree', 'scriptworker-k8s/comm-1-tree']));
    expect(poolsOf(pools, 'landoscript', 'production')).toEqual([]);
    expect(generated.unmatched.map((u) => u.pool)).toEqual(['scriptworker-k8s/builddecision', 'scriptworker-k8s/builddecision-dev']);
  });
});

describe('verifyWorkers', () => {
  it('counts only workers whose first claim is at or after the move, and the outcome of their tasks', async () => {
    const pool = 'scriptworker-k8s/gecko-3-signing';
    work(pool, 'old-pod', 'completed');
    clock += 60_000;
    const moved = clock;
    clock += 60_000;
    work(pool, 'old-pod', 'completed'); // an old pod still working: not counted
    work(pool, 'new-pod-1', 'completed');
    work(pool, 'new-pod-1', 'completed');
    work(pool, 'new-pod-2', 'running');
    const seen: string[] = [];
    const result = await verifyWorkers({ queue, pools: [pool], sinceMs: moved, timeoutMs: 10_000, intervalMs: 1, now: () => clock, onProgress: (p) => seen.push(JSON.stringify(p)) });
    expect(result.outcome).toBe('verified');
    expect(result.pools[0]).toMatchObject({ pool, workers: 3, newWorkers: ['gecko-3-signing/new-pod-1', 'gecko-3-signing/new-pod-2'], completed: 2, failed: 0, running: 1 });
    expect(describeVerification(result, '5m').join('\n')).toContain(`${pool}: 2 new worker(s) since ${new Date(moved).toISOString()} (of 3), their tasks 2 completed, 0 failed, 1 running`);
    expect(seen.length).toBeGreaterThan(0);
  });

  it('no new workers yet is an outcome when the time is up, not an error; a failing pool is decided at once', async () => {
    const quiet = 'scriptworker-k8s/comm-3-signing';
    const failing = 'scriptworker-k8s/xpi-3-signing';
    work(quiet, 'old', 'completed');
    const moved = clock + 1;
    clock += 10_000;
    work(failing, 'new', 'failed');
    let sleeps = 0;
    const result = await verifyWorkers({ queue, pools: [quiet, failing], sinceMs: moved, timeoutMs: 30_000, intervalMs: 5_000, now: () => clock, sleep: async (ms) => void (sleeps++, (clock += ms)) });
    expect(result.outcome).toBe('failing');
    expect(result.pools.find((p) => p.pool === quiet)).toMatchObject({ newWorkers: [], workers: 1 });
    expect(result.pools.find((p) => p.pool === failing)).toMatchObject({ failed: 1 });
    expect(sleeps).toBeGreaterThan(0);
    const none = await verifyWorkers({ queue, pools: [quiet], sinceMs: clock + 1, timeoutMs: 20_000, intervalMs: 5_000, now: () => clock, sleep: async (ms) => void (clock += ms) });
    expect(none.outcome).toBe('no-new-workers');
    expect(describeVerification(none, '20s')[0]).toMatch(/^workers: no new workers yet in 20s: the pods have not been replaced/);
    expect(describeVerification(none, '20s')[1]).toBe(`  ${quiet}: no new workers yet (of 1)`);
  });

  it('a Queue that does not answer: each pool says its poll failed; the outcome is still no new workers, not an error', async () => {
    const down = new taskcluster.Queue({ rootUrl: 'http://127.0.0.1:9', retries: 0 }) as unknown as WorkerQueue;
    const result = await verifyWorkers({ queue: down, pools: ['scriptworker-k8s/gecko-3-signing'], sinceMs: 0, timeoutMs: 0, now: () => clock });
    expect(result.outcome).toBe('no-new-workers');
    expect(result.pools[0]!.error).toMatch(/listWorkers scriptworker-k8s\/gecko-3-signing/);
    expect(describeVerification(result, '0s')[1]).toContain('(last poll failed: ');
  });

  it('no pools configured: says so, nothing asked', async () => {
    expect((await verifyWorkers({ queue, pools: [], sinceMs: 0, timeoutMs: 1000 })).outcome).toBe('no-pools');
  });
});
