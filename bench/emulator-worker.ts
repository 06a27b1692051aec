// The Taskcluster emulator in a worker thread, so that its request handling (schema
// validation of every createTask body) does not run on the submitting client's event loop,
// as a real Queue would not.
import { parentPort, workerData } from 'node:worker_threads';
import { startTaskclusterEmulator } from '../test/support/taskcluster-emulator.js';
import { repoRoot } from './common.js';

// The built tool (dist/), as the other benchmarks load it.
const { loadConfig } = (await import(`${repoRoot}dist/config/load.js`)) as typeof import('../src/config/load.js');
const { requiredGrants } = (await import(`${repoRoot}dist/taskcluster/grants.js`)) as typeof import('../src/taskcluster/grants.js');
const submitterScopes = (): string[] => requiredGrants(loadConfig()).scopes.map((entry) => entry.scope);

// The bench client holds what `tc-promote grants` lists; the emulator checks its Hawk signature and scopes as the Queue would.
const emulator = await startTaskclusterEmulator({ latencyMs: (workerData as { latencyMs: number }).latencyMs, clients: { bench: { accessToken: 'bench', scopes: submitterScopes() } } });
parentPort!.postMessage({ rootUrl: emulator.rootUrl });
parentPort!.on('message', (message: { type: string }) => {
  if (message.type === 'count') parentPort!.postMessage({ created: emulator.callsOf('createTask').filter((c) => c.status === 200).length });
});
