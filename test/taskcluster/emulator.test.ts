// The emulator enforces the Queue's documented rules; these tests drive it through real
// taskcluster-client instances, as tc-promote does.
import taskcluster, { type Queue } from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { examplePlan } from '../support/plans.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const config = loadConfig();
let tc: TaskclusterEmulator;
let queue: Queue;
beforeAll(async () => {
  tc = await startTaskclusterEmulator();
  // An administrator (scope *): these tests are about the Queue's rules; scopes have their own below.
  queue = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.addClient('tester', ['*']), retries: 0 });
});
afterAll(() => tc?.close());

function task(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const [promote] = buildGraph(config, examplePlan(config)).tasks;
  return { ...promote!.task, taskGroupId: niceSlugid(), ...overrides };
}

async function refusal(call: Promise<unknown>): Promise<{ statusCode: number; code: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { statusCode: number; code: string; message: string };
  }
  throw new Error('expected the call to be refused');
}

describe('queue.createTask rules', () => {
  it('creates a valid task, and accepts the same definition again', async () => {
    const id = niceSlugid();
    const body = task();
    const first = await queue.createTask(id, body);
    expect(first.status).toMatchObject({ taskId: id, state: 'pending', schedulerId: 'scriptworker-level-3' });
    expect((await queue.createTask(id, body)).status.taskId).toBe(id);
    expect(tc.callsOf('createTask').at(-1)!.clientId).toBe('tester');
  });

  it('refuses another definition under the same id with 409', async () => {
    const id = niceSlugid();
    const body = task();
    await queue.createTask(id, body);
    const error = await refusal(queue.createTask(id, { ...body, priority: 'low' }));
    expect([error.statusCode, error.code]).toEqual([409, 'RequestConflict']);
  });

  it('refuses a body that does not match the published schema', async () => {
    const error = await refusal(queue.createTask(niceSlugid(), task({ payload: { image: 'x' } })));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/maxRunTime: is required/);
    expect((await refusal(queue.createTask(niceSlugid(), task({ unknownField: 1 })))).statusCode).toBe(400);
  });

  it('refuses dependencies that do not exist yet', async () => {
    const missing = niceSlugid();
    const error = await refusal(queue.createTask(niceSlugid(), task({ dependencies: [missing] })));
    expect([error.statusCode, error.message.split('\n')[0]]).toEqual([400, `task.dependencies references non-existing tasks: ${missing}`]);
  });

  it('holds the rest of createTask as services/queue does: provisionerId/workerType against taskQueueId, created before deadline, 15 minutes of drift on the deadline, dependencies that outlive the deadline', async () => {
    const now = Date.now();
    const { taskQueueId, ...rest } = task() as { taskQueueId: string } & Record<string, unknown>;
    const [provisionerId, workerType] = taskQueueId.split('/');
    // Both forms, agreeing, are taken; disagreeing, refused.
    await queue.createTask(niceSlugid(), { ...rest, taskQueueId, provisionerId, workerType });
    const split = await refusal(queue.createTask(niceSlugid(), { ...rest, taskQueueId, provisionerId, workerType: 'other' }));
    expect([split.statusCode, split.message.split('\n')[0]]).toEqual([400, 'taskQueueId must match "provisionerId/workerType"']);
    // created after the deadline.
    const late = await refusal(queue.createTask(niceSlugid(), task({ created: new Date(now + 10 * 60_000).toISOString(), deadline: new Date(now + 5 * 60_000).toISOString() })));
    expect([late.statusCode, late.message.split('\n')[0]]).toEqual([400, '`deadline` cannot be later than `created`']);
    // A deadline 5 days and 10 minutes ahead is within the Queue's drift; 5 days and 20 minutes is not.
    await queue.createTask(niceSlugid(), task({ deadline: new Date(now + 5 * 86_400_000 + 10 * 60_000).toISOString(), expires: new Date(now + 30 * 86_400_000).toISOString() }));
    expect((await refusal(queue.createTask(niceSlugid(), task({ deadline: new Date(now + 5 * 86_400_000 + 20 * 60_000).toISOString(), expires: new Date(now + 30 * 86_400_000).toISOString() })))).statusCode).toBe(400);
    // A dependency that expires before this task's deadline.
    const shortLived = niceSlugid();
    await queue.createTask(shortLived, task({ deadline: new Date(now + 3_600_000).toISOString(), expires: new Date(now + 2 * 3_600_000).toISOString() }));
    const expiring = await refusal(queue.createTask(niceSlugid(), task({ dependencies: [shortLived], deadline: new Date(now + 86_400_000).toISOString() })));
    expect([expiring.statusCode, expiring.message]).toEqual([400, expect.stringContaining('`task.dependencies` references tasks that expires\nbefore `task.deadline`')]);
  });

  it('refuses a second schedulerId in one task group', async () => {
    const group = niceSlugid();
    await queue.createTask(niceSlugid(), task({ taskGroupId: group }));
    const error = await refusal(queue.createTask(niceSlugid(), task({ taskGroupId: group, schedulerId: 'someone-else' })));
    expect(error.statusCode).toBe(409);
  });

  it('enforces created, deadline and expires', async () => {
    const at = (ms: number): string => new Date(Date.now() + ms).toISOString();
    expect((await refusal(queue.createTask(niceSlugid(), task({ created: at(-16 * 60_000) })))).message).toMatch(/not within 15 minutes/);
    expect((await refusal(queue.createTask(niceSlugid(), task({ created: at(16 * 60_000) })))).message).toMatch(/not within 15 minutes/);
    expect((await refusal(queue.createTask(niceSlugid(), task({ created: at(-5 * 60_000), deadline: at(-60_000) })))).message).toMatch(/in the past/);
    expect((await refusal(queue.createTask(niceSlugid(), task({ deadline: at(5 * 86_400_000 + 16 * 60_000) })))).message).toMatch(/more than 5 days/);
    expect((await refusal(queue.createTask(niceSlugid(), task({ expires: at(3600_000) })))).message).toMatch(/before the deadline/);
  });
});

