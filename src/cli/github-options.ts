/** How commands that talk to GitHub build the transport: timeouts and retry pacing from the environment. */
import type { GitHubTransportOptions } from '../github/transport.js';
import { positiveInteger, type Io } from './common.js';

export function githubTransport(io: Io, verbose: boolean): GitHubTransportOptions {
  // Checked as the registry's are (buildRuntime): "soon" is a usage error, not a network error.
  const timeoutMs = positiveInteger(io.env.TC_PROMOTE_HTTP_TIMEOUT_MS, 'TC_PROMOTE_HTTP_TIMEOUT_MS', 3_600_000);
  const baseDelayMs = positiveInteger(io.env.TC_PROMOTE_RETRY_BASE_MS, 'TC_PROMOTE_RETRY_BASE_MS', 60_000);
  return {
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(baseDelayMs !== undefined && { baseDelayMs }),
    ...(io.signal && { signal: io.signal }),
    onRetry: ({ attempt, delayMs, reason }) => {
      if (verbose) io.stderr(`retrying after ${reason} (attempt ${attempt}, waiting ${Math.round(delayMs)} ms)\n`);
    },
  };
}
