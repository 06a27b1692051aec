import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { actionInputSchema, buildAction, callbackName, mergeAction, parseActionsFile, planRequestFromInput, validateActionInput, type DecisionInfo } from '../../src/graph/actions.js';
import { renderJsone } from '../../src/graph/taskcluster-yml.js';
import { loadReferenceValidators, readFromDirectory, type ReferenceValidators } from '../../src/taskcluster-api/reference-schemas.js';
import type { HookAction } from '../../src/taskcluster-api/actions-schema.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { referenceDir } from '../support/taskcluster-emulator.js';

const config = loadConfig();
const tcyml = readFileSync(new URL('../../.taskcluster.yml', import.meta.url));
const decision: DecisionInfo = {
  taskGroupId: niceSlugid(),
  repositoryUrl: 'https://github.com/mozilla-releng/scriptworker-scripts',
  level: 3,
  revision: '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89',
  branch: 'master',
  owner: 'releng@mozilla.com',
};
let validators: ReferenceValidators;
beforeAll(async () => {
  validators = await loadReferenceValidators(readFromDirectory(path.join(referenceDir, 'schemas')));
});

describe('the promotion action', () => {
  const action = buildAction(config, decision, tcyml);

  it('is a hook action on the in-tree action hook of .taskcluster.yml', () => {
    const hash = createHash('sha256').update(tcyml).digest('hex').slice(0, 10);
    expect(action).toMatchObject({
      name: 'promote-image',
      kind: 'hook',
      context: [],
      hookGroupId: 'project-scriptworker',
      hookId: `in-tree-action-3-release-promotion/${hash}`,
      extra: { actionPerm: 'release-promotion' },
    });
  });

  it('has the hook payload taskgraph-based repositories consume', () => {
    expect(action.hookPayload).toEqual({
      decision: {
        action: { name: 'promote-image', title: 'Promote image', description: expect.any(String), taskGroupId: decision.taskGroupId, cb_name: callbackName, symbol: 'promote' },
        repository: { url: decision.repositoryUrl, project: 'scriptworker-scripts', level: '3', base_url: decision.repositoryUrl },
        push: { owner: 'releng@mozilla.com', pushlog_id: '0', revision: decision.revision, base_revision: decision.revision, branch: 'refs/heads/master' },
      },
      user: { input: { $eval: 'input' }, taskId: { $eval: 'taskId' }, taskGroupId: { $eval: 'taskGroupId' } },
    });
    const input = { script: 'signingscript', environment: 'production', reason: 'r' };
    const payload = renderJsone(action.hookPayload, { taskGroupId: decision.taskGroupId, taskId: null, input }, 'hookPayload') as { user: unknown };
    expect(payload.user).toEqual({ input, taskId: null, taskGroupId: decision.taskGroupId });
  });

  it('has a strict input schema: the 7 fields, configured choices, nothing else', () => {
    const schema = actionInputSchema(config) as { properties: Record<string, { enum?: unknown[] }>; additionalProperties: boolean; required: string[] };
    expect(Object.keys(schema.properties).sort()).toEqual(['environment', 'fallback', 'min-live', 'reason', 'route', 'script', 'target']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.script!.enum).toEqual(config.scripts);
    expect(schema.properties.environment!.enum).toEqual(['production', 'dev']);
    expect(() => validateActionInput(config, { script: 'signingscript', environment: 'production', reason: 'x', extra: 1 })).toThrow(/\/extra: is not a known property/);
    expect(() => validateActionInput(config, { script: 'nosuchscript', environment: 'production', reason: 'x' })).toThrow(/input: \/script: must be equal to one of the allowed values \(got "nosuchscript"\)/);
    expect(() => validateActionInput(config, { script: 'signingscript', environment: 'production', reason: 'x', 'min-live': '3 days' })).toThrow(/\/min-live/);
    expect(() => validateActionInput(config, { script: 'signingscript', environment: 'production' })).toThrow(/\/reason: is required/);
  });

  it('maps an input to a plan request', () => {
    const base = { script: 'signingscript', environment: 'production', reason: 'r' };
    expect(planRequestFromInput(config, validateActionInput(config, base))).toEqual({ script: 'signingscript', env: 'production', skip: [] });
    expect(planRequestFromInput(config, validateActionInput(config, { ...base, target: 'dev', route: 'retag', 'min-live': '3d' }))).toEqual({ script: 'signingscript', env: 'production', skip: [], fromEnv: 'dev', route: 'retag', minLiveSeconds: 3 * 86400 });
    expect(planRequestFromInput(config, validateActionInput(config, { ...base, target: '7995c5b', route: 'auto' }))).toEqual({ script: 'signingscript', env: 'production', skip: [], to: '7995c5b' });
  });

  it('makes an actions.json valid against the published action schema', () => {
    const file = mergeAction(undefined, action);
    expect(file.version).toBe(1);
    expect(validators.actions(file)).toEqual([]);
  });

  it('merges into an existing actions.json without duplicating itself', () => {
    const taskgraphActions = {
      version: 1,
      variables: { a: 1 },
      actions: [
        { name: 'retrigger', kind: 'hook', title: 'Retrigger', description: 'x', context: [{}], hookGroupId: 'project-scriptworker', hookId: 'in-tree-action-3-generic/abc', hookPayload: {}, schema: { type: 'object' }, extra: { actionPerm: 'generic' } },
      ],
    };
    const once = mergeAction(parseActionsFile(taskgraphActions, 'actions.json'), action);
    const twice = mergeAction(once, buildAction(config, { ...decision, revision: 'f'.repeat(40) }, tcyml));
    expect(twice.actions.map((a) => a.name)).toEqual(['retrigger', 'promote-image']);
    expect(twice.variables).toEqual({ a: 1 });
    expect((twice.actions[1] as typeof action).hookPayload.decision).toMatchObject({ push: { revision: 'f'.repeat(40) } });
    expect(validators.actions(twice)).toEqual([]);
    expect(() => parseActionsFile({ version: 2, actions: [], variables: {} }, 'old.json')).toThrow(/old\.json: \/version/);
  });

  it("merges into the real actions.json taskgraph writes for scriptworker-scripts, in its shape", async () => {
    const text = readFileSync(path.join(referenceDir, '../taskgraph/scriptworker-scripts.actions.json'), 'utf8');
    const real = parseActionsFile(JSON.parse(text), 'taskgraph actions.json');
    const scriptworkerTcyml = readFileSync(path.join(referenceDir, '../consumers/scriptworker-scripts.taskcluster.yml'));
    const merged = mergeAction(real, buildAction(config, { ...decision, taskGroupId: 'Cv1d8fPHRzWvO3MZbI1e3A' }, scriptworkerTcyml));
    // taskgraph's nine built-in actions (retrigger in three contexts, add-new-jobs, rerun, cancel,
    // cancel-all, rebuild-cached-tasks, retrigger-multiple), each on its permission's hook.
    expect(real.actions).toHaveLength(9);
    expect(merged.actions.map((a) => a.name)).toEqual(['retrigger', 'retrigger', 'retrigger', 'add-new-jobs', 'rerun', 'cancel', 'cancel-all', 'rebuild-cached-tasks', 'retrigger-multiple', 'promote-image']);
    expect(merged.actions.slice(0, 9)).toEqual(real.actions);
    expect(merged.variables).toEqual(real.variables);
    expect(validators.actions(merged)).toEqual([]);
    const ours = merged.actions[9] as HookAction;
    // The hook is per permission: in-tree-action-<level>-<actionPerm>/<hash of .taskcluster.yml>.
    for (const a of real.actions as HookAction[]) expect(a.hookId).toBe(`in-tree-action-3-${(a.extra as { actionPerm: string }).actionPerm}/084e6ea20b`);
    expect([...new Set((real.actions as HookAction[]).map((a) => (a.extra as { actionPerm: string }).actionPerm))].sort()).toEqual(['generic', 'rebuild-cached-tasks', 'retrigger-decision']);
    // A task-group action as ours is (context []), on the generic permission.
    const theirs = real.actions.find((a) => a.name === 'add-new-jobs') as HookAction;
    expect(theirs.context).toEqual([]);
    // The same hook group, hash and payload shape as taskgraph's own actions: only the permission differs.
    expect(ours.hookGroupId).toBe(theirs.hookGroupId);
    expect(ours.hookId.replace('release-promotion', 'generic')).toBe(theirs.hookId);
    expect(ours.hookId.split('/')[1]).toBe(theirs.hookId.split('/')[1]);
    expect(ours.hookId).toBe('in-tree-action-3-release-promotion/084e6ea20b');
    const shape = (p: unknown): unknown => (p !== null && typeof p === 'object' && !Array.isArray(p) ? Object.fromEntries(Object.entries(p).map(([k, v]) => [k, shape(v)])) : typeof p);
    const payload = ours.hookPayload as { decision: { push: Record<string, string>; repository: Record<string, string> } };
    const reference = theirs.hookPayload as typeof payload;
    expect(shape(payload.decision.push)).toEqual(shape(reference.decision.push));
    expect(shape(payload.decision.repository)).toEqual(shape(reference.decision.repository));
    expect(shape(ours.hookPayload.user)).toEqual(shape(theirs.hookPayload.user));
    // push.branch is the full ref, as taskgraph passes it; taskgraph's push.owner is its fixed
    // maintenance address (`tc-promote actions --owner` writes the same when told).
    expect(payload.decision.push.branch).toBe(reference.decision.push.branch);
    expect(reference.decision.push.owner).toBe('mozilla-taskcluster-maintenance@mozilla.com');
    const withOwner = buildAction(config, { ...decision, taskGroupId: 'Cv1d8fPHRzWvO3MZbI1e3A', revision: 'a'.repeat(40), baseRevision: 'b'.repeat(40), owner: reference.decision.push.owner! }, scriptworkerTcyml);
    expect((withOwner.hookPayload as typeof payload).decision.push).toEqual(reference.decision.push);
    expect((withOwner.hookPayload as typeof payload).decision.repository).toEqual(reference.decision.repository);
    expect(withOwner.hookPayload.user).toEqual(theirs.hookPayload.user);
  });
});