describe('other endpoints', () => {
  it('schedules dependents by requires, reruns before the deadline only', async () => {
    const group = niceSlugid();
    const a = niceSlugid();
    const b = niceSlugid();
    await queue.createTask(a, task({ taskGroupId: group }));
    await queue.createTask(b, task({ taskGroupId: group, dependencies: [a], requires: 'all-resolved' }));
    expect((await queue.status(b)).status.state).toBe('unscheduled');
    tc.resolveTask(a, 'failed');
    expect((await queue.status(b)).status.state).toBe('pending');
    const rerun = await queue.rerunTask(a);
    expect(rerun.status.runs.map((r) => r.state)).toEqual(['failed', 'pending']);
    const listed = await queue.listTaskGroup(group, { limit: 1 });
    expect(listed.tasks).toHaveLength(1);
    expect((await queue.listTaskGroup(group, { continuationToken: listed.continuationToken! })).tasks[0]!.status.taskId).toBe(b);
    const later = tc.now;
    tc.now = () => Date.now() + 2 * 86_400_000;
    try {
      const error = await refusal(queue.rerunTask(a));
      expect([error.statusCode, error.message]).toEqual([409, expect.stringMatching(/past its deadline/)]);
    } finally {
      tc.now = later;
    }
  });

  it('indexes completed tasks by their routes, serves artifacts and secrets', async () => {
    const id = niceSlugid();
    const body = task();
    await queue.createTask(id, body);
    tc.resolveTask(id, 'completed');
    tc.putArtifact(id, 'public/promotion.json', '{"ok":true}');
    const index = new taskcluster.Index({ rootUrl: tc.rootUrl, credentials: {}, retries: 0 });
    const found = await index.findTask('scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.latest');
    expect(found.taskId).toBe(id);
    const location = await queue.latestArtifact(id, 'public/promotion.json');
    expect(await (await fetch(location.url!)).json()).toEqual({ ok: true });
    tc.setSecret('project/x', { token: 'hidden' });
    const secrets = new taskcluster.Secrets({ rootUrl: tc.rootUrl, credentials: tc.addClient('reader', ['secrets:get:project/*']), retries: 0 });
    expect((await secrets.get('project/x')).secret).toEqual({ token: 'hidden' });
    expect((await refusal(secrets.get('project/none'))).statusCode).toBe(404);
    // Anonymous callers get 403 with the scope they lack, as the secrets service answers.
    const anonymous = new taskcluster.Secrets({ rootUrl: tc.rootUrl, credentials: {}, retries: 0 });
    const refused = await refusal(anonymous.get('project/x'));
    expect([refused.statusCode, refused.code]).toEqual([403, 'InsufficientScopes']);
    expect(refused.message).toContain('This request requires Taskcluster credentials that satisfy the following scope expression:\n\n```\n"secrets:get:project/x"\n```');
  });

  it('adds the configured latency to every call', async () => {
    tc.latencyMs = 50;
    try {
      const started = performance.now();
      await queue.status(niceSlugid()).catch(() => undefined);
      expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    } finally {
      tc.latencyMs = 0;
    }
  });
});

