// The rerun route against the Taskcluster emulator, for what the real Queue cannot be asked for
// in a test: a fixed clock (TC_PROMOTE_NOW, tasks created 30 days ago), task-group pages of 2
// (the real Queue's are up to 1000, not settable), a Queue whose clock disagrees with ours (it
// refuses the rerun as past the deadline), tasks put straight into a state (running, a push
// task that does not push), a disk that fills; and the rerun task of a graph doing that from
// its own command line. rerunTask before the deadline and a clone after it, on the real Queue:
// e2e/rerun-real-taskcluster.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { offlinePlan } from '../../src/graph/offline-plan.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { submitGraph } from '../../src/taskcluster/submit.js';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { makeTempDir } from '../support/registry.js';

const config = loadConfig();
const now = '2024-05-06T07:08:09.000Z';
const nowMs = Date.parse(now);
const hour = 3_600_000;
const day = 24 * hour;
let tc: TaskclusterEmulator;

beforeAll(async () => {
  tc = await startTaskclusterEmulator({ now: () => nowMs });
  // A release engineer: what `grants` lists (the rerun task's scopes among them, with the
  // branch roles they assume, which a clone of a push task needs).
  tc.addClient('releng', submitterScopes(), 'tc-secret-DO-NOT-PRINT');
});
afterAll(() => tc?.close());
beforeEach(() => {
  tc.now = () => nowMs;
  tc.listTaskGroupPageSize = 1000;
});

let revisions = 0;
const newRevision = (): string => (++revisions).toString(16).padStart(40, 'c');

interface Seeded {
  revision: string;
  decisionTaskId: string;
  pushTaskId: string;
  buildTaskId: string;
  archiveTag: string;
}

/**
 * A push of `revision` to a deploy branch as scriptworker-scripts' decision task makes it: the
 * decision task (indexed by revision), the image build, the script's push task, and noise.
 */
