// The emulator's index listings, through real taskcluster-client instances: the documented
// shapes (list-tasks-at-index.json in, list-tasks-response.json and
// list-namespaces-response.json out, from ../shared/reference), pagination at most 1000 a
// page, and the semantics of services/index (findTasksAtIndex answers 0 or 1 task per index
// path; listTasks and listNamespaces list what is immediately under a namespace).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { referenceDir, startTaskclusterEmulator, type TaskclusterEmulator } from './taskcluster-emulator.js';

let tc: TaskclusterEmulator;
const ids = [niceSlugid(), niceSlugid(), niceSlugid()];
const ns = 'scriptworker.v2.scriptworker-scripts.promotion.signingscript.production';
const index = () => new taskcluster.Index({ rootUrl: tc.rootUrl, credentials: {} });

function schema(file: string): (data: unknown) => boolean {
  const s = JSON.parse(readFileSync(path.join(referenceDir, 'schemas', 'index', 'v1', file), 'utf8'));
  delete s.$schema;
  return new Ajv({ strict: false }).compile(s) as (data: unknown) => boolean;
}

beforeAll(async () => {
  tc = await startTaskclusterEmulator();
  const routes = [[`index.${ns}.latest`, `index.${ns}.2021.05.21.20210521120000`], [`index.${ns}.2021.05.22.20210522000000`], [`index.${ns}.2021.06.01.20210601000000`, `index.${ns}.latest`]];
  ids.forEach((id, i) =>
    tc.insertTask(id, { taskGroupId: id, schedulerId: 's', taskQueueId: 'p/w', created: '2021-05-21T00:00:00.000Z', deadline: '2021-05-22T00:00:00.000Z', expires: '2030-01-01T00:00:00.000Z', routes: routes[i]!, payload: {}, metadata: { name: 'n', description: '', owner: 'o@x.y', source: 'https://x.y' } }, 'completed'),
  );
  tc.putArtifact(ids[0]!, 'public/promotion.json', '{"reason":"r"}');
});
afterAll(async () => tc?.close());

describe('emulator: index listings', () => {
  it('findTasksAtIndex: 0 or 1 task per path, in the documented shape, paginated', async () => {
    const paths = [`${ns}.2021.05.21.20210521120000`, `${ns}.2021.05.23.20210523000000`, `${ns}.latest`, `${ns}.2021.06.01.20210601000000`];
    const all = await index().findTasksAtIndex({ indexes: paths });
    expect(schema('list-tasks-response.json')(all)).toBe(true);
    expect(all.tasks.map((t) => [t.namespace, t.taskId])).toEqual([
      [paths[0], ids[0]],
      [paths[2], ids[2]],
      [paths[3], ids[2]],
    ]);
    const first = await index().findTasksAtIndex({ indexes: paths }, { limit: 2 });
    expect(first.tasks).toHaveLength(2);
    const rest = await index().findTasksAtIndex({ indexes: paths }, { limit: 2, continuationToken: first.continuationToken! });
    expect([...first.tasks, ...rest.tasks]).toEqual(all.tasks);
    expect(rest.continuationToken).toBeUndefined();
  });

  it('refuses input that breaks the published request schema, and a limit over 1000', async () => {
    await expect(index().findTasksAtIndex({ indexes: 'x' } as never)).rejects.toMatchObject({ statusCode: 400, code: 'InputValidationError' });
    await expect(index().findTasksAtIndex({ indexes: [], extra: 1 } as never)).rejects.toMatchObject({ statusCode: 400 });
    await expect(index().findTasksAtIndex({ indexes: [] }, { limit: 1001 })).rejects.toMatchObject({ statusCode: 400 });
    expect(schema('list-tasks-at-index.json')({ indexes: 'x' })).toBe(false);
  });

  it('listTasks and listNamespaces list what is immediately under a namespace', async () => {
    const i = index() as unknown as { listTasks(ns: string, q?: object): Promise<{ tasks: { namespace: string }[] }>; listNamespaces(ns: string, q?: object): Promise<{ namespaces: { namespace: string; name: string }[]; continuationToken?: string }> };
    const tasks = await i.listTasks(ns);
    expect(schema('list-tasks-response.json')(tasks)).toBe(true);
    expect(tasks.tasks.map((t) => t.namespace)).toEqual([`${ns}.latest`]);
    const months = await i.listNamespaces(`${ns}.2021`);
    expect(schema('list-namespaces-response.json')(months)).toBe(true);
    expect(months.namespaces.map((n) => n.name)).toEqual(['05', '06']);
    const paged = await i.listNamespaces(`${ns}.2021`, { limit: 1 });
    expect(paged.namespaces.map((n) => n.name)).toEqual(['05']);
    expect(paged.continuationToken).toBeDefined();
    expect((await i.listTasks(`${ns}.2021.05.21`)).tasks.map((t) => t.namespace)).toEqual([`${ns}.2021.05.21.20210521120000`]);
  });

  it('findArtifactFromTask redirects to the indexed task artifact', async () => {
    const url = index().buildUrl((index() as unknown as { findArtifactFromTask: () => unknown }).findArtifactFromTask as never, `${ns}.2021.05.21.20210521120000`, 'public/promotion.json');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ reason: 'r' });
    expect((await fetch(index().buildUrl((index() as unknown as { findArtifactFromTask: () => unknown }).findArtifactFromTask as never, `${ns}.nothing`, 'public/x.json'))).status).toBe(404);
  });
});
