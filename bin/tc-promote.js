#!/usr/bin/env node
// Cache compiled code between runs (Node >= 22.1): a release engineer's rollback should not
// wait for V8 to parse the same modules again.
import module from 'node:module';

module.enableCompileCache?.();
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
