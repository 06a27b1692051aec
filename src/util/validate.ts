/** JSON schema validation with ajv, and error messages that name the path and the value. */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import { quote } from '../errors.js';

// Created on first use: most runs use validators compiled ahead of time (util/precompiled.ts).
// ajv itself is required on first use too: importing it costs ~30 ms of every CLI start.
let ajv: AjvClass | undefined;

export function compileSchema<T>(schema: object): ValidateFunction<T> {
  if (!ajv) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajv = new Ajv({ allErrors: true, strict: false });
  }
  return ajv.compile<T>(schema);
}

/** Read the value at a JSON pointer, for quoting it in an error. */
export function valueAt(data: unknown, pointer: string): unknown {
  let current: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A JSON pointer for a message: keys come from the input, so they are escaped and shortened like values. */
function showPointer(pointer: string): string {
  return quote(pointer, 200).slice(1, -1);
}

export function describeSchemaErrors(source: string, errors: ErrorObject[] | null | undefined, data: unknown): string {
  const lines = (errors ?? []).map((error) => {
    const path = error.instancePath || '/';
    const detail = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      return `${source}: ${showPointer(`${error.instancePath}/${extra}`)}: is not a known property`;
    }
    if (error.keyword === 'required') {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return `${source}: ${showPointer(`${error.instancePath}/${missing}`)}: is required`;
    }
    if (error.keyword === 'propertyNames') {
      const name = (error.params as { propertyName?: string }).propertyName;
      return `${source}: ${showPointer(path)}: property name ${quote(name)} is invalid`;
    }
    const value = valueAt(data, error.instancePath);
    const shown = value === undefined || (typeof value === 'object' && value !== null) ? '' : ` (got ${quote(value)})`;
    return `${source}: ${showPointer(path)}: ${detail}${shown}`;
  });
  const unique = [...new Set(lines)];
  return unique.join('\n');
}
