// plan → render → submit for every route, to the emulator through taskcluster-client; and
// submission's ordering, concurrency and failure behaviour.
import taskcluster, { type Queue } from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { buildGraph, type TaskGraph } from '../../src/graph/build.js';
import { ExitCode } from '../../src/errors.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { SubmitError, submitGraph } from '../../src/taskcluster/submit.js';
import { examplePlan } from '../support/plans.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { readFileSync } from 'node:fs';

const config = loadConfig();
// Promote tasks are keyed on (destination, expected digest, attempt) so that the Queue
// serialises promotions from one state; each test's graph is a new attempt from that state.
let attempts = 0;
const fresh = () => ({ attempt: ++attempts });
let tc: TaskclusterEmulator;
let queue: Queue;
beforeAll(async () => {
  tc = await startTaskclusterEmulator();
  // An administrator: wideConfig's extra registries are outside what `grants` lists for the embedded configuration.
  queue = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.addClient('tester', ['*'], 'secret-access-token'), retries: 0 });
});
afterAll(() => tc?.close());

/** A configuration whose production environment has `n` targets: a graph of n promotes and a fallback. */
function wideConfig(n: number) {
  const text = readFileSync(new URL('../../config/scriptworker-scripts.yml', import.meta.url), 'utf8');
  const line = "      - { registry: docker.io, repository: 'mozilla/releng-{script}', tag: production }";
  const targets = Array.from({ length: n }, (_, i) => (i === 0 ? line : `      - { registry: registry${i}.example.com, repository: 'mozilla/releng-{script}', tag: production }`));
  return parseConfig(text.replace(line, targets.join('\n')), 'wide.yml');
}

describe('submit to the emulator', () => {
  for (const route of ['retag', 'rebuild', 'rerun'] as const) {
    it(`creates the ${route} graph, dependencies first`, async () => {
      const graph = buildGraph(config, examplePlan(config, { route }), { ...fresh(), allowFallback: true });
      const result = await submitGraph(queue, graph);
      expect(result.created.map((t) => t.label)).toEqual(graph.tasks.map((t) => t.label));
      expect(result.failed).toEqual([]);
      for (const t of graph.tasks) expect(tc.tasks.get(t.taskId)?.task.taskGroupId).toBe(graph.taskGroupId);
      // Submitting the same graph again is safe (createTask is idempotent).
      expect((await submitGraph(queue, graph)).created).toHaveLength(graph.tasks.length);
    });
  }

  it('creates a task only after the tasks it depends on, with bounded concurrency', async () => {
    const graph = buildGraph(wideConfig(12), examplePlan(wideConfig(12)), fresh());
    tc.latencyMs = 20;
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const counting = {
      createTask: async (id: string, task: object) => {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          return await queue.createTask(id, task);
        } finally {
          inFlight--;
          order.push(id);
        }
      },
    };
    try {
      await submitGraph(counting, graph, { concurrency: 4 });
    } finally {
      tc.latencyMs = 0;
    }
    expect(most).toBe(4);
    expect(order.at(-1)).toBe(graph.tasks.at(-1)!.taskId);
    expect(order).toHaveLength(13);
  });

  it('takes one round trip per level of the graph', async () => {
    const graph = buildGraph(wideConfig(49), examplePlan(wideConfig(49)), fresh());
    expect(graph.tasks).toHaveLength(50);
    const waiting = { createTask: (taskId: string) => new Promise((resolve) => setTimeout(() => resolve({ status: { taskId } }), 20)) };
    const started = performance.now();
    await submitGraph(waiting, graph);
    // depth 1: two levels of 20 ms calls; the bound is 1.5 × (depth + 1) × 20 ms.
    expect(performance.now() - started).toBeLessThan(60);
  });

  it('sends a 200-task graph in two rounds by default: every promote task at once, then the fallback', async () => {
    const graph = buildGraph(wideConfig(199), examplePlan(wideConfig(199)), fresh());
    expect(graph.tasks).toHaveLength(200);
    let inFlight = 0;
    let most = 0;
    const waiting = {
      createTask: async (taskId: string) => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return { status: { taskId } };
      },
    };
    await submitGraph(waiting, graph);
    expect(most).toBe(199);
  });

  it('does not create the dependents of a failed create, and lists them', async () => {
    const graph = buildGraph(wideConfig(3), examplePlan(wideConfig(3)), fresh());
    const [first, second, third, fallback] = graph.tasks;
    tc.failCreate.set(second!.taskId, { status: 403, code: 'InsufficientScopes', message: 'Client tester lacks scope queue:route:index.x' });
    let error: unknown;
    try {
      await submitGraph(queue, graph);
    } catch (e) {
      error = e;
    } finally {
      tc.failCreate.clear();
    }
    expect(error).toBeInstanceOf(SubmitError);
    const { result } = error as SubmitError;
    expect(result.created.map((t) => t.taskId)).toEqual([first!.taskId, third!.taskId]);
    expect(result.failed.map((t) => t.label)).toEqual([second!.label]);
    expect(result.notCreated).toEqual([{ label: fallback!.label, taskId: fallback!.taskId, blockedBy: [second!.label] }]);
    expect(tc.tasks.has(fallback!.taskId)).toBe(false);
    expect((error as SubmitError).exitCode).toBe(ExitCode.operational);
    expect((error as Error).message).toContain(`not created because a task they depend on was not (1):\n  ${fallback!.label}`);
    expect((error as Error).message).not.toContain('secret-access-token');
  });

  it('exits 3 when a task id is taken by another definition', async () => {
    const graph = buildGraph(config, examplePlan(config, { route: 'rebuild' }));
    await submitGraph(queue, graph);
    const changed: TaskGraph = { ...graph, tasks: graph.tasks.map((t) => ({ ...t, task: { ...t.task, priority: 'low' as const } })) };
    await expect(submitGraph(queue, changed)).rejects.toMatchObject({ exitCode: ExitCode.conflict });
  });

  it('roots an action graph at the action task, so nothing runs before the submission completed', async () => {
    const actionTaskId = niceSlugid();
    const group = niceSlugid();
    tc.insertTask(actionTaskId, { ...buildGraph(config, examplePlan(config, { route: 'rebuild' }), { taskGroupId: group }).tasks[0]!.task }, 'running');
    const graph = buildGraph(config, examplePlan(config), { ...fresh(), taskGroupId: group, actionTaskId });
    await submitGraph(queue, graph);
    expect(graph.tasks.map((t) => tc.stateOf(t.taskId))).toEqual(['unscheduled', 'unscheduled']);
    tc.resolveTask(actionTaskId, 'completed');
    expect(graph.tasks.map((t) => tc.stateOf(t.taskId))).toEqual(['pending', 'unscheduled']);
    tc.resolveTask(graph.tasks[0]!.taskId, 'failed');
    expect(tc.stateOf(graph.tasks[1]!.taskId)).toBe('pending');
  });
});

describe("taskcluster-client's fake mode", () => {
  it('records the createTask calls in dependency order', async () => {
    const created: string[] = [];
    const fake = new taskcluster.Queue({ rootUrl: 'https://tc.example.com', fake: { createTask: async (taskId: string) => (created.push(taskId), { status: { taskId } }) } });
    const graph = buildGraph(config, examplePlan(config), fresh());
    await submitGraph(fake, graph);
    expect(created).toEqual(graph.tasks.map((t) => t.taskId));
    expect(fake.fakeCalls!.createTask!.map((c) => c.taskId)).toEqual(created);
  });
});
