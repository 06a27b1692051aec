/**
 * `tc-promote drill [--script S] [--keep]`: a rollback rehearsed on this machine, with nothing
 * but Debian's docker-registry. The commands it runs are the real ones (history, plan, the
 * promote step, history again, status), run here against the local registry with --registry;
 * nothing in them knows it is a drill.
 */
import { loadConfig, requireScript } from '../config/load.js';
import { ExitCode, PromoteError, RemoteError, UsageError } from '../errors.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RegistryClient } from '../registry/client.js';
import { findOnPath, findRegistryBinary, installHint, startDrillRegistry, type DrillRegistry } from '../drill/registry.js';
import { seedDrill } from '../drill/seed.js';
import { fs } from '../util/builtins.js';
import { shellQuote } from '../util/shell.js';
import { globalHelp, parseCommandArgs, type CommandContext, type Io } from './common.js';

export const help = `Usage: tc-promote drill [--script S] [--keep]

Rehearses a rollback on this machine, offline, in a few seconds. It starts Debian's
docker-registry on a free loopback port with a temporary storage folder, seeds a realistic
history for every configured script (built with tc-promote's own registry client: blobs and
manifests uploaded directly, /app/version.json in the last layer as production images have
it), and for the script rehearsed (the three tag eras, a bad deploy rolled back by a branch
rebuild, dev ahead of production) runs and prints, as a release engineer would:

  tc-promote history S         the pushlog and the default rollback target
  tc-promote plan S            what a rollback would do, and why
  tc-promote copy …            the promote step the rollback's task runs (compare-and-swap,
                               archive tag, provenance)
  tc-promote history S         the rollback, recorded as the newest deploy
  tc-promote status            every script and environment

Then it stops the registry and removes everything it wrote (also on Ctrl-C). With --keep the
registry stays up and the drill prints how to use it and how to stop it. Taskcluster and
GitHub are never contacted.

Needs: docker-registry on PATH (${installHint}); TC_PROMOTE_DOCKER_REGISTRY names another binary.

Options:
  --script S   the script to rehearse (default signingscript)
  --keep       leave the registry running afterwards

Examples:
  tc-promote drill
  tc-promote drill --script beetmoverscript --keep

${globalHelp}`;

/** Variables that would lead a drill step to Taskcluster, GitHub or real registry credentials. */
const outside = /^(TASKCLUSTER_|GITHUB_|DOCKER_CONFIG$|TC_PROMOTE_NOW$)/;

