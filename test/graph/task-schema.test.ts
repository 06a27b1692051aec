// The project's task schema against Taskcluster's published schemas
// (../shared/reference/taskcluster/schemas): every rendered task must be a valid createTask
// body with a valid docker-worker payload, and the project's schema may only narrow them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { actionsFileSchema } from '../../src/taskcluster-api/actions-schema.js';
import { checkTaskAgainstReference, loadReferenceValidators, readFromDirectory, type ReferenceValidators } from '../../src/taskcluster-api/reference-schemas.js';
import { niceSlugid, slugidPattern } from '../../src/taskcluster-api/slugid.js';
import { dockerWorkerPayloadSchema, slugidPatternSource, taskDefinitionSchema } from '../../src/taskcluster-api/task-schema.js';
import { configSchema } from '../../src/config/schema.js';
import { referenceDir } from '../support/taskcluster-emulator.js';
import { examplePlan } from '../support/plans.js';

const reference = (file: string): Record<string, any> => JSON.parse(readFileSync(path.join(referenceDir, 'schemas', file), 'utf8'));
const config = loadConfig();
let validators: ReferenceValidators;
beforeAll(async () => {
  validators = await loadReferenceValidators(readFromDirectory(path.join(referenceDir, 'schemas')));
});

describe('rendered tasks against the published schemas', () => {
  it('every task of every script, environment and route is a valid createTask body with a docker-worker payload', () => {
    let count = 0;
    for (const script of config.scripts) {
      for (const env of Object.keys(config.environments)) {
        for (const route of ['retag', 'rebuild', 'rerun'] as const) {
          for (const allowFallback of [false, true]) {
            const graph = buildGraph(config, examplePlan(config, { script, env, route }), { allowFallback, actionTaskId: niceSlugid() });
            for (const { label, task } of graph.tasks) {
              expect(checkTaskAgainstReference(validators, task, `${script}/${env}/${route}/${label}`)).toEqual([]);
              count++;
            }
          }
        }
      }
    }
    expect(count).toBe(13 * 2 * 2 * 4);
  });
});

describe("the project's schema narrows the published one", () => {
  const task = reference('queue/v1/task.json');
  const createTask = reference('queue/v1/create-task-request.json');
  const payload = reference('docker-worker/v1/payload.json');

  it('sets only fields the Queue accepts, and every field it requires', () => {
    for (const key of Object.keys(taskDefinitionSchema.properties)) expect(Object.keys(createTask.properties)).toContain(key);
    for (const key of createTask.required as string[]) expect(taskDefinitionSchema.required).toContain(key);
    expect(taskDefinitionSchema.additionalProperties).toBe(false);
  });

  it('uses the Queue patterns and limits for ids, queues and scopes', () => {
    expect(slugidPatternSource).toBe(task.properties.taskGroupId.pattern);
    expect(slugidPatternSource).toBe(task.properties.dependencies.items.pattern);
    expect(slugidPattern.source).toBe(task.properties.taskGroupId.pattern);
    expect(taskDefinitionSchema.properties.taskQueueId.pattern).toBe(task.properties.taskQueueId.pattern);
    expect(taskDefinitionSchema.properties.schedulerId.pattern).toBe(task.properties.schedulerId.pattern);
    expect(taskDefinitionSchema.properties.schedulerId.maxLength).toBe(task.properties.schedulerId.maxLength);
    expect(taskDefinitionSchema.properties.routes.maxItems).toBe(task.properties.routes.maxItems);
    expect(taskDefinitionSchema.properties.routes.items.maxLength).toBe(task.properties.routes.items.maxLength);
    expect(taskDefinitionSchema.properties.retries.maximum).toBe(task.properties.retries.maximum);
    for (const field of ['requires', 'priority'] as const) {
      for (const value of taskDefinitionSchema.properties[field].enum) expect(task.properties[field].enum).toContain(value);
    }
  });

  it('uses the docker-worker payload fields only', () => {
    for (const key of Object.keys(dockerWorkerPayloadSchema.properties)) expect(Object.keys(payload.properties)).toContain(key);
    for (const key of payload.required as string[]) expect(dockerWorkerPayloadSchema.required).toContain(key);
    for (const key of Object.keys(dockerWorkerPayloadSchema.properties.features.properties)) expect(Object.keys(payload.properties.features.properties)).toContain(key);
  });

  it('the config schema keeps worker pools the Queue accepts', () => {
    expect(configSchema.properties.taskcluster.properties.workerPool.pattern).toBe(task.properties.taskQueueId.pattern);
  });
});

describe('schemas/*.json', () => {
  it('are generated from the TypeScript constants (node scripts/write-schemas.js after a build)', () => {
    const read = (file: string): unknown => JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8'));
    expect(read('task.schema.json')).toEqual(taskDefinitionSchema);
    expect(read('actions.schema.json')).toEqual(actionsFileSchema);
  });
});
