/**
 * Node's built-in modules that every command uses, loaded with require(). Imported as ES
 * modules, node:crypto, node:fs and node:util each build a namespace from every export, which
 * runs every lazy getter (webcrypto, fs.promises, …): 4–6 ms each of every CLI start on the
 * development machine, where require() returns the already-loaded module in ~0.1 ms.
 * (node:http is required the same way in registry/transport.ts, for the same reason.)
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const crypto = require('node:crypto') as typeof import('node:crypto');
export const fs = require('node:fs') as typeof import('node:fs');
export const util = require('node:util') as typeof import('node:util');
