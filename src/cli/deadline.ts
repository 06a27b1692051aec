/** The whole command's deadline, unless TC_PROMOTE_COMMAND_TIMEOUT_MS says otherwise: under a promote task's 30 minutes. */
export const defaultCommandTimeoutMs = 20 * 60_000;
