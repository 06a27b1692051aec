// The UI's path end to end, against the emulator: a decision task publishes actions.json;
// `trigger` reads it, validates the input and triggers the in-tree action hook (which wraps
// the project's .taskcluster.yml); the hook creates the action task; `action-callback`, run
// with that task's environment, plans (a stub plan here: no registry), renders and submits
// the graph into the action's group, rooted at the action task.
import { readFileSync } from 'node:fs';
import taskcluster, { type Auth, type Hooks, type Queue } from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { actionName, buildAction, mergeAction } from '../../src/graph/actions.js';
import { inTreeActionHookTemplate, parseTaskclusterYml } from '../../src/graph/taskcluster-yml.js';
import type { PlanRequest } from '../../src/history/plan.js';
import { readActionEnvironment, runActionCallback } from '../../src/taskcluster/action-callback.js';
import { readInFlight, type InFlightIndex } from '../../src/taskcluster/in-flight.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { deepMerge, triggerAction, uiActionContext } from '../../src/taskcluster/trigger.js';
import { grantProjectAction, triggerScopes } from '../support/clients.js';
import { examplePlan } from '../support/plans.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const config = loadConfig();
const tcymlText = readFileSync(new URL('../../.taskcluster.yml', import.meta.url), 'utf8');
let tc: TaskclusterEmulator;
let clients: { queue: Queue; hooks: Hooks; auth: Auth };
let decisionTaskId: string;
let actionQueue: (taskId: string) => Queue;

