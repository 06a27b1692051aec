/** The GitHub transport for a command: its retries told on stderr when verbose. */
import type { GitHubTransportOptions } from '../github/transport.js';
import { githubTransport as transportFrom } from '../operations/github.js';
import type { Io } from './common.js';

export function githubTransport(io: Io, verbose: boolean): GitHubTransportOptions {
  return transportFrom({ env: io.env, ...(io.signal && { signal: io.signal }), onProgress: (message) => verbose && io.stderr(`${message}\n`) });
}
