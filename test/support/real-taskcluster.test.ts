// The real Taskcluster fixture (./real-taskcluster.ts) and the worker that speaks the real Queue
// API (./real-worker.ts): what they run answers, a task goes through claimWork → proxy → artifacts
// → report, and nothing (no PostgreSQL, RabbitMQ, epmd or node process, no folder) is left after
// a stop, a start that fails half-way, or an owner killed with SIGKILL.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { processesInGroups, processesMentioning, realTaskclusterSkipped, recordedGroups, sharedRealTaskcluster, startRealTaskcluster, type RealTaskcluster } from './real-taskcluster.js';
import { client, RealWorker } from './real-worker.js';

const skipped = realTaskclusterSkipped();
const image = 'mozillareleases/tc-promote:latest';

/** Every process of a fixture still alive: in its recorded groups, or naming its folder. */
function leftovers(stateDir: string, groups: number[]): string[] {
  return [...processesInGroups(groups).map((p) => `${p.pid} ${p.command}`), ...processesMentioning(stateDir).filter((p) => !p.command.includes('tc-promote-real-taskcluster-watchdog')).map((p) => `${p.pid} ${p.command}`)];
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

describe.skipIf(skipped)('the real Taskcluster services (shared fixture) and a worker of the real Queue API', () => {
  let tc: RealTaskcluster;
  let worker: RealWorker;
  const taskQueueId = `tc-promote-tests/fixture-${niceSlugid().slice(0, 8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;

  beforeAll(async () => {
    tc = await sharedRealTaskcluster();
    worker = await RealWorker.create(tc, { taskQueueId, reclaimEveryMs: 700 });
  }, 300_000);
  afterAll(() => worker?.cleanup());

  const createTask = async (payload: Record<string, unknown>, scopes: string[] = []) => {
    const taskId = niceSlugid();
    const now = Date.now();
    await client('Queue', tc.rootUrl, tc.rootCredentials).createTask(taskId, {
      taskQueueId,
      schedulerId: 'tc-promote-tests',
      taskGroupId: taskId,
      created: new Date(now).toISOString(),
      deadline: new Date(now + 3_600_000).toISOString(),
      expires: new Date(now + 86_400_000).toISOString(),
      scopes,
      payload: { image, maxRunTime: 60, ...payload },
      metadata: { name: 'fixture task', description: 'a test of the real worker', owner: 'releng@example.com', source: 'https://github.com/mozilla-releng/tc-promote' },
    });
    return taskId;
  };

  it('the five services answer behind one root URL, each its own process; the anonymous role reads public artifacts', async () => {
    for (const service of ['auth', 'queue', 'hooks', 'index', 'secrets']) {
      const answer = await fetch(`${tc.rootUrl}/api/${service}/v1/ping`);
      expect(answer.status, service).toBe(200);
    }
    expect(Object.keys(tc.processes())).toEqual(expect.arrayContaining(['postgres', 'rabbitmq', 'epmd', 's3rver', 'proxy', 'auth', 'queue', 'hooks', 'index', 'secrets', 'index-handlers', 'queue-dependency-resolver', 'queue-claim-resolver', 'queue-deadline-resolver']));
    expect(tc.pulseHost).toMatch(/^127\.0\.0\.\d+$/);
    expect(tc.pulseHost).not.toBe('127.0.0.1');
    // Firefox-CI's anonymous role (fxci-config's grants.d): public artifacts and reads for anyone.
    const role = await client('Auth', tc.rootUrl).role('anonymous');
    expect(role.scopes).toEqual(expect.arrayContaining(['queue:get-artifact:public/*', 'queue:list-task-group:*', 'queue:status:*', 'index:find-task:*']));
    // The root client is the deployment's static root: it holds `*`.
    expect((await client('Auth', tc.rootUrl, tc.rootCredentials).currentScopes()).scopes).toEqual(['*']);
  });

  it('claims, runs the command with its env and artifacts folder, reclaims, signs proxy requests with the claim credentials, uploads artifacts, reports completed', async () => {
    const secretName = `project/tc-promote-tests/${niceSlugid()}`;
    await client('Secrets', tc.rootUrl, tc.rootCredentials).set(secretName, { secret: { hello: 'from the secrets service' }, expires: new Date(Date.now() + 3_600_000).toISOString() });
    const script = [
      'mkdir -p /builds/worker/artifacts',
      'echo "$GREETING $TASK_ID $RUN_ID" > /builds/worker/artifacts/hello.txt',
      'sleep 2',
      // after reclaims: the proxy signs with the newest temporary credentials
      `${JSON.stringify(process.execPath)} -e 'fetch(process.env.TASKCLUSTER_PROXY_URL + "/secrets/v1/secret/" + encodeURIComponent(process.argv[1])).then(r => r.text()).then(t => require("fs").writeFileSync("/builds/worker/artifacts/secret.json", t))' ${JSON.stringify(secretName)}`,
    ].join(' && ');
    const taskId = await createTask({ command: ['sh', '-c', script], env: { GREETING: 'hello' }, features: { taskclusterProxy: true }, artifacts: { public: { type: 'directory', path: '/builds/worker/artifacts' } } }, [`secrets:get:${secretName}`]);
    const runs = await worker.runTaskGroup(taskId);
    expect(runs.map((r) => [r.taskId, r.state])).toEqual([[taskId, 'completed']]);
    const [run] = runs;
    expect(run!.reclaims).toBeGreaterThanOrEqual(2);
    expect(new Set(run!.clientIds).size).toBe(run!.clientIds.length);
    expect(run!.clientIds[0]).toMatch(new RegExp(`^task-client/${taskId}/0/on/tc-promote-tests/`));
    expect(run!.proxied).toEqual([{ method: 'GET', path: `/api/secrets/v1/secret/${encodeURIComponent(secretName)}`, status: 200 }]);
    // The artifacts, read back anonymously from the real Queue (s3 artifacts in s3rver).
    const queue = client('Queue', tc.rootUrl);
    const names = (await queue.listLatestArtifacts(taskId)).artifacts.map((a: { name: string }) => a.name).sort();
    expect(names).toEqual(['public/hello.txt', 'public/logs/live.log', 'public/secret.json']);
    const read = async (name: string) => (await fetch(queue.buildUrl(queue.getLatestArtifact, taskId, name))).text();
    expect(await read('public/hello.txt')).toBe(`hello ${taskId} 0\n`);
    expect(JSON.parse(await read('public/secret.json')).secret).toEqual({ hello: 'from the secrets service' });
    expect((await queue.status(taskId)).status.runs).toEqual([expect.objectContaining({ state: 'completed', reasonResolved: 'completed', workerGroup: 'tc-promote-tests' })]);
  }, 60_000);

  it('a non-zero exit is reportFailed; a run past maxRunTime is failed; an image it cannot run is an exception (malformed-payload)', async () => {
    const failing = await createTask({ command: ['sh', '-c', 'exit 3'] });
    expect((await worker.runTaskGroup(failing)).map((r) => [r.state, r.exitCode])).toEqual([['failed', 3]]);
    const slow = await createTask({ command: ['sleep', '30'], maxRunTime: 1 });
    expect((await worker.runTaskGroup(slow)).map((r) => r.state)).toEqual(['failed']);
    const other = await createTask({ image: 'ubuntu:24.04', command: ['true'] });
    expect((await worker.runTaskGroup(other)).map((r) => r.state)).toEqual(['exception']);
    const queue = client('Queue', tc.rootUrl);
    expect((await queue.status(failing)).status.runs.map((r: { reasonResolved: string }) => r.reasonResolved)).toEqual(['failed']);
    // The Queue retries a malformed-payload? No: it resolves the task (deadline-exceeded and claim-expired are retried).
    expect((await queue.status(other)).status.runs.map((r: { reasonResolved: string }) => r.reasonResolved)).toEqual(['malformed-payload']);
  }, 60_000);

  it('the worker holds only what it needs: it cannot claim from another queue', async () => {
    const queue = (worker as unknown as { queue: ReturnType<typeof client> }).queue;
    await expect(queue.claimWork('tc-promote-tests/someone-else', { workerGroup: worker.options.workerGroup, workerId: worker.options.workerId, tasks: 1 })).rejects.toMatchObject({ statusCode: 403 });
  });
});

describe.skipIf(skipped)('the real Taskcluster fixture leaves nothing behind', () => {
  it('stop(): no PostgreSQL, RabbitMQ, epmd or node process of it is left, nor its folder', async () => {
    const tc = await startRealTaskcluster({ background: false });
    const groups = recordedGroups(tc.stateDir).map((g) => g.pid);
    expect(processesInGroups(groups).map((p) => p.command).join('\n')).toMatch(/postgres[\s\S]*beam|beam[\s\S]*postgres/);
    await tc.stop();
    expect(leftovers(tc.stateDir, groups)).toEqual([]);
    expect(existsSync(tc.stateDir)).toBe(false);
  }, 180_000);

  it('a start that fails half-way (RabbitMQ up, the services not yet) stops what it started', async () => {
    const errors: string[] = [];
    let stateDir = '';
    await expect(
      startRealTaskcluster({
        failAfter: 'rabbitmq',
        log: (line) => {
          errors.push(line);
        },
        stateDir: (stateDir = path.join((await import('node:os')).tmpdir(), `tc-promote-realtc-halfway-${process.pid}`)),
      }),
    ).rejects.toThrow(/failAfter rabbitmq/);
    expect(errors.some((l) => l.startsWith('rabbitmq:'))).toBe(true);
    expect(leftovers(stateDir, [])).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  }, 180_000);

  it('an owner killed with SIGKILL: the watchdog ends every process and removes the folder', async () => {
    const program = `const m = await import(${JSON.stringify(path.resolve('test/support/real-taskcluster.ts'))}); const tc = await m.startRealTaskcluster({ background: false }); console.log(JSON.stringify({ stateDir: tc.stateDir, groups: Object.values(tc.processes()) })); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const ready = await eventually(() => out.includes('\n') || child.exitCode !== null, 170_000);
    expect(ready && child.exitCode === null, err).toBe(true);
    const { stateDir, groups } = JSON.parse(out) as { stateDir: string; groups: number[] };
    expect(processesInGroups(groups).length).toBeGreaterThan(5);
    child.kill('SIGKILL');
    expect(await eventually(() => leftovers(stateDir, groups).length === 0 && !existsSync(stateDir), 15_000), leftovers(stateDir, groups).join('\n')).toBe(true);
  }, 200_000);
});
