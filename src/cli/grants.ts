/** `tc-promote grants [--script S] [--check [FILE]]`: every scope the graph's creator needs; which a scope set (or the caller's credentials) lacks. */
import { loadConfig, requireScript } from '../config/load.js';
import { ExitCode, UsageError } from '../errors.js';
import { createClients, resolveConnection, taskclusterError } from '../taskcluster-api/clients.js';
import { checkGrants, parseScopeList, requiredGrants } from '../taskcluster/grants.js';
import { readInputFile } from '../util/read-file.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { table } from './table.js';

export const help = `Usage: tc-promote grants [--script S]… [--check [FILE]] [--json]

Lists every scope whoever creates a promotion graph needs (a person running submit, or the
action task through its role repo:github.com/<repository>:action:release-promotion), for every
configured script, environment and route, as the Queue's createTask asks for them: each
task's scopes, queue:route:<route> for each route, queue:create-task:project:<projectId>,
queue:scheduler-id:<schedulerId> and queue:create-task:<priority>:<worker pool> (a higher
priority's scope satisfies it too). Values that differ per graph (task ids, the revision, the
dated index route) end in *.

Options:
  --script S     only the graphs of this script (repeat for more; default every configured one)
  --check        without a file: your own credentials (TASKCLUSTER_CLIENT_ID and
                 TASKCLUSTER_ACCESS_TOKEN, or a task's proxy), as the auth service's
                 currentScopes answers for them; which required scopes they lack (exit 1), as
                 kubectl auth can-i answers before you try
  --check FILE   a JSON or YAML list of scopes (or {"scopes": [...]}, what auth.expandScopes
                 answers), e.g. the role's expanded scopes plus the anonymous role's; prints the
                 required scopes it does not satisfy (taskcluster-lib-scopes decides) and
                 exits 1 when any is missing

Examples:
  tc-promote grants
  tc-promote grants --script signingscript --json
  tc-promote grants --check                  # can I submit a promotion myself?
  # The action role's scopes as the auth service expands them (Firefox-CI lets anyone ask):
  curl -sSf -X POST -H 'content-type: application/json' \\
    -d '{"scopes": ["assume:repo:github.com/<repository>:action:release-promotion", "assume:anonymous"]}' \\
    "$TASKCLUSTER_ROOT_URL/api/auth/v1/scopes/expand" > role-scopes.json
  tc-promote grants --check role-scopes.json

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  // A bare --check (last, or before another flag) is the caller's own credentials.
  const args = argv.map((a, i) => (a === '--check' && (i === argv.length - 1 || argv[i + 1]!.startsWith('-')) ? '--check=' : a));
  const { values } = parseCommandArgs('grants', args, { check: { type: 'string' }, script: { type: 'string', multiple: true } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  const loaded = loadConfig(values.config);
  const config = values.script ? { ...loaded, scripts: [...new Set(values.script.map((s) => requireScript(loaded, s, '--script')))] } : loaded;
  let given: string[] | undefined;
  let checked = values.check;
  if (values.check === '') {
    const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
    if (!connection.credentials && !connection.viaProxy) {
      throw new UsageError(`--check: TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN are not set: without a file, --check checks your own credentials (or give --check FILE, a scope list)`);
    }
    const { auth } = await createClients(connection);
    try {
      given = (await auth.currentScopes()).scopes;
    } catch (error) {
      throw taskclusterError(error, `auth.currentScopes on ${connection.rootUrl}`);
    }
    checked = connection.credentials ? `the credentials of ${connection.credentials.clientId}` : "this task's credentials";
  } else if (values.check !== undefined) {
    const text = readInputFile(values.check, '--check', 1024 * 1024);
    // js-yaml only when a list is to be read: listing stays on the fast path.
    const { load } = await import('js-yaml');
    given = parseScopeList(text, `--check ${values.check}`, load);
  }
  const grants = requiredGrants(config, clock(io.env));
  const check = given && checkGrants(grants, given);
  if (values.json) {
    printJson(io, {
      count: grants.scopes.length,
      scopes: grants.scopes,
      expression: grants.expression,
      ...(check && { satisfied: check.satisfied, missing: check.missing }),
    });
  } else if (check) {
    if (check.satisfied) io.stdout(`ok: the ${given!.length} ${values.check === '' ? `scopes of ${checked}` : 'given scopes'} satisfy all ${grants.scopes.length} required scopes\n`);
    else {
      io.stdout(`${check.missing.length} of ${grants.scopes.length} required scopes are not satisfied by ${checked}:\n`);
      io.stdout(scopeTable(check.missing, io.width));
    }
  } else {
    io.stdout(scopeTable(grants.scopes, io.width));
    io.stdout(`${grants.scopes.length} scopes for ${grants.graphs} graphs (${config.scripts.length} ${config.scripts.length === 1 ? 'script' : 'scripts'} × ${Object.keys(config.environments).length} environments × every route)\n`);
  }
  return check && !check.satisfied ? ExitCode.operational : ExitCode.ok;
}

function describe(entry: { reason: string; anyOf?: string[] }): string {
  return entry.anyOf && entry.anyOf.length > 1 ? `${entry.reason} (or a higher priority)` : entry.reason;
}

/** SCOPE, WHY, TASKS in the table's header style; narrower than the table, each scope whole on its line (to paste into a role) and what it is for under it. */
function scopeTable(scopes: readonly { scope: string; reason: string; anyOf?: string[]; kinds: readonly string[] }[], width = 120): string {
  const text = table(['SCOPE', 'WHY', 'TASKS'], scopes.map((s) => [s.scope, describe(s), s.kinds.join(', ')]));
  if (text.split('\n').every((line) => line.length <= width)) return `${text}\n`;
  return `${scopes.map((s) => `${s.scope}\n    ${describe(s)}; tasks: ${s.kinds.join(', ')}\n`).join('')}`;
}
