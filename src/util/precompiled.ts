/**
 * Validators for the project's own schemas, compiled ahead of time: `npm run build` writes
 * `dist/validators/<name>.cjs` (ajv standalone code) from the same schema constants, because
 * compiling a schema costs tens of milliseconds at every CLI start. The generated file
 * records a fingerprint of the schema it was made from; when it is missing (running from src/)
 * or stale (the schema changed since), the schema is compiled now instead.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { compileSchema } from './validate.js';


const require = createRequire(import.meta.url);

/** Where the build writes precompiled validators, relative to this module. */
export const precompiledDir = '../validators';

/**
 * A fingerprint of the schema's JSON that tells a stale validator from a fresh one: its length
 * and two 32-bit multiplicative hashes (cyrb53). Not a digest: nothing here is adversarial (the
 * build writes both sides), and a SHA-256 of a few KiB costs 2–9 ms of a cold start.
 */
export function schemaHash(schema: object): string {
  const text = JSON.stringify(schema);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${text.length}-${(h1 >>> 0).toString(16)}-${(h2 >>> 0).toString(16)}`;
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
