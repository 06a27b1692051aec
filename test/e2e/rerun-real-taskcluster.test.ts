// `tc-promote rerun` against the REAL Taskcluster services (issue 17; moved from
// taskcluster/rerun.test.ts, which keeps what the real Queue cannot be asked for on demand):
// a push of a revision to a deploy branch as scriptworker-scripts' decision task makes it (the
// decision task, indexed by revision by the real Index's handlers when it completes, and the
// script's push task in its group), then, with a client of the real Auth holding what
// `tc-promote grants` lists (its branch roles fxci-config's generated ones, in the real Auth):
//   - before the push task's deadline: the real Queue's rerunTask, a new run of the same task;
//   - after it (the real Queue resolved it deadline-exceeded): a clone, created in the real
//     Queue with the same definition and payload and its timestamps moved to now.
// What stands in: the push task's command (push_image.sh and skopeo need the image build's
// artifact; the worker runs `true` in its place: what is under test is the Queue's side).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { deployFirefoxCi, firefoxCiResources, type FirefoxCiResources } from '../support/real-fxci.js';
import { realTaskclusterSkipped, sharedRealTaskcluster, type RealTaskcluster } from '../support/real-taskcluster.js';
import { client, RealWorker, type LooseClient } from '../support/real-worker.js';

const skipped = realTaskclusterSkipped();
const config = loadConfig();
const day = 86_400_000;
const decisionQueue = `tc-promote-tests/rerun-decision-${process.pid}`;
let tc: RealTaskcluster;
let fxci: FirefoxCiResources;
let root: LooseClient;
let releng: { clientId: string; accessToken: string };
const workers: RealWorker[] = [];
let decisionWorker: RealWorker | undefined;

beforeAll(async () => {
  if (skipped) return;
  tc = await sharedRealTaskcluster();
  fxci = firefoxCiResources();
  await deployFirefoxCi(tc, fxci);
  root = client('Queue', tc.rootUrl, tc.rootCredentials);
  const clientId = `tc-promote-tests/releng-rerun-${process.pid}`;
  // What `grants` lists, and the create-task scope of this file's own task queues (the real
  // database is shared by the run's test files: the push tasks are not on scriptworker-3/images,
  // where another file's worker would claim them).
  const scopes = [...submitterScopes(config), `queue:create-task:lowest:tc-promote-tests/rerun-*`];
  const made = await client('Auth', tc.rootUrl, tc.rootCredentials).createClient(clientId, { description: 'a release engineer: what tc-promote grants lists', expires: new Date(Date.now() + day).toISOString(), scopes });
  releng = { clientId, accessToken: made.accessToken };
}, 300_000);

afterAll(async () => {
  for (const w of workers) await w.cleanup();
  fxci?.world.cleanup();
});

async function worker(taskQueueId: string): Promise<RealWorker> {
  const w = await RealWorker.create(tc, { taskQueueId, images: () => true });
  workers.push(w);
  return w;
}

let revisions = 0;
const newRevision = (): string => `${process.pid.toString(16)}${(++revisions).toString(16)}`.padEnd(40, 'e');