export async function run(argv: string[], io: Io, context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('drill', argv, { script: { type: 'string' }, keep: { type: 'boolean' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError('drill: takes no arguments; --script S names the script');
  if (values.json) throw new UsageError('--json: the drill prints a rehearsal for people; tc-promote drill --keep leaves a registry the --json commands can read');
  for (const flag of ['registry', 'registry-secret', 'root-url', 'hub-api'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag}: the drill makes its own registry and talks to nothing else`);
  }
  const config = loadConfig(values.config);
  const script = requireScript(config, values.script ?? (config.scripts.includes('signingscript') ? 'signingscript' : config.scripts[0]), '--script');
  for (const env of ['production', 'dev']) {
    if (!Object.hasOwn(config.environments, env)) throw new UsageError(`drill: the configuration has no ${env} environment; the drill rehearses a production rollback with dev ahead (configured: ${Object.keys(config.environments).join(', ')})`);
  }
  const binary = findRegistryBinary(io.env);
  if (!binary) {
    throw new RemoteError(
      io.env.TC_PROMOTE_DOCKER_REGISTRY
        ? `TC_PROMOTE_DOCKER_REGISTRY: ${io.env.TC_PROMOTE_DOCKER_REGISTRY} is not an executable file`
        : `the drill needs Debian's docker-registry (the CNCF distribution registry), which is not on PATH; install it with: ${installHint}`,
    );
  }
  const started = Date.now();
  const keep = Boolean(values.keep);
  const registry = await startDrillRegistry(binary, { keep, env: io.env });
  // Ctrl-C (or a kill) stops the registry and removes its folder before the process ends.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = (signal: NodeJS.Signals): void => {
    registry.stop();
    io.stderr(`\ndrill: stopped by ${signal}; the registry and ${registry.dir} were removed\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  for (const s of signals) process.once(s, onSignal);
  let code: number = ExitCode.ok;
  try {
    code = await rehearse(context, io, registry, config, values.config, script, started);
  } catch (error) {
    if (!keep) registry.stop();
    throw error;
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
  }
  if (keep) {
    registry.keep();
    // Lines to paste: this configuration, and this tc-promote when none is on PATH (a clone's first run).
    const self = findOnPath('tc-promote', io.env) ? 'tc-promote' : shellQuote(fileURLToPath(new URL('../../bin/tc-promote', import.meta.url)));
    const global = `--registry ${registry.url}${values.config !== undefined ? ` --config ${shellQuote(path.resolve(values.config))}` : ''}`;
    io.stdout(
      [
        '',
        `The registry is still running (--keep): ${registry.url}, process ${registry.pid}, storage ${registry.dir}`,
        `  ${self} history ${script} ${global}`,
        `  ${self} plan ${script} ${global}`,
        `  ${self} status ${global}`,
        // Quoted: pasted, an unquoted folder with a space would remove another folder.
        `Stop it and remove its storage: kill ${registry.pid} && rm -rf ${shellQuote(registry.dir)}`,
        '',
      ].join('\n'),
    );
  } else {
    registry.stop();
    io.stdout(`\ndrill: done in ${((Date.now() - started) / 1000).toFixed(1)} s; the registry was stopped and ${registry.dir} removed (--keep leaves it running)\n`);
  }
  return code;
}

async function rehearse(context: CommandContext, io: Io, registry: DrillRegistry, config: ReturnType<typeof loadConfig>, configPath: string | undefined, script: string, started: number): Promise<number> {
  // The steps see an environment with no way out: no Taskcluster, no GitHub, no credentials.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(io.env).filter(([k]) => !outside.test(k)));
  const dockerConfig = `${registry.dir}/docker-config`;
  fs.mkdirSync(dockerConfig, { recursive: true });
  fs.writeFileSync(`${dockerConfig}/config.json`, '{"auths": {}}\n');
  env.DOCKER_CONFIG = dockerConfig;
  const global = ['--registry', registry.url, ...(configPath !== undefined ? ['--config', configPath] : [])];
  const nowMs = Date.now();
  const client = new RegistryClient({ plainHttpHosts: new Set([registry.host]), ...(io.signal && { signal: io.signal }), connections: 32 });
  const seeded = await seedDrill(client, registry.host, config, script, nowMs);
  io.stdout(
    [
      `drill: a rollback of ${script} in production, rehearsed on this machine (nothing leaves it)`,
      `  registry: docker-registry on ${registry.url}, process ${registry.pid}, storage ${registry.dir}`,
      `  seeded ${seeded.images} images and ${seeded.tags} tags in ${seeded.repositories} repositories in ${Date.now() - started} ms: ${script} has the three tag eras, a bad deploy rolled back by a branch rebuild, dev ahead of production`,
      '',
      '',
    ].join('\n'),
  );
  const step = async (argv: string[], capture = false): Promise<{ code: number; stdout: string }> => {
    let stdout = '';
    if (!capture) io.stdout(`$ tc-promote ${argv.map(shellQuote).join(' ')}\n`);
    const code = await context.run(argv, {
      stdout: (text) => (capture ? void (stdout += text) : io.stdout(text)),
      stderr: (text) => io.stderr(text),
      env,
      isTty: io.isTty,
      nested: true,
      ...(io.redactor && { redactor: io.redactor }),
    });
    if (!capture) io.stdout('\n');
    if (code !== 0 && !capture) throw new PromoteError(`the drill stopped: tc-promote ${argv.join(' ')} exited ${code}`, code as ExitCode);
    return { code, stdout };
  };
  await step(['history', script, '--limit', '12', ...global]);
  await step(['plan', script, ...global]);
  const planned = await step(['plan', script, '--json', ...global], true);
  if (planned.code !== 0) throw new PromoteError(`the drill stopped: tc-promote plan ${script} --json exited ${planned.code}`, planned.code as ExitCode);
  const plan = JSON.parse(planned.stdout) as { target: { source: string; digest?: string; revision: string | null }; destinations: string[]; movingDigest: string | null; movingTag: string; repository: string };
  if (!plan.target.digest || plan.target.revision === null) throw new RemoteError('the drill stopped: the plan has no image to retag');
  const prefix = config.environments.production!.archivePrefix;
  const stampNow = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const primary = `${plan.repository}:${plan.movingTag}`;
  io.stdout('# the promote step, as the rollback graph\'s promote task runs it:\n');
  await step(['copy', `${plan.target.source}@${plan.target.digest}`, primary, '--expect-current', plan.movingDigest ?? 'none', '--archive-tag', `${prefix}-${stampNow}-${plan.target.revision}`, ...global]);
  await step(['history', script, '--limit', '5', ...global]);
  await step(['status', ...global]);
  return ExitCode.ok;
}
