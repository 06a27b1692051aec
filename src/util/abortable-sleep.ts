/**
 * Sleep `ms`, ending early (resolved, not rejected) when `signal` aborts, or at once when it has
 * already: a Ctrl-C between two polls is answered at once. Callers check `signal.aborted` after.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
