/** `tc-promote pools --clients clients.yml [--output FILE] [--check FILE]`: the worker pools per script and environment, from fxci-config. */
import { fs } from '../util/builtins.js';
import { loadConfig } from '../config/load.js';
import { ExitCode, UsageError } from '../errors.js';
import { poolsFromClients } from '../config/pools.js';
import { readInputFile } from '../util/read-file.js';
import { globalHelp, parseCommandArgs, printJson, type Io } from './common.js';

export const help = `Usage: tc-promote pools --clients FILE [--output FILE | --check FILE] [--json]

Reads fxci-config's clients.yml and lists, per configured script and environment, the worker
pools that run its image (every queue:claim-work:scriptworker-k8s/<trust domain>-<level>-<short>[-dev]
scope: <short>script is the script, -dev pools serve dev, the others production). rollback
watches these pools after the move (--no-verify skips it). The embedded list is
config/worker-pools.json, written by this command; CI checks it is current with --check.

Options:
  --clients FILE   fxci-config's clients.yml
  --output FILE    write the JSON there (default: print it)
  --check FILE     exit 1 when FILE differs from what clients.yml gives

Examples:
  tc-promote pools --clients ../fxci-config/clients.yml --output config/worker-pools.json
  tc-promote pools --clients ../fxci-config/clients.yml --check config/worker-pools.json

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('pools', argv, { clients: { type: 'string' }, output: { type: 'string' }, check: { type: 'string' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (values.clients === undefined) throw new UsageError('--clients: missing; give fxci-config\'s clients.yml');
  if (values.output !== undefined && values.check !== undefined) throw new UsageError('--output and --check: give one');
  const { load } = await import('js-yaml');
  const config = loadConfig(values.config);
  const pools = poolsFromClients(load(readInputFile(values.clients, '--clients', 4 * 1024 * 1024)), config.scripts, 'fxci-config/clients.yml');
  const text = `${JSON.stringify(pools, null, 2)}\n`;
  if (values.check !== undefined) {
    const same = readInputFile(values.check, '--check') === text;
    io.stdout(same ? `${values.check}: current\n` : `${values.check}: differs from what ${values.clients} gives; tc-promote pools --clients ${values.clients} --output ${values.check}\n`);
    return same ? ExitCode.ok : ExitCode.operational;
  }
  if (values.output !== undefined) {
    fs.writeFileSync(values.output, text);
    io.stdout(`${values.output}: ${Object.keys(pools.pools).length} scripts, ${Object.values(pools.pools).flatMap((e) => Object.values(e)).flat().length} pools\n`);
  } else if (values.json) printJson(io, pools);
  else io.stdout(text);
  return ExitCode.ok;
}
