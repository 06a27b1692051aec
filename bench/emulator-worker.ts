// The Taskcluster emulator in a worker thread, so that its request handling (schema
// validation of every createTask body) does not run on the submitting client's event loop,
// as a real Queue would not.
import { parentPort, workerData } from 'node:worker_threads';
import { submitterScopes } from '../test/support/clients.js';
import { startTaskclusterEmulator } from '../test/support/taskcluster-emulator.js';

// The bench client holds what `tc-promote grants` lists; the emulator checks its Hawk signature and scopes as the Queue would.
const emulator = await startTaskclusterEmulator({ latencyMs: (workerData as { latencyMs: number }).latencyMs, clients: { bench: { accessToken: 'bench', scopes: submitterScopes() } } });
parentPort!.postMessage({ rootUrl: emulator.rootUrl });
parentPort!.on('message', (message: { type: string }) => {
  if (message.type === 'count') parentPort!.postMessage({ created: emulator.callsOf('createTask').filter((c) => c.status === 200).length });
});
