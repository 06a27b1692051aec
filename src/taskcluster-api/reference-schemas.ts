/**
 * Taskcluster's published schemas, fetched from a deployment (`<rootUrl>/schemas/...`) or
 * read from a directory with the same layout, compiled with ajv. `validate --root-url`
 * checks rendered tasks and actions.json against them; the test emulator validates
 * createTask bodies with them. Their `$id`s are root-relative (`/schemas/queue/v1/…`), so
 * every `$ref` resolves to a path that the same fetcher can serve.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv, type AnySchemaObject, type ValidateFunction } from 'ajv';
import { RemoteError, UsageError, quote } from '../errors.js';
import { describeSchemaErrors } from '../util/validate.js';

/** Fetch one schema by its root-relative path, e.g. `/schemas/queue/v1/task.json`. */
export type SchemaFetcher = (schemaPath: string) => Promise<AnySchemaObject>;

export const referenceSchemaPaths = {
  createTask: '/schemas/queue/v1/create-task-request.json',
  dockerWorkerPayload: '/schemas/docker-worker/v1/payload.json',
  actions: '/schemas/common/action-schema-v1.json',
  triggerHook: '/schemas/hooks/v1/trigger-hook.json',
} as const;

export type ReferenceSchemaName = keyof typeof referenceSchemaPaths;

/** Returns the problems (one line each, naming the path and value), empty when valid. */
export type Check = (data: unknown, source?: string) => string[];

export type ReferenceValidators = Record<ReferenceSchemaName, Check>;

const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function referenceAjv(loadSchema: SchemaFetcher): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, loadSchema: (uri) => loadSchema(stripFragment(uri)) });
  // The published schemas declare draft-06 (directly or through /schemas/common/metaschema.json).
  ajv.addMetaSchema(createRequire(import.meta.url)('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => dateTime.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('uri', { type: 'string', validate: (s: string) => URL.canParse(s) });
  ajv.addFormat('regex', {
    type: 'string',
    validate: (s: string) => {
      try {
        new RegExp(s, 'u');
        return true;
      } catch {
        return false;
      }
    },
  });
  return ajv;
}

function stripFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash >= 0 ? uri.slice(0, hash) : uri;
}

export function toCheck(validate: ValidateFunction, defaultSource: string): Check {
  return (data, source = defaultSource) => (validate(data) ? [] : describeSchemaErrors(source, validate.errors, data).split('\n'));
}

export async function loadReferenceValidators(fetchSchema: SchemaFetcher): Promise<ReferenceValidators> {
  const cache = new Map<string, Promise<AnySchemaObject>>();
  const cached: SchemaFetcher = (p) => {
    let hit = cache.get(p);
    if (!hit) cache.set(p, (hit = fetchSchema(p)));
    return hit;
  };
  const ajv = referenceAjv(cached);
  const entries = await Promise.all(
    (Object.entries(referenceSchemaPaths) as [ReferenceSchemaName, string][]).map(async ([name, schemaPath]) => {
      const validate = await ajv.compileAsync(await cached(schemaPath));
      return [name, toCheck(validate, schemaPath)] as const;
    }),
  );
  return Object.fromEntries(entries) as ReferenceValidators;
}

/** Schemas as a live deployment serves them. */
export function fetchFromRootUrl(rootUrl: string, fetchImpl: typeof fetch = fetch): SchemaFetcher {
  const base = rootUrl.replace(/\/+$/, '');
  return async (schemaPath) => {
    const url = `${base}${schemaPath}`;
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new RemoteError(`--root-url: cannot fetch ${url}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new RemoteError(`--root-url: ${url} answered ${response.status} ${response.statusText}`);
    try {
      return (await response.json()) as AnySchemaObject;
    } catch {
      throw new RemoteError(`--root-url: ${url} is not JSON`);
    }
  };
}

/** Schemas from a directory laid out like `<rootUrl>/schemas` (`<dir>/queue/v1/…`). */
export function readFromDirectory(schemasDir: string): SchemaFetcher {
  return async (schemaPath) => {
    if (!schemaPath.startsWith('/schemas/') || schemaPath.includes('..')) throw new UsageError(`schema reference ${quote(schemaPath)} is outside /schemas/`);
    const file = path.join(schemasDir, schemaPath.slice('/schemas/'.length));
    return JSON.parse(await readFile(file, 'utf8')) as AnySchemaObject;
  };
}

/** A task is a createTask body whose payload is a docker-worker payload. */
export function checkTaskAgainstReference(validators: ReferenceValidators, task: unknown, source: string): string[] {
  const payload = task !== null && typeof task === 'object' ? (task as { payload?: unknown }).payload : undefined;
  return [...validators.createTask(task, source), ...validators.dockerWorkerPayload(payload, `${source}: /payload`)];
}
