// SPEC section 8, last paragraph: the action's hook payload, wrapped the way in-tree action
// hooks wrap .taskcluster.yml, renders through the first consumer's real .taskcluster.yml
// (scriptworker-scripts, taskgraph-based) into a valid task whose ACTION_CALLBACK and
// ACTION_INPUT are the action's. And the project's own .taskcluster.yml for every context.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildAction, callbackName, hookIdFor } from '../../src/graph/actions.js';
import { inTreeActionHookTemplate, parseTaskclusterYml, renderForGithub, renderHookTask, renderJsone } from '../../src/graph/taskcluster-yml.js';
import { checkTaskAgainstReference, loadReferenceValidators, readFromDirectory, type ReferenceValidators } from '../../src/taskcluster-api/reference-schemas.js';
import { isSlugid, niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { taskDefinitionSchema } from '../../src/taskcluster-api/task-schema.js';
import { compileSchema, describeSchemaErrors } from '../../src/util/validate.js';
import { applyConsumerPatches, consumerConfigPath } from '../support/consumers.js';
import { referenceDir } from '../support/taskcluster-emulator.js';

const config = loadConfig();
let validators: ReferenceValidators;
beforeAll(async () => {
  validators = await loadReferenceValidators(readFromDirectory(path.join(referenceDir, 'schemas')));
});

const input = { script: 'signingscript', environment: 'production', target: 'previous', route: 'auto', fallback: true, 'min-live': '3d', reason: 'signing fails since the last deploy' };

function fireAction(tcymlText: string, repositoryUrl: string) {
  const decisionTaskId = niceSlugid();
  const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl, level: 3, revision: 'a'.repeat(40), branch: 'master', owner: 'releng@mozilla.com' }, tcymlText);
  // The UI renders hookPayload; the hook renders its task template with the payload.
  const payload = renderJsone(action.hookPayload, { taskGroupId: decisionTaskId, taskId: null, input }, 'hookPayload');
  const actionTaskId = niceSlugid();
  const task = renderHookTask(inTreeActionHookTemplate(parseTaskclusterYml(tcymlText, 'tcyml')), payload, actionTaskId, 'hook');
  return { action, decisionTaskId, actionTaskId, task: task! };
}

describe("scriptworker-scripts' .taskcluster.yml (the first consumer)", () => {
  const text = readFileSync(path.join(referenceDir, '../consumers/scriptworker-scripts.taskcluster.yml'), 'utf8');

  it('renders the action hook payload into a valid task with the action callback and input', () => {
    const { task, decisionTaskId, action } = fireAction(text, 'https://github.com/mozilla-releng/scriptworker-scripts');
    expect(checkTaskAgainstReference(validators, task, 'action task')).toEqual([]);
    const env = (task.payload as { env: Record<string, string> }).env;
    expect(env.ACTION_CALLBACK).toBe(callbackName);
    expect(JSON.parse(env.ACTION_INPUT!)).toEqual(input);
    expect(env.ACTION_TASK_GROUP_ID).toBe(decisionTaskId);
    expect(JSON.parse(env.ACTION_TASK_ID!)).toBeNull();
    expect(task.taskGroupId).toBe(decisionTaskId);
    expect(task.schedulerId).toBe('scriptworker-level-3');
    expect(task.scopes).toEqual(['assume:repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion']);
    expect((task.metadata as { name: string }).name).toBe('Action: Promote image');
    expect(task.extra).toMatchObject({ action: { name: 'promote-image', context: { taskGroupId: decisionTaskId, taskId: null, input } } });
    expect(action.hookId).toBe(hookIdFor(3, text));
    // Unpatched, the action task runs taskgraph in its decision image, which knows no promote_image callback.
    const payload = task.payload as { image: string; command: string[] };
    expect(payload.image).toMatch(/^mozillareleases\/taskgraph:decision-/);
    expect(payload.command.at(-1)).toMatch(/taskgraph action-callback\s*$/);
  });

  it('patched (consumers/scriptworker-scripts), runs tc-promote action-callback in the pinned tc-promote image', () => {
    const copies = applyConsumerPatches();
    try {
      const patched = readFileSync(copies.taskclusterYmlPath, 'utf8');
      const { task } = fireAction(patched, 'https://github.com/mozilla-releng/scriptworker-scripts');
      expect(checkTaskAgainstReference(validators, task, 'action task')).toEqual([]);
      const payload = task.payload as { image: string; command: string[]; env: Record<string, string> };
      expect(payload.image).toBe(loadConfig(consumerConfigPath).taskcluster.image);
      expect(payload.command.at(-1)).toMatch(/exec tc-promote action-callback --config taskcluster\/tc-promote\.yml --revision "\$SCRIPTWORKER_HEAD_REV" --repository "\$SCRIPTWORKER_HEAD_REPOSITORY"$/);
      expect(payload.env.ACTION_CALLBACK).toBe(callbackName);
    } finally {
      copies.cleanup();
    }
  });
});

