/**
 * Validators for the project's own schemas, compiled ahead of time: `npm run build` writes
 * `dist/validators/<name>.cjs` (ajv standalone code) from the same schema constants, because
 * compiling a schema costs tens of milliseconds at every CLI start. The generated file
 * records a hash of the schema it was made from; when it is missing (running from src/) or
 * stale (the schema changed since), the schema is compiled now instead.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { sha256Hex } from './sha256.js';
import { compileSchema } from './validate.js';


const require = createRequire(import.meta.url);

/** Where the build writes precompiled validators, relative to this module. */
export const precompiledDir = '../validators';

export function schemaHash(schema: object): string {
  return sha256Hex(JSON.stringify(schema));
}

export function validatorFor<T>(name: string, schema: object): ValidateFunction<T> {
  try {
    const generated = require(`${precompiledDir}/${name}.cjs`) as ValidateFunction<T> & { schemaHash?: string };
    if (generated.schemaHash === schemaHash(schema)) return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
  }
  return compileSchema<T>(schema);
}
