// history shows each promotion's record (reason, requester, task group) from the Taskcluster
// index, where a promote task of the graph indexed itself under
// <trust domain>.v2.<project>.promotion.<script>.<env>.<YYYY>.<MM>.<DD>.<stamp> and published
// public/promotion.json. The real registry, the Taskcluster emulator for the index and queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { P, now, seedThreeAm, type ThreeAm } from '../support/three-am.js';

let reg: RunningRegistry;
let tc: TaskclusterEmulator;
let seeded: ThreeAm;
const taskId = niceSlugid();
const taskGroupId = niceSlugid();
const namespace = 'scriptworker.v2.scriptworker-scripts.promotion.signingscript.production';

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedThreeAm(reg);
  tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  // The promote task of the rollback that wrote P.may2Rollback, completed and indexed.
  tc.insertTask(
    taskId,
    {
      taskGroupId,
      schedulerId: 'scriptworker-level-3',
      taskQueueId: 'scriptworker-3/images',
      created: '2021-05-21T12:00:00.000Z',
      deadline: '2021-05-22T12:00:00.000Z',
      expires: '2022-05-21T12:00:01.000Z',
      routes: [`index.${namespace}.latest`, `index.${namespace}.2021.05.21.20210521120000`],
      payload: {},
      metadata: { name: 'promote', description: '', owner: 'relengineer@mozilla.com', source: 'https://github.com/mozilla-releng/tc-promote' },
    },
    'completed',
  );
  tc.putArtifact(
    taskId,
    'public/promotion.json',
    // What the promote step writes: the deploy it made is named by its archive tag and digest.
    JSON.stringify({ script: 'signingscript', env: 'production', from: P.may2, to: P.may1, digest: seeded.digestOf(P.may1), reason: 'signing fails since r12\nsee bug 1712345', requester: 'mozilla-auth0/ad|Mozilla-LDAP|relengineer', taskGroupId, time: '2021-05-21T12:01:07.000Z', outcome: 'written', archiveTag: { tag: P.may2Rollback, outcome: 'written' } }),
  );
});
afterAll(async () => {
  await tc?.close();
  await reg?.stop();
});

const env = (extra: Record<string, string> = {}) => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, ...extra });