beforeAll(async () => {
  tc = await startTaskclusterEmulator();
  grantProjectAction(tc);
  const options = { rootUrl: tc.rootUrl, credentials: tc.addClient('ui-user', triggerScopes()), retries: 0 };
  clients = { queue: new taskcluster.Queue(options), hooks: new taskcluster.Hooks(options), auth: new taskcluster.Auth(options) };
  // The action task submits with its own scopes (through its proxy in a worker).
  actionQueue = (taskId) => new taskcluster.Queue({ rootUrl: tc.rootUrl, credentials: tc.taskCredentials(taskId), retries: 0 });
  // A decision task of the project, with the actions.json it published.
  decisionTaskId = niceSlugid();
  const decision = { taskGroupId: decisionTaskId, repositoryUrl: 'https://github.com/mozilla-releng/tc-promote', level: 3, revision: 'e'.repeat(40), branch: 'main', owner: 'dev@mozilla.com' };
  const action = buildAction(config, decision, tcymlText);
  tc.insertTask(decisionTaskId, { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', scopes: ['assume:repo:github.com/mozilla-releng/tc-promote:branch:main'], created: new Date().toISOString(), deadline: new Date(Date.now() + 86_400_000).toISOString(), payload: {}, metadata: {} });
  tc.putArtifact(decisionTaskId, 'public/actions.json', JSON.stringify(mergeAction(undefined, action)));
  // The in-tree action hook for this .taskcluster.yml, as ci-configuration defines it.
  tc.defineHook(action.hookGroupId, action.hookId, { task: inTreeActionHookTemplate(parseTaskclusterYml(tcymlText, '.taskcluster.yml')) });
});
afterAll(() => tc?.close());

describe('trigger, then action-callback', () => {
  it('creates the action task through the hook, and the action task submits the graph', async () => {
    const input = { script: 'beetmoverscript', environment: 'production', reason: 'beetmover uploads fail', fallback: true };
    const triggered = await triggerAction(clients, { decisionTaskId, input });
    expect(triggered).toMatchObject({ taskGroupId: decisionTaskId, hookGroupId: 'project-scriptworker' });
    expect(tc.callsOf('triggerHook')).toHaveLength(1);
    const actionTask = tc.tasks.get(triggered.taskId)!;
    expect(actionTask.task.taskGroupId).toBe(decisionTaskId);
    expect((actionTask.task.payload as { command: string[] }).command).toEqual(['tc-promote', 'action-callback']);

    // Inside the action task: its environment, plus what docker-worker sets.
    const env = { ...(actionTask.task.payload as { env: Record<string, string> }).env, TASK_ID: triggered.taskId };
    const action = readActionEnvironment(config, env);
    expect(action).toMatchObject({ taskGroupId: decisionTaskId, targetTaskId: decisionTaskId, ownTaskId: triggered.taskId, input });
    const asked: PlanRequest[] = [];
    const { graph, result } = await runActionCallback(config, action, {
      plan: async (request) => (asked.push(request), examplePlan(config, { script: request.script! })),
      queue: actionQueue(triggered.taskId),
    });
    expect(asked).toEqual([{ script: 'beetmoverscript', env: 'production', skip: [] }]);
    expect(result.created.map((t) => t.label)).toEqual(['promote-beetmoverscript-production', 'fallback-beetmoverscript-production']);
    const promote = tc.tasks.get(graph.tasks[0]!.taskId)!;
    expect(promote.task.taskGroupId).toBe(decisionTaskId);
    expect(promote.task.dependencies).toEqual([triggered.taskId]);
    expect(promote.task.extra).toMatchObject({ parent: triggered.taskId });
    expect(tc.tasks.get(graph.tasks[1]!.taskId)!.task.scopes).toContain('secrets:get:project/releng/scriptworker-scripts/deploy');
    // Nothing runs until the action task completes.
    expect(tc.stateOf(promote.taskId)).toBe('unscheduled');
    tc.resolveTask(triggered.taskId, 'completed');
    expect(tc.stateOf(promote.taskId)).toBe('pending');
  });

  it('writes the in-flight entry through the action task\'s own credentials, so that follow <script> and status find a promotion from the UI; a failed write is said and the graph stands', async () => {
    const key = { trustDomain: 'scriptworker', project: 'scriptworker-scripts', script: 'balrogscript', env: 'production' };
    const run = async (reason: string, attempt = 1, index?: InFlightIndex) => {
      const triggered = await triggerAction(clients, { decisionTaskId, input: { script: 'balrogscript', environment: 'production', reason } });
      const actionTask = tc.tasks.get(triggered.taskId)!;
      const action = readActionEnvironment(config, { ...(actionTask.task.payload as { env: Record<string, string> }).env, TASK_ID: triggered.taskId });
      // One claim's credentials behind the proxy, for the Queue and the Index alike.
      const options = { rootUrl: tc.rootUrl, credentials: tc.taskCredentials(triggered.taskId), retries: 0 };
      return runActionCallback(config, action, { plan: async (request) => examplePlan(config, { script: request.script! }), queue: new taskcluster.Queue(options), index: index ?? (new taskcluster.Index(options) as unknown as InFlightIndex), graphOptions: { attempt } });
    };
    const done = await run('balrog submissions fail');
    expect(done.inFlight).toEqual({ path: 'scriptworker.v2.scriptworker-scripts.in-flight.balrogscript.production', error: null });
    const entry = await readInFlight(new taskcluster.Index({ rootUrl: tc.rootUrl, retries: 0 }) as unknown as InFlightIndex, key);
    expect(entry).toMatchObject({ mode: 'rollback', script: 'balrogscript', env: 'production', taskGroupId: decisionTaskId, taskIds: done.graph.tasks.map((t) => t.taskId), reason: 'balrog submissions fail', to: done.plan.target.tag });
    expect(tc.index.get(done.inFlight!.path!)!.taskId).toBe(done.graph.tasks[0]!.taskId);
    // An Index that refuses the write (its scope is reached here through the repository's action:* role, so a stand-in
    // refuses): the graph is created all the same, and the result says why no entry was written.
    const refusing = { findTask: async () => null, insertTask: async () => Promise.reject(Object.assign(new Error('Internal Server Error'), { statusCode: 500 })) };
    const refused = await run('balrog again', 2, refusing);
    expect(refused.result.created.map((t) => t.label)).toEqual(['promote-balrogscript-production', 'fallback-balrogscript-production']);
    expect(refused.inFlight?.path).toBeNull();
    expect(refused.inFlight?.error).toContain('could not write the index entry scriptworker.v2.scriptworker-scripts.in-flight.balrogscript.production');
    // The entry still names the first promotion (follow <task group> finds the second).
    expect((await readInFlight(new taskcluster.Index({ rootUrl: tc.rootUrl, retries: 0 }) as unknown as InFlightIndex, key))!.taskIds).toEqual(done.graph.tasks.map((t) => t.taskId));
  });

  it('refuses an input the action schema does not allow, before triggering', async () => {
    const before = tc.callsOf('triggerHook').length;
    await expect(triggerAction(clients, { decisionTaskId, input: { script: 'signingscript', environment: 'staging', reason: 'x' } })).rejects.toThrow(
      /--input: \/environment: must be equal to one of the allowed values \(got "staging"\)/,
    );
    await expect(triggerAction(clients, { decisionTaskId, input: { script: 'signingscript', environment: 'production', reason: 'x' }, actionName: 'nope' })).rejects.toThrow(
      `public/actions.json of ${decisionTaskId}: no action named "nope"; it has ${actionName}`,
    );
    expect(tc.callsOf('triggerHook').length).toBe(before);
  });

  it('reports a decision task without actions.json as not found', async () => {
    const other = niceSlugid();
    tc.insertTask(other, { taskGroupId: other, schedulerId: 'x', created: new Date().toISOString(), deadline: new Date().toISOString(), payload: {}, metadata: {} });
    await expect(triggerAction(clients, { decisionTaskId: other, input: {} })).rejects.toMatchObject({ exitCode: 4 });
  });

  it('refuses an action environment that is not tc-promote’s', () => {
    const env = { ACTION_CALLBACK: 'retrigger', ACTION_TASK_GROUP_ID: decisionTaskId, ACTION_TASK_ID: 'null', ACTION_INPUT: '{}', TASK_ID: niceSlugid() };
    expect(() => readActionEnvironment(config, env)).toThrow('ACTION_CALLBACK: "retrigger" is not tc-promote\'s callback "promote_image"');
    expect(() => readActionEnvironment(config, { ...env, ACTION_CALLBACK: 'promote_image', TASK_ID: undefined })).toThrow(/TASK_ID: missing/);
    expect(() => readActionEnvironment(config, { ...env, ACTION_CALLBACK: 'promote_image', ACTION_INPUT: '{"script":"signingscript","environment":"production","reason":"r","x":1}' })).toThrow(
      'ACTION_INPUT: /x: is not a known property',
    );
  });

  it('refuses an actions.json larger than 16 MiB at the limit (exit 1), and triggers nothing', async () => {
    const other = niceSlugid();
    tc.insertTask(other, { taskGroupId: other, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', scopes: [], created: new Date().toISOString(), deadline: new Date(Date.now() + 86_400_000).toISOString(), payload: {}, metadata: {} });
    tc.putArtifact(other, 'public/actions.json', `{"version": 1, "pad": "${'x'.repeat(17 * 1024 * 1024)}"}`);
    const before = tc.callsOf('triggerHook').length;
    const error = await triggerAction(clients, { decisionTaskId: other, input: { script: 'beetmoverscript', environment: 'production', reason: 'r' } }).catch((e: unknown) => e as Error & { exitCode: number });
    expect(error).toMatchObject({ exitCode: 1 });
    expect((error as Error).message).toBe(`public/actions.json of decision task ${other}: larger than the limit of 16 MiB (16777216 bytes); refusing to read it; nothing was triggered`);
    expect(tc.callsOf('triggerHook').length).toBe(before);
  });

  it("renders hookPayload with the UI's context: the decision task, its definition, the input and actions.json variables", () => {
    const decision = { taskGroupId: 'G', scopes: ['s'], metadata: { name: 'Decision Task' } };
    const context = uiActionContext('D', decision, { script: 'x' }, { extra: { a: [1] }, task: { metadata: { owner: 'o' } } });
    expect(context).toEqual({ taskGroupId: 'G', taskId: 'D', task: { taskGroupId: 'G', scopes: ['s'], metadata: { name: 'Decision Task', owner: 'o' } }, input: { script: 'x' }, extra: { a: [1] } });
    // variables come from a file the push wrote: its "__proto__" keys reach nothing.
    const merged = deepMerge({ a: [1], b: { c: 1 } }, JSON.parse('{"a": [2], "b": {"d": 2}, "__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(merged).toEqual({ a: [1, 2], b: { c: 1, d: 2 } });
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('names the way out when the hook does not exist (fxci-config has not generated it), and refuses variables that replace the context', async () => {
    const other = niceSlugid();
    const decision = { taskGroupId: other, repositoryUrl: 'https://github.com/mozilla-releng/tc-promote', level: 3, revision: 'e'.repeat(40), branch: 'main', owner: 'dev@mozilla.com' };
    tc.insertTask(other, { taskGroupId: other, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', scopes: ['assume:repo:github.com/mozilla-releng/tc-promote:branch:main'], created: new Date().toISOString(), deadline: new Date(Date.now() + 86_400_000).toISOString(), payload: {}, metadata: {} });
    const stale = buildAction(config, decision, `${tcymlText}\n# changed`);
    tc.putArtifact(other, 'public/actions.json', JSON.stringify(mergeAction(undefined, stale)));
    const input = { script: 'beetmoverscript', environment: 'production', reason: 'r' };
    const missing = await triggerAction(clients, { decisionTaskId: other, input }).catch((e: unknown) => e as Error & { exitCode: number });
    expect(missing).toMatchObject({ exitCode: 4 });
    expect((missing as Error).message).toContain(`triggerHook project-scriptworker/${stale.hookId}: no such hook. fxci-config generates it`);
    tc.putArtifact(other, 'public/actions.json', JSON.stringify({ ...mergeAction(undefined, buildAction(config, decision, tcymlText)), variables: { input: { script: 'treescript' } } }));
    await expect(triggerAction(clients, { decisionTaskId: other, input })).rejects.toThrow('variables "input" would replace the action\'s context; nothing was triggered');
  });
  it("names the way out when the caller may not fire the hook, or the hook's role may not create the action task", async () => {
    const input = { script: 'beetmoverscript', environment: 'production', reason: 'r' };
    const as = (credentials?: { clientId: string; accessToken: string }) => {
      const options = { rootUrl: tc.rootUrl, ...(credentials && { credentials }), retries: 0 };
      return { queue: new taskcluster.Queue(options), hooks: new taskcluster.Hooks(options), auth: new taskcluster.Auth(options) };
    };
    const refusal = (c: ReturnType<typeof as>) => triggerAction(c, { decisionTaskId, input }).then(() => new Error('triggered') as Error & { exitCode?: number }, (e: unknown) => e as Error & { exitCode: number });
    const before = tc.tasks.size;
    // Someone without the trigger scope: the scope to ask for, and where it is granted.
    const nobody = await refusal(as(tc.addClient('on-call-without-grant', [])));
    expect(nobody).toMatchObject({ exitCode: 1 });
    expect(nobody.message).toContain('triggerHook project-scriptworker/in-tree-action-3-release-promotion/');
    expect(nobody.message).toContain('client on-call-without-grant lacks hooks:trigger-hook:project-scriptworker/in-tree-action-3-release-promotion/');
    expect(nobody.message).toContain('fxci-config grants hooks:trigger-hook:project-scriptworker/in-tree-action-3-release-promotion/* to the group that may roll production back');
    expect(nobody.message).toContain('nothing was triggered');
    expect(nobody.message).not.toContain("check the credentials' scopes");
    // No credentials at all: how to give them.
    const anonymous = await refusal(as());
    expect(anonymous).toMatchObject({ exitCode: 1 });
    expect(anonymous.message).toContain('no Taskcluster credentials: set TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN');
    expect(anonymous.message).toContain('nothing was triggered');
    // The hook fired, but its role cannot create the task: fxci-config's roles, not the caller's.
    const roleId = 'hook-id:project-scriptworker/in-tree-action-3-release-promotion/*';
    const held = tc.roles[roleId]!;
    tc.defineRole(roleId, []);
    try {
      const role = await refusal(clients);
      expect(role).toMatchObject({ exitCode: 1 });
      expect(role.message).toContain("the hook's role hook-id:project-scriptworker/in-tree-action-3-release-promotion/");
      expect(role.message).toContain('lacks assume:repo:github.com/mozilla-releng/tc-promote:action:release-promotion, queue:scheduler-id:scriptworker-level-3, one of queue:create-task:highest:scriptworker-3/decision');
      expect(role.message).toContain("fxci-config's in-tree action role and the grants of the repository's action roles decide it");
      expect(role.message).toContain('the action task was not created');
      expect(role.message).not.toContain("check the credentials' scopes");
    } finally {
      tc.defineRole(roleId, held);
    }
    expect(tc.tasks.size).toBe(before);
  });
});