describe('scopes, as the services check them', () => {
  it('refuses a create whose scopes, routes, scheduler or worker pool the client lacks, naming what is missing', async () => {
    const limited = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.addClient('limited', ['queue:create-task:highest:scriptworker-3/*', 'queue:scheduler-id:scriptworker-level-3', 'queue:route:index.*']), retries: 0 });
    const error = await refusal(limited.createTask(niceSlugid(), task()));
    expect([error.statusCode, error.code]).toEqual([403, 'InsufficientScopes']);
    expect(error.message).toMatch(/^Client ID limited does not have sufficient scopes and is missing the following scopes:\n\n```\n/);
    // What is missing: the secret and the notify routes; a higher priority's create-task scope was enough.
    const missing = /```\n([\s\S]*?)\n```/.exec(error.message)![1]!;
    expect(missing).toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
    expect(missing).toContain('queue:route:notify.email.release+scriptworker-scripts@mozilla.com.on-failed');
    expect(missing).not.toContain('queue:create-task');
    expect(missing).not.toContain('queue:route:index');
    expect(error.message).toContain('This request requires the client to satisfy the following scope expression:');
  });

  it('expands roles as the auth service does: parameterised roles, star roles and assume:…* scopes', async () => {
    tc.defineRole('project-admin:*', ['secrets:get:project/<..>/*', 'auth:create-role:project-<..>/*']);
    tc.defineRole('hook-id:taskcluster/*', ['queue:create-task:aws-provisioner/taskcluster-hooks']);
    tc.defineRole('repo:github.com/taskcluster/taskcluster-auth', ['secrets:get:auth-tests']);
    // The examples of ui/docs/reference/platform/auth/roles.mdx.
    expect(tc.expand(['assume:project-admin:zap'])).toEqual(expect.arrayContaining(['auth:create-role:project-zap/*', 'secrets:get:project/zap/*']));
    expect(tc.expand(['assume:project-admin:ops*'])).toEqual(expect.arrayContaining(['auth:create-role:project-ops*', 'secrets:get:project/ops*']));
    expect(tc.expand(['assume:hook-id:taskcluster/nightly-diagnostics'])).toContain('queue:create-task:aws-provisioner/taskcluster-hooks');
    expect(tc.expand(['assume:repo:github.com/taskcluster/*'])).toContain('secrets:get:auth-tests');
    const auth = new taskcluster.Auth({ rootUrl: tc.rootUrl, credentials: {}, retries: 0 });
    expect((await auth.expandScopes({ scopes: ['assume:project-admin:zap'] })).scopes).toEqual(tc.expand(['assume:project-admin:zap']));
  });

  it('refuses unknown clients and bad signatures with 401, and honours authorizedScopes', async () => {
    const stranger = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: { clientId: 'stranger', accessToken: 'x' }, retries: 0 });
    expect((await refusal(stranger.createTask(niceSlugid(), task()))).statusCode).toBe(401);
    const forged = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: { clientId: 'tester', accessToken: 'not-the-token' }, retries: 0 });
    expect((await refusal(forged.createTask(niceSlugid(), task()))).statusCode).toBe(401);
    // An administrator restricted to less (as the hooks service and the UI call) is refused what it left out.
    const narrowed = new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.addClient('admin', ['*']), authorizedScopes: ['queue:create-task:highest:scriptworker-3/*'], retries: 0 } as never);
    expect((await refusal(narrowed.createTask(niceSlugid(), task()))).code).toBe('InsufficientScopes');
  });

  it("fires a hook as the hooks service does: trigger scope, schema, post-render defaults, the hook role's scopes", async () => {
    const hooks = (scopes: string[]) => new taskcluster.Hooks({ rootUrl: tc.rootUrl, credentials: tc.addClient(`user-${niceSlugid()}`, scopes), retries: 0 });
    const template = { $let: { t: { $eval: 'payload' } }, in: { ...task(), taskGroupId: undefined, created: undefined, deadline: undefined, expires: undefined } };
    delete (template.in as Record<string, unknown>).taskGroupId;
    delete (template.in as Record<string, unknown>).created;
    delete (template.in as Record<string, unknown>).deadline;
    delete (template.in as Record<string, unknown>).expires;
    tc.defineHook('project-test', 'weak', { task: template, triggerSchema: { type: 'object' } });
    tc.defineHook('project-test', 'strong', { task: template, triggerSchema: { type: 'object' } });
    tc.defineRole('hook-id:project-test/strong', ['queue:create-task:highest:scriptworker-3/*', 'queue:scheduler-id:scriptworker-level-3', 'queue:route:*', 'secrets:get:project/releng/scriptworker-scripts/deploy']);
    expect((await refusal(hooks([]).triggerHook('project-test', 'strong', {}))).message).toContain('hooks:trigger-hook:project-test/strong');
    const weak = await refusal(hooks(['hooks:trigger-hook:project-test/*']).triggerHook('project-test', 'weak', {}));
    expect([weak.statusCode, weak.code]).toEqual([403, 'InsufficientScopes']);
    expect(weak.message).toMatch(/^The role `hook-id:project-test\/weak` does not have sufficient scopes to create the task:\n\nClient ID static\/taskcluster\/hooks does not have sufficient scopes/);
    const fired = await hooks(['hooks:trigger-hook:project-test/*']).triggerHook('project-test', 'strong', {});
    const created = tc.tasks.get(fired.taskId!)!.task;
    expect(created.taskGroupId).toBe(fired.taskId);
    expect(Date.parse(created.deadline) - Date.parse(created.created as string)).toBe(86_400_000);
    expect(Date.parse(created.expires) - Date.parse(created.created as string)).toBe(30 * 86_400_000);
  });
});