/** A push to production-signingscript: the decision task (run, indexed) and the push task (on `pushQueue`, with `pushDeadlineMs`). */
async function seedPush(pushQueue: string, pushDeadlineMs: number) {
  const revision = newRevision();
  const decisionTaskId = niceSlugid();
  const now = Date.now();
  const common = { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', created: new Date(now).toISOString(), expires: new Date(now + 30 * day).toISOString() };
  const metadata = (name: string) => ({ name, description: `${name} task`, owner: 'releng@mozilla.com', source: 'https://github.com/mozilla-releng/scriptworker-scripts/raw/main/.taskcluster.yml' });
  const indexPath = `${config.taskcluster.trustDomain}.v2.${config.taskcluster.project}.revision.${revision}.taskgraph.decision`;
  await root.createTask(decisionTaskId, {
    ...common,
    deadline: new Date(now + day).toISOString(),
    taskQueueId: decisionQueue,
    routes: ['checks', `index.${indexPath}`],
    payload: { image: 'mozillareleases/taskgraph:decision', maxRunTime: 600, command: ['true'], env: { SCRIPTWORKER_HEAD_REF: 'refs/heads/production-signingscript', SCRIPTWORKER_HEAD_REV: revision } },
    metadata: metadata('Decision Task'),
  });
  const archiveTag = `production-${new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${revision}`;
  const pushTaskId = niceSlugid();
  await root.createTask(pushTaskId, {
    ...common,
    deadline: new Date(pushDeadlineMs).toISOString(),
    taskQueueId: pushQueue,
    dependencies: [decisionTaskId],
    routes: ['checks'],
    scopes: ['secrets:get:project/releng/scriptworker-scripts/deploy'],
    tags: { kind: 'push-image', label: 'push-image-signingscript', createdForUser: 'releng@mozilla.com' },
    payload: { image: 'mozillareleases/skopeo:latest', maxRunTime: 600, command: ['true'], features: { taskclusterProxy: true }, env: { APP: 'signingscript', VCS_HEAD_REV: revision, DOCKER_REPO: 'mozilla/releng-signingscript', DOCKER_TAG: 'production', DOCKER_ARCHIVE_TAG: archiveTag, PUSH_DOCKER_IMAGE: '1' } },
    metadata: metadata('push-image-signingscript'),
  });
  // The decision task runs; the real Index's handlers index it on completion (asynchronously).
  decisionWorker ??= await worker(decisionQueue);
  let decision = await decisionWorker.claimOne();
  for (let i = 0; !decision && i < 300; i++) decision = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => decisionWorker!.claimOne());
  expect([decision?.label, decision?.state], decision?.log).toEqual(['Decision Task', 'completed']);
  const index = client('Index', tc.rootUrl);
  const until = Date.now() + 30_000;
  for (;;) {
    const found = await index.findTask(indexPath).catch(() => undefined);
    if (found?.taskId === decisionTaskId) break;
    if (Date.now() > until) throw new Error(`${indexPath} not indexed in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { revision, decisionTaskId, pushTaskId, archiveTag, indexPath };
}

const rerun = (args: string[]) => runCli(['rerun', '--script', 'signingscript', ...args], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: releng.clientId, TASKCLUSTER_ACCESS_TOKEN: releng.accessToken });

describe.skipIf(skipped)('rerun on the real Taskcluster services', () => {
  it("before the push task's deadline: the real Queue's rerunTask, a new run of the same task", async () => {
    const pushQueue = `tc-promote-tests/rerun-push-${process.pid}`;
    const s = await seedPush(pushQueue, Date.now() + day);
    const runs = await (await worker(pushQueue)).runTaskGroup(s.decisionTaskId, { timeoutMs: 60_000 });
    expect(runs.map((r) => [r.label, r.state])).toEqual([['push-image-signingscript', 'completed']]);
    const r = await rerun(['--revision', s.revision, '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.json()).toMatchObject({ script: 'signingscript', env: 'production', revision: s.revision, indexPath: s.indexPath, decisionTaskId: s.decisionTaskId, taskGroupId: s.decisionTaskId, decisionBranch: 'production-signingscript', pushTask: { taskId: s.pushTaskId, label: 'push-image-signingscript', form: 'push-image', state: 'completed', dockerTag: 'production', archiveTag: s.archiveTag }, action: 'rerun', taskId: s.pushTaskId, clone: null, dryRun: false });
    const status = (await client('Queue', tc.rootUrl).status(s.pushTaskId)).status;
    expect(status.state).toBe('pending');
    expect(status.runs.map((run: { reasonCreated: string; state: string }) => [run.reasonCreated, run.state])).toEqual([['scheduled', 'completed'], ['rerun', 'pending']]);
    expect(r.stdout + r.stderr).not.toContain(releng.accessToken);
  }, 120_000);

  it('after the deadline (the real Queue resolved it deadline-exceeded): a clone in the real Queue, same definition and payload, timestamps moved to now', async () => {
    // A queue no worker claims from: the push task reaches its deadline unrun.
    const pushQueue = `tc-promote-tests/rerun-late-${process.pid}`;
    const s = await seedPush(pushQueue, Date.now() + 8_000);
    const queue = client('Queue', tc.rootUrl);
    const until = Date.now() + 90_000;
    while ((await queue.status(s.pushTaskId)).status.state !== 'exception' && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 500));
    const past = (await queue.status(s.pushTaskId)).status;
    expect([past.state, past.runs.at(-1)?.reasonResolved]).toEqual(['exception', 'deadline-exceeded']);
    const group = niceSlugid();
    const r = await rerun(['--revision', s.revision, '--task-group-id', group, '--json']);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ action: 'retrigger', pushTask: { taskId: s.pushTaskId }, clone: { taskGroupId: group } });
    expect(out.taskId).toBe(out.clone.taskId);
    expect(out.taskId).not.toBe(s.pushTaskId);
    expect(r.stderr).toContain(`${s.pushTaskId} is past its deadline`);
    const original = await queue.task(s.pushTaskId);
    const clone = await queue.task(out.taskId);
    expect(clone).toEqual({ ...original, taskGroupId: group, created: out.clone.created, deadline: out.clone.deadline, expires: out.clone.expires });
    // The spacing kept: deadline - created and expires - created as the original's.
    const span = (t: { created: string; deadline: string; expires: string }) => [Date.parse(t.deadline) - Date.parse(t.created), Date.parse(t.expires) - Date.parse(t.created)];
    expect(span(clone)).toEqual(span(original));
    // Its dependency completed: it is pending at once, on the original's queue.
    const cloneStatus = (await queue.status(out.taskId)).status;
    expect([cloneStatus.state, cloneStatus.taskQueueId]).toEqual(['pending', pushQueue]);
  }, 180_000);
});