function seedPush(options: { createdMs: number; branch?: string; label?: string; env?: Record<string, string>; noise?: number; pushState?: 'completed' | 'failed' | 'pending' | 'running' } = { createdMs: nowMs - hour }): Seeded {
  const revision = newRevision();
  const decisionTaskId = niceSlugid();
  const created = new Date(options.createdMs).toISOString();
  const deadline = new Date(options.createdMs + day).toISOString();
  const expires = new Date(options.createdMs + 365 * day).toISOString();
  const common = { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', created, deadline, expires };
  const metadata = (name: string) => ({ name, description: `${name} task`, owner: 'releng@mozilla.com', source: 'https://github.com/mozilla-releng/scriptworker-scripts/raw/main/.taskcluster.yml' });
  const branch = options.branch ?? 'production-signingscript';
  tc.insertTask(decisionTaskId, {
    ...common,
    taskQueueId: 'scriptworker-3/decision',
    routes: ['checks', `index.scriptworker.v2.scriptworker-scripts.revision.${revision}.taskgraph.decision`],
    payload: { image: 'mozillareleases/taskgraph:decision', maxRunTime: 1800, command: ['run-task'], env: { SCRIPTWORKER_HEAD_REF: `refs/heads/${branch}`, SCRIPTWORKER_HEAD_REV: revision } },
    metadata: metadata('Decision Task'),
  });
  const buildTaskId = niceSlugid();
  tc.insertTask(buildTaskId, { ...common, taskQueueId: 'scriptworker-3/images', dependencies: [decisionTaskId], tags: { kind: 'docker-image', label: 'build-docker-image-signingscript' }, payload: { image: 'taskcluster/image_builder:5.0.0', maxRunTime: 3600 }, metadata: metadata('build-docker-image-signingscript') });
  for (let i = 0; i < (options.noise ?? 0); i++) {
    tc.insertTask(niceSlugid(), { ...common, taskQueueId: 'scriptworker-3/ci', dependencies: [decisionTaskId], tags: { kind: 'tox', label: `tox-signingscript-py3${i}` }, payload: { image: 'python:3', maxRunTime: 600 }, metadata: metadata(`tox-signingscript-py3${i}`) });
  }
  const tag = branch.startsWith('dev') ? 'dev' : 'production';
  const archiveTag = `${tag}-${created.replace(/[-:T]/g, '').slice(0, 14)}-${revision}`;
  const label = options.label ?? 'push-image-signingscript';
  const pushTaskId = niceSlugid();
  tc.insertTask(
    pushTaskId,
    {
      ...common,
      taskQueueId: 'scriptworker-3/images',
      dependencies: [decisionTaskId, buildTaskId],
      routes: ['checks'],
      scopes: ['secrets:get:project/releng/scriptworker-scripts/deploy'],
      tags: { kind: label.startsWith('push-image') ? 'push-image' : 'k8s-image', label, createdForUser: 'releng@mozilla.com' },
      payload: {
        image: 'mozillareleases/skopeo:latest',
        maxRunTime: 1800,
        command: ['/usr/local/bin/push_image.sh'],
        features: { taskclusterProxy: true },
        env: options.env ?? { APP: 'signingscript', VCS_HEAD_REV: revision, DOCKER_REPO: 'mozilla/releng-signingscript', DOCKER_TAG: tag, DOCKER_ARCHIVE_TAG: archiveTag, PUSH_DOCKER_IMAGE: '1', MOZ_FETCHES: JSON.stringify([{ task: buildTaskId, artifact: 'public/image.tar.zst' }]) },
      },
      metadata: metadata(label),
    },
    options.pushState ?? 'completed',
  );
  // Another script's push task, which must not be chosen.
  tc.insertTask(niceSlugid(), { ...common, taskQueueId: 'scriptworker-3/images', tags: { kind: 'push-image', label: 'push-image-beetmoverscript' }, payload: { image: 'mozillareleases/skopeo:latest', maxRunTime: 1800, env: { APP: 'beetmoverscript', DOCKER_TAG: tag, PUSH_DOCKER_IMAGE: '1' } }, metadata: metadata('push-image-beetmoverscript') });
  return { revision, decisionTaskId, pushTaskId, buildTaskId, archiveTag };
}

const tcEnv = (extra: Record<string, string> = {}) => ({ TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'tc-secret-DO-NOT-PRINT', TC_PROMOTE_NOW: now, ...extra });
const rerun = (args: string[], extra: Record<string, string> = {}) => runCli(['rerun', '--script', 'signingscript', ...args], tcEnv(extra));

describe('rerun', () => {
  it('reruns the push task before its deadline, reading the task group page by page', async () => {
    const s = seedPush({ createdMs: nowMs - 2 * hour, noise: 5 });
    tc.listTaskGroupPageSize = 2;
    const before = tc.callsOf('listTaskGroup').length;
    const r = await rerun(['--revision', s.revision, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      script: 'signingscript',
      env: 'production',
      revision: s.revision,
      indexPath: `scriptworker.v2.scriptworker-scripts.revision.${s.revision}.taskgraph.decision`,
      decisionTaskId: s.decisionTaskId,
      taskGroupId: s.decisionTaskId,
      decisionBranch: 'production-signingscript',
      pushTask: { taskId: s.pushTaskId, label: 'push-image-signingscript', form: 'push-image', state: 'completed', dockerTag: 'production', archiveTag: s.archiveTag },
      action: 'rerun',
      taskId: s.pushTaskId,
      clone: null,
      dryRun: false,
    });
    // 9 tasks in pages of 2.
    expect(tc.callsOf('listTaskGroup').length - before).toBe(5);
    expect(tc.callsOf('rerunTask').filter((c) => c.path.includes(s.pushTaskId))).toHaveLength(1);
    expect(tc.stateOf(s.pushTaskId)).toBe('pending');
    expect(tc.tasks.get(s.pushTaskId)!.runs.map((run) => run.reasonCreated)).toEqual(['scheduled', 'rerun']);
    expect(r.stderr).toContain(`warning: today's pipeline re-pushes the same archive tag on rerun: ${s.archiveTag}`);
    expect(r.stderr).not.toContain('DO-NOT-PRINT');
  });

  it('puts the clone in the action group (ACTION_TASK_GROUP_ID), or in a group of its own', async () => {
    const inAction = seedPush({ createdMs: nowMs - 10 * day });
    const actionGroup = niceSlugid();
    const a = await rerun(['--revision', inAction.revision, '--json'], { ACTION_TASK_GROUP_ID: actionGroup });
    expect(a.code, a.stderr).toBe(0);
    expect(a.json().clone.taskGroupId).toBe(actionGroup);
    const alone = seedPush({ createdMs: nowMs - 10 * day });
    const b = await rerun(['--revision', alone.revision, '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.json().clone.taskGroupId).toBe(b.json().taskId);
    expect(tc.tasks.get(b.json().taskId)!.task.taskGroupId).toBe(b.json().taskId);
  });

  it('retriggers when the Queue refuses the rerun as past the deadline', async () => {
    // The deadline is 5 minutes ahead by our clock; the Queue's runs 10 minutes ahead: passed for it.
    const s = seedPush({ createdMs: nowMs - day + 5 * 60_000 });
    tc.now = () => nowMs + 10 * 60_000;
    const r = await rerun(['--revision', s.revision, '--json'], { TC_PROMOTE_NOW: now });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().action).toBe('retrigger');
    const refused = tc.callsOf('rerunTask').filter((c) => c.path.includes(s.pushTaskId));
    expect(refused.map((c) => c.status)).toEqual([409]);
    expect(r.stderr).toMatch(/warning: the Queue refused to rerun .*; retriggering a clone instead/);
  });

  it('says what it would do with --dry-run, and changes nothing', async () => {
    const s = seedPush({ createdMs: nowMs - 30 * day });
    const tasks = tc.tasks.size;
    const r = await rerun(['--revision', s.revision, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`rerun: signingscript production: would retrigger ${s.pushTaskId} as \\S+`));
    expect(r.stdout).toMatch(/action\s+retrigger/);
    expect(tc.tasks.size).toBe(tasks);
    const fresh = seedPush({ createdMs: nowMs - hour });
    const d = await rerun(['--revision', fresh.revision, '--dry-run', '--json']);
    expect(d.json()).toMatchObject({ action: 'rerun', dryRun: true });
    expect(tc.callsOf('rerunTask').filter((c) => c.path.includes(fresh.pushTaskId))).toEqual([]);
  });

  it('does nothing when the push task is running already', async () => {
    const s = seedPush({ createdMs: nowMs - hour, pushState: 'running' });
    const r = await rerun(['--revision', s.revision, '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ action: 'none', taskId: s.pushTaskId });
    expect(tc.callsOf('rerunTask').filter((c) => c.path.includes(s.pushTaskId))).toEqual([]);
  });

  it.each([
    ['k8s-image-signingscript-python39', 'k8s-image'],
    ['push-image-signingscript-python311', 'push-image'],
  ])('recognises the older form %s', async (label, form) => {
    const revisionEnv = form === 'push-image' ? 'VCS_HEAD_REV' : 'SCRIPTWORKER_HEAD_REV';
    const scriptEnv = form === 'push-image' ? 'APP' : 'PROJECT_NAME';
    const s = seedPush({ createdMs: nowMs - hour, label, env: {} });
    // The payload's env names the script and revision the way that era did.
    const task = tc.tasks.get(s.pushTaskId)!.task as unknown as { payload: { env: Record<string, string> } };
    task.payload.env = { [scriptEnv]: 'signingscript', [revisionEnv]: s.revision, DOCKER_TAG: 'production', PUSH_DOCKER_IMAGE: '1' };
    const r = await rerun(['--revision', s.revision, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().pushTask).toMatchObject({ taskId: s.pushTaskId, label, form });
    if (form !== 'push-image') expect(r.stderr).toContain(`${label} is an older ${form} task: it builds the image again`);
  });

  it('finds the push task of the environment asked for, and explains when the group has none', async () => {
    const s = seedPush({ createdMs: nowMs - hour, branch: 'dev-signingscript' });
    const production = await rerun(['--revision', s.revision]);
    expect(production.code).toBe(4);
    expect(production.stderr).toContain(`decision task ${s.decisionTaskId} of revision ${s.revision} (a push to dev-signingscript) has no task pushing signingscript's production image`);
    expect(production.stderr).toContain(`push-image-signingscript ${s.pushTaskId}: pushes the tag "dev", not "production"`);
    const dev = await rerun(['--revision', s.revision, '--env', 'dev', '--json']);
    expect(dev.code, dev.stderr).toBe(0);
    expect(dev.json()).toMatchObject({ env: 'dev', action: 'rerun', pushTask: { dockerTag: 'dev' } });
  });

  it('passes over a push task that does not push', async () => {
    const s = seedPush({ createdMs: nowMs - hour });
    const task = tc.tasks.get(s.pushTaskId)!.task as unknown as { payload: { env: Record<string, string> } };
    task.payload.env.PUSH_DOCKER_IMAGE = '0';
    const r = await rerun(['--revision', s.revision]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('does not push (PUSH_DOCKER_IMAGE=0)');
  });

  it('exits 4 when no decision task is indexed for the revision', async () => {
    const r = await rerun(['--revision', 'f'.repeat(40)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`no decision task is indexed for revision ${'f'.repeat(40)} (scriptworker.v2.scriptworker-scripts.revision.${'f'.repeat(40)}.taskgraph.decision)`);
    // rerun has no --route: the way out is a command that exists.
    expect(r.stderr).toContain('rebuild the revision instead: tc-promote submit signingscript --env production --to ffffffffffffffffffffffffffffffffffffffff --route rebuild');
    expect(r.stderr).toContain('tc-promote force-push --branch production-signingscript --revision ffffffffffffffffffffffffffffffffffffffff');
  });

  it('has help naming the forms it accepts, with examples', async () => {
    const r = await runCli(['rerun', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('push-image-<script>');
    expect(r.stdout).toContain('k8s-image-<script>-python<N>');
    expect(r.stdout).not.toContain('k8s-image-builder');
    expect(r.stdout).toMatch(/Examples:\n  tc-promote rerun --script signingscript/);
  });

  it.each([
    [['--revision', 'abc1234'], /--revision: "abc1234" is not a full commit id/],
    [[], /--revision: missing/],
    [['--revision', 'a'.repeat(40), '--env', 'staging'], /--env: unknown environment "staging"/],
    [['--revision', 'a'.repeat(40), '--task-group-id', 'nope'], /--task-group-id: "nope" is not a task group id/],
  ])('exits 2 for %j before any request', async (args, message) => {
    const calls = tc.calls.length;
    const r = await rerun(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(tc.calls.length).toBe(calls);
  });

  it("is what the rerun route's task runs: the clone joins the promotion's group and promotion.json says so", async () => {
    const s = seedPush({ createdMs: nowMs - 30 * day });
    const plan = offlinePlan(config, { script: 'signingscript', env: 'production', route: 'rerun', targetTag: s.archiveTag, nowMs });
    const graph = buildGraph(config, plan, { nowMs, reason: 'signing broke', requester: 'releng@mozilla.com' });
    const queue = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: { clientId: 'releng', accessToken: 'tc-secret-DO-NOT-PRINT' }, retries: 0 });
    await submitGraph(queue, graph);
    const [task] = graph.tasks;
    const [program, ...args] = task!.task.payload.command;
    expect(program).toBe('tc-promote');
    const artifacts = makeTempDir('tcp-rerun-');
    // With the rerun task's own credentials: its scopes, nothing more.
    const credentials = tc.taskCredentials(task!.taskId);
    const r = await runCli(args, { ...task!.task.payload.env, TC_PROMOTE_ARTIFACTS: artifacts, TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: credentials.clientId, TASKCLUSTER_ACCESS_TOKEN: credentials.accessToken, TC_PROMOTE_NOW: now });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`rerun: signingscript production: retriggered ${s.pushTaskId} as \\S+`));
    const file = path.join(artifacts, 'promotion.json');
    expect(existsSync(file)).toBe(true);
    const record = JSON.parse(readFileSync(file, 'utf8'));
    expect(record).toMatchObject({ script: 'signingscript', env: 'production', route: 'rerun', revision: s.revision, outcome: 'retrigger', pushTask: { taskId: s.pushTaskId }, clone: { taskGroupId: graph.taskGroupId }, decisionTaskId: s.decisionTaskId });
    expect(tc.tasks.get(record.taskId)!.task.taskGroupId).toBe(graph.taskGroupId);
  });

  describe('its artifacts folder is checked before the Queue is asked anything (as the other steps do)', () => {
    const record = { TC_PROMOTE_PROMOTION: JSON.stringify({ script: 'signingscript', env: 'production', route: 'rerun' }) };
    const mounts: string[] = [];
    /** A tmpfs of two 4 KiB pages with `free` of them left free. */
    function smallDisk(free: number): string {
      const point = makeTempDir('tmpfs-rerun-');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', point]);
      mounts.push(point);
      mkdirSync(path.join(point, 'artifacts'));
      if (free < 2) writeFileSync(path.join(point, 'filler'), Buffer.alloc((2 - free) * 4096));
      return path.join(point, 'artifacts');
    }
    afterAll(() => {
      for (const point of mounts) execFileSync('umount', ['-l', point]);
    });

    it.each([
      ['a full disk', () => smallDisk(0), 'ENOSPC'],
      ['a path through a file', () => {
        const file = path.join(makeTempDir('tcp-rerun-file-'), 'x');
        writeFileSync(file, 'not a folder');
        return path.join(file, 'artifacts');
      }, 'ENOTDIR'],
    ])('on %s: exit 1, and no push task rerun or retriggered', async (_name, make, code) => {
      const s = seedPush({ createdMs: nowMs - hour });
      const dir = make();
      const reruns = tc.callsOf('rerunTask').length;
      const creates = tc.callsOf('createTask').length;
      const r = await rerun(['--env', 'production', '--revision', s.revision], { ...record, TC_PROMOTE_ARTIFACTS: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`TC_PROMOTE_ARTIFACTS: cannot write promotion.json in ${dir}: ${code}`);
      expect(tc.callsOf('rerunTask').length).toBe(reruns);
      expect(tc.callsOf('createTask').length).toBe(creates);
    });

    it('when the disk fills after the rerun: says the rerun happened, exits 0, and the first record stays whole', async () => {
      const s = seedPush({ createdMs: nowMs - hour, pushState: 'failed' });
      const dir = smallDisk(1);
      const r = await rerun(['--env', 'production', '--revision', s.revision], { ...record, TC_PROMOTE_ARTIFACTS: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`warning: reran ${s.pushTaskId}, but TC_PROMOTE_ARTIFACTS: cannot write promotion.json in ${dir}: ENOSPC`);
      expect(tc.callsOf('rerunTask').filter((c) => c.path.includes(s.pushTaskId))).toHaveLength(1);
      expect(JSON.parse(readFileSync(path.join(dir, 'promotion.json'), 'utf8'))).toMatchObject({ outcome: 'started' });
    });
  });
});