describe("the project's own .taskcluster.yml", () => {
  const file = new URL('../../.taskcluster.yml', import.meta.url);
  const text = readFileSync(file, 'utf8');
  const tcyml = parseTaskclusterYml(text, '.taskcluster.yml');
  const validateOwn = compileSchema(taskDefinitionSchema);
  const repo = { html_url: 'https://github.com/mozilla-releng/tc-promote', name: 'tc-promote', full_name: 'mozilla-releng/tc-promote' };
  const valid = (task: unknown): void => {
    expect(checkTaskAgainstReference(validators, task, 'task')).toEqual([]);
    expect(validateOwn(task) ? [] : describeSchemaErrors('task', validateOwn.errors, task).split('\n')).toEqual([]);
  };

  it('makes a level-3 decision task for a push, passing event values through the environment only', () => {
    const event = { ref: 'refs/heads/main', before: 'b'.repeat(40), after: 'a'.repeat(40), repository: repo, pusher: { email: 'dev@mozilla.com' } };
    const tasks = renderForGithub(tcyml, 'github-push', event, '.taskcluster.yml');
    expect(tasks).toHaveLength(1);
    const { taskId, task } = tasks[0]!;
    valid(task);
    expect(isSlugid(taskId)).toBe(true);
    expect(task.taskGroupId).toBe(taskId);
    expect(task.schedulerId).toBe('scriptworker-level-3');
    expect(task.scopes).toEqual(['assume:repo:github.com/mozilla-releng/tc-promote:branch:main']);
    const payload = task.payload as { env: Record<string, string>; command: string[] };
    expect(payload.env.TC_PROMOTE_HEAD_REV).toBe('a'.repeat(40));
    expect(payload.command.join(' ')).not.toContain('a'.repeat(40));
    expect(payload.command.join(' ')).toContain('tc-promote.js validate');
    expect(payload.command.join(' ')).toContain('actions --output /builds/worker/artifacts/actions.json');
  });

  it('builds and pushes the image for a version tag: kaniko without secrets, then a push task that alone reads the registry secret', () => {
    const event = { ref: 'refs/tags/v0.2.0', before: 'b'.repeat(40), after: 'a'.repeat(40), repository: repo, pusher: { email: 'dev@mozilla.com' } };
    const tasks = renderForGithub(tcyml, 'github-push', event, '.taskcluster.yml');
    expect(tasks).toHaveLength(2);
    const [build, push] = tasks as [{ taskId: string; task: Record<string, any> }, { taskId: string; task: Record<string, any> }];
    // Taskcluster's published schemas (the project's own task schema is for the promotion tasks).
    for (const { task } of tasks) expect(checkTaskAgainstReference(validators, task, 'task')).toEqual([]);
    expect(build.task.payload.image).toMatch(/^gcr\.io\/kaniko-project\/executor:/);
    expect(build.task.payload.command.join(' ')).toContain('--no-push');
    expect(build.task.scopes).toEqual(['assume:repo:github.com/mozilla-releng/tc-promote:branch:v0.2.0']);
    expect(push.task.dependencies).toEqual([build.taskId]);
    expect(push.task.taskGroupId).toBe(build.taskId);
    expect(push.task.scopes).toContain('secrets:get:project/releng/tc-promote/dockerhub');
    expect(push.task.routes).toEqual(['checks', 'index.tc-promote.v2.image.0_2_0', 'index.tc-promote.v2.image.latest']);
    expect(push.task.payload.command.join(' ')).toContain('/builds/worker/artifacts/image.json');
    expect(push.task.payload.env.TC_PROMOTE_VERSION).toBe('0.2.0');
    // No decision task for a tag, and no image for a branch push.
    expect(renderForGithub(tcyml, 'github-push', { ...event, ref: 'refs/heads/main' }, '.taskcluster.yml').map((t) => t.task.tags)).toEqual([{ kind: 'decision-task' }]);
  });

  it('makes a level-1 decision task for a pull request, and none for a closed one', () => {
    const pr = (action: string) => ({
      action,
      number: 7,
      pull_request: { number: 7, head: { ref: 'topic', sha: 'c'.repeat(40), repo: { ...repo, html_url: 'https://github.com/someone/tc-promote' } }, base: { sha: 'd'.repeat(40), repo }, user: { login: 'someone' } },
    });
    const tasks = renderForGithub(tcyml, 'github-pull-request', pr('opened'), '.taskcluster.yml');
    expect(tasks).toHaveLength(1);
    valid(tasks[0]!.task);
    expect(tasks[0]!.task.schedulerId).toBe('scriptworker-level-1');
    expect(renderForGithub(tcyml, 'github-pull-request', pr('closed'), '.taskcluster.yml')).toEqual([]);
  });

  it('makes an action task that runs tc-promote action-callback', () => {
    const { task, decisionTaskId } = fireAction(text, 'https://github.com/mozilla-releng/tc-promote');
    valid(task);
    const payload = task.payload as { env: Record<string, string>; command: string[]; image: string };
    expect(payload.command).toEqual(['tc-promote', 'action-callback']);
    expect(payload.image).toBe(config.taskcluster.image);
    expect(payload.env.ACTION_CALLBACK).toBe(callbackName);
    expect(JSON.parse(payload.env.ACTION_INPUT!)).toEqual(input);
    expect(task.taskGroupId).toBe(decisionTaskId);
    expect(task.scopes).toEqual(['assume:repo:github.com/mozilla-releng/tc-promote:action:release-promotion']);
  });
});
