/** How commands that talk to GitHub build the transport: timeouts and retry pacing from the environment. */
import type { GitHubTransportOptions } from '../github/transport.js';
import type { Io } from './common.js';

export function githubTransport(io: Io, verbose: boolean): GitHubTransportOptions {
  return {
    ...(io.env.TC_PROMOTE_HTTP_TIMEOUT_MS !== undefined && { timeoutMs: Number(io.env.TC_PROMOTE_HTTP_TIMEOUT_MS) }),
    ...(io.env.TC_PROMOTE_RETRY_BASE_MS !== undefined && { baseDelayMs: Number(io.env.TC_PROMOTE_RETRY_BASE_MS) }),
    onRetry: ({ attempt, delayMs, reason }) => {
      if (verbose) io.stderr(`retrying after ${reason} (attempt ${attempt}, waiting ${Math.round(delayMs)} ms)\n`);
    },
  };
}
