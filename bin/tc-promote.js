#!/usr/bin/env node
// Cache compiled code between runs (Node >= 22.1): a release engineer's rollback should not
// wait for V8 to parse the same modules again.
import module from 'node:module';

enableCompileCache();
endQuietlyWhenTheReaderGoes();
// --help and --version from the text the build wrote, before anything else is loaded.
const { fastOutput } = await import('../dist/cli/help-fast.js');
const fast = fastOutput(process.argv.slice(2));
if (fast !== undefined) {
  process.stdout.write(fast);
} else {
  await run();
}

async function run() {
  const { main, commandDeadlinePassed } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv.slice(2), undefined, { signals: true });
  // Past its deadline (or stopped by SIGINT/SIGTERM) a command may leave a request that ignores
  // the stop (a library's own socket): the process ends now rather than wait for it.
  if (commandDeadlinePassed()) process.exit(process.exitCode);
}

/**
 * Node's compile cache in its default folder, when that folder can be made: Node makes it with
 * mkdir -p, which spins forever at full CPU where mkdir answers ENOENT under a folder that
 * exists (a TMPDIR under /proc). One plain mkdir decides first; no cache is only slower.
 */
function enableCompileCache() {
  if (!module.enableCompileCache || process.env.NODE_COMPILE_CACHE !== undefined) return;
  const require = module.createRequire(import.meta.url);
  const dir = require('node:path').join(require('node:os').tmpdir(), 'node-compile-cache');
  try {
    require('node:fs').mkdirSync(dir);
  } catch (error) {
    if (error?.code !== 'EEXIST') return;
  }
  module.enableCompileCache(dir);
}

/**
 * `tc-promote history | head -3`: the reader closes the pipe and the next write fails with
 * EPIPE, which Node throws as an unhandled 'error' event (a stack trace). What is left to print
 * is dropped instead, quietly, and the command finishes what it started (a copy half-way is
 * never cut short by a closed pipe); its exit code is its own.
 */
function endQuietlyWhenTheReaderGoes() {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (error?.code !== 'EPIPE' && error?.code !== 'ERR_STREAM_DESTROYED') throw error;
      stream.write = (_chunk, encoding, callback) => {
        const done = typeof encoding === 'function' ? encoding : callback;
        if (typeof done === 'function') process.nextTick(done);
        return true;
      };
    });
  }
}