describe('promotion records from the Taskcluster index', () => {
  it('shows the record of a promotion row: reason, requester, task group', async () => {
    tc.calls.length = 0;
    const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }));
    expect(result.code).toBe(0);
    const h = result.json();
    expect(h.records).toEqual({ state: 'read', notes: [] });
    const row = h.deploys.find((d: { tag: string }) => d.tag === P.may2Rollback);
    expect(row).toMatchObject({ promotedFrom: P.may1, promotion: { taskId, taskGroupId, reason: 'signing fails since r12\nsee bug 1712345', requester: 'mozilla-auth0/ad|Mozilla-LDAP|relengineer', from: P.may2, to: P.may1 } });
    expect(h.deploys.filter((d: { promotion?: unknown }) => d.promotion)).toHaveLength(1);
    // One index request for every row asked about, then the record of each task found.
    expect(tc.callsOf('findTasksAtIndex')).toHaveLength(1);
    expect(tc.callsOf('latestArtifact')).toHaveLength(1);
    expect(tc.callsOf('task')).toHaveLength(1);
    const table = (await runCli(['history', 'signingscript', '--registry', reg.url, '--wide'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }))).stdout;
    expect(table).toContain(`default rollback target, promotion by mozilla-auth0/ad|Mozilla-LDAP|relengineer: "signing fails since r12 see bug 1712345", task group ${taskGroupId}, promoted from ${P.may1}`);
    // The default view (120 columns, and 80) shows who and why, on a line under the row (issue 22).
    for (const columns of ['120', '80']) {
      const narrow = (await runCli(['history', 'signingscript', '--registry', reg.url], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl, COLUMNS: columns }))).stdout;
      expect(narrow).toMatch(/\n {6}promotion by relengineer: "signing fails since r12 see bug 1712345"\n/);
      for (const line of narrow.split('\n')) expect(line.length, line).toBeLessThanOrEqual(Number(columns));
    }
  });

  it('reads through the task proxy inside a task', async () => {
    const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_PROXY_URL: tc.rootUrl }));
    expect(result.json().deploys.find((d: { tag: string }) => d.tag === P.may2Rollback).promotion.taskGroupId).toBe(taskGroupId);
  });

  it('never asks Taskcluster without TASKCLUSTER_ROOT_URL, a proxy, --root-url or --records; --no-records turns it off', async () => {
    tc.calls.length = 0;
    const plain = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env());
    expect(plain.json().records.state).toBe('not-asked');
    const off = await runCli(['history', 'signingscript', '--registry', reg.url, '--no-records', '--json'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }));
    expect(off.json().records.state).toBe('not-asked');
    expect(tc.calls).toEqual([]);
    const flag = await runCli(['history', 'signingscript', '--registry', reg.url, '--root-url', tc.rootUrl, '--json'], env());
    expect(flag.json().records.state).toBe('read');
  });

  it('makes an unreachable index a note, never a failure', async () => {
    const started = Date.now();
    const result = await runCli(['history', 'signingscript', '--registry', reg.url], env({ TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9' }));
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/note: promotion records: the Taskcluster index \(http:\/\/127\.0\.0\.1:9\) could not be read \(.*\); rows show no reason or requester/);
    expect(result.stdout).toContain('CURRENT');
    expect(Date.now() - started).toBeLessThan(15_000);
    const json = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9' }))).json();
    expect(json.records.state).toBe('unreachable');
  });

  it('notes a record that cannot be read, and half-set credentials, without failing', async () => {
    const lost = niceSlugid();
    tc.insertTask(lost, { taskGroupId: lost, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/images', created: now, deadline: now, expires: '2022-06-01T00:00:00.000Z', routes: [`index.${namespace}.2021.05.21.20210521120015`], payload: {}, metadata: { name: 'p', description: '', owner: 'a@b.c', source: 'https://x.test' } }, 'completed');
    const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }));
    expect(result.code).toBe(0);
    const h = result.json();
    expect(h.records.notes.join('\n')).toMatch(new RegExp(`public/promotion.json of ${lost} .* could not be read`));
    // A record that cannot be read names no deploy: flagged, never shown as the deploy's promotion.
    expect(h.deploys[0].promotion).toBeUndefined();
    expect(h.deploys[0].unattributedRecord).toMatchObject({ taskId: lost, why: 'its public/promotion.json could not be read, so it names no deploy' });
    const half = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'someone' }));
    expect(half.code).toBe(0);
    expect(half.json().records.notes.join('\n')).toMatch(/promotion records not read: TASKCLUSTER_ACCESS_TOKEN: missing/);
  });

  describe('a record is attached only when it names the deploy and came from the configured scheduler (issue 20)', () => {
    // The index path is only a date: any role that may write index.scriptworker.v2.scriptworker-scripts.*
    // (a pull request's) can put a task at a deploy's path. Each case at P.may3's path (20210521120015).
    const path = `${namespace}.2021.05.21.20210521120015`;
    const put = (schedulerId: string, record: Record<string, unknown>, group = niceSlugid()): string => {
      const id = niceSlugid();
      tc.insertTask(id, { taskGroupId: group, schedulerId, taskQueueId: 'scriptworker-3/images', created: now, deadline: now, expires: '2022-06-01T00:00:00.000Z', routes: [`index.${path}`], payload: {}, metadata: { name: 'promote', description: '', owner: 'a@b.c', source: 'https://x.test' } }, 'completed');
      tc.putArtifact(id, 'public/promotion.json', JSON.stringify({ script: 'signingscript', env: 'production', reason: 'forged: looks like a rollback', requester: 'mallory', time: now, outcome: 'written', ...record }));
      return id;
    };
    const may3 = () => ({ digest: seeded.digestOf(P.may3), archiveTag: { tag: P.may3, outcome: 'written' } });
    const read = async () => {
      const result = await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }));
      expect(result.code).toBe(0);
      const h = result.json();
      return { h, row: h.deploys.find((d: { tag: string }) => d.tag === P.may3) };
    };

    it('flags a task of another scheduler (a pull request task), however well its record names the deploy', async () => {
      const id = put('taskcluster-github', may3());
      const { h, row } = await read();
      expect(row.promotion).toBeUndefined();
      expect(row.unattributedRecord).toEqual({ taskId: id, schedulerId: 'taskcluster-github', why: 'was scheduled by "taskcluster-github", not the configured "scriptworker-level-3"' });
      expect(h.records.notes.join('\n')).toMatch(/1 index entry at a deploy's path not shown as its promotion, because not every check passed \(first, .*: task .* was scheduled by "taskcluster-github"/);
      const table = (await runCli(['history', 'signingscript', '--registry', reg.url], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl, COLUMNS: '200' }))).stdout;
      expect(table).toContain(`index entry of task ${id} not shown as this deploy's promotion: it was scheduled by "taskcluster-github"`);
      expect(table).not.toContain('mallory');
      expect(table).not.toContain('forged');
      const wide = (await runCli(['history', 'signingscript', '--registry', reg.url, '--wide'], env({ TASKCLUSTER_ROOT_URL: tc.rootUrl }))).stdout;
      expect(wide).toContain(`index entry of task ${id} not shown as this deploy's promotion`);
      expect(wide).not.toContain('mallory');
    });

    it('flags a level-3 record that names another deploy, no deploy, or another digest', async () => {
      put('scriptworker-level-3', { digest: seeded.digestOf(P.may1), archiveTag: { tag: P.may2Rollback, outcome: 'written' } });
      expect((await read()).row.unattributedRecord.why).toBe(`names archive tag ${P.may2Rollback}, not ${P.may3}`);
      put('scriptworker-level-3', { digest: seeded.digestOf(P.may3) });
      expect((await read()).row.unattributedRecord.why).toBe(`names no archive tag (its record does not say it wrote ${P.may3})`);
      put('scriptworker-level-3', { digest: seeded.digestOf(P.may1), archiveTag: P.may3 });
      const { row } = await read();
      expect(row.promotion).toBeUndefined();
      expect(row.unattributedRecord.why).toBe(`names digest ${seeded.digestOf(P.may1)}, but ${P.may3} is ${seeded.digestOf(P.may3)}`);
      const group = niceSlugid();
      put('scriptworker-level-3', { ...may3(), taskGroupId: niceSlugid() }, group);
      expect((await read()).row.unattributedRecord.why).toMatch(new RegExp(`^says task group .*, but its task is in ${group}$`));
    });

    it('attaches a level-3 record that names the deploy by tag and digest', async () => {
      const group = niceSlugid();
      const id = put('scriptworker-level-3', { ...may3(), taskGroupId: group, reason: 'the real one', requester: 'relengineer' }, group);
      const { h, row } = await read();
      expect(row.unattributedRecord).toBeUndefined();
      expect(row.promotion).toMatchObject({ taskId: id, taskGroupId: group, reason: 'the real one', requester: 'relengineer', archiveTag: P.may3, digest: seeded.digestOf(P.may3), schedulerId: 'scriptworker-level-3' });
      expect(h.records.notes).toEqual([]);
    });
  });
});
