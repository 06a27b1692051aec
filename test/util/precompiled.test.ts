import { describe, expect, it } from 'vitest';
import { taskDefinitionSchema } from '../../src/taskcluster-api/task-schema.js';
import { validatorFor } from '../../src/util/precompiled.js';

// dist/ is built before the tests (npm test); its validators were written by scripts/write-schemas.js.
const dist = (await import(new URL('../../dist/util/precompiled.js', import.meta.url).href)) as typeof import('../../src/util/precompiled.js');

describe('precompiled validators', () => {
  it('the build loads the generated validator for an unchanged schema', () => {
    const validate = dist.validatorFor('task', taskDefinitionSchema) as { schemaHash?: string };
    expect(validate.schemaHash).toBe(dist.schemaHash(taskDefinitionSchema));
  });

  it('compiles the schema when it changed since the build, or when running from src/', () => {
    const changed = { ...taskDefinitionSchema, required: [...taskDefinitionSchema.required, 'projectId'] };
    const fresh = dist.validatorFor('task', changed) as ((data: unknown) => boolean) & { schemaHash?: string };
    expect(fresh.schemaHash).toBeUndefined();
    expect(fresh({})).toBe(false);
    expect((validatorFor('task', taskDefinitionSchema) as { schemaHash?: string }).schemaHash).toBeUndefined();
  });

  it('reports errors the same way either way', () => {
    const task = { priority: 'urgent' };
    const generated = dist.validatorFor('task', taskDefinitionSchema);
    const compiled = validatorFor('task', taskDefinitionSchema);
    generated(task);
    compiled(task);
    expect(generated.errors?.map((e) => [e.instancePath, e.keyword])).toEqual(compiled.errors?.map((e) => [e.instancePath, e.keyword]));
  });
});
