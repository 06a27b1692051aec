/**
 * Node's built-in modules, loaded with require(). Imported as ES modules, node:crypto, node:fs,
 * node:util and node:http each build a namespace from every export, which runs every lazy
 * getter (webcrypto, fs.promises, http's WebSocket, which is Node's bundled undici): 4–30 ms
 * each of every CLI start on the development machine, where require() takes ~0.1 ms for a
 * module Node has already loaded. test/cli/startup.test.ts holds both rules below.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// What nearly every command uses.
export const fs = require('node:fs') as typeof import('node:fs');
export const util = require('node:util') as typeof import('node:util');
/** Loaded by Node itself before any module: free. */
export const { setMaxListeners } = require('node:events') as typeof import('node:events');

// Loaded on first use (require() caches them): registry commands need HTTP, only https
// registries need TLS, only compressed layers read for provenance need zlib, and only
// configurations naming a credential helper run a child process.
// Loaded on first use too: ~6 ms here, and small inputs are hashed without it (util/sha256.ts).
export const loadCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
export const loadHttp = (): typeof import('node:http') => require('node:http') as typeof import('node:http');
export const loadHttps = (): typeof import('node:https') => require('node:https') as typeof import('node:https');
export const loadZlib = (): typeof import('node:zlib') => require('node:zlib') as typeof import('node:zlib');
export const loadChildProcess = (): typeof import('node:child_process') => require('node:child_process') as typeof import('node:child_process');
