/** `tc-promote grants [--script S] [--check [FILE]]`: every scope the graph's creator needs; which a scope set (or the caller's credentials) lacks. */
import { loadConfig, requireScript } from '../config/load.js';
import { ExitCode, UsageError } from '../errors.js';
import { createClients, resolveConnection, taskclusterError } from '../taskcluster-api/clients.js';
import { checkGrants, checkScopes, parseScopeList, requiredGrants, type GrantsCheck, type RequiredScope } from '../taskcluster/grants.js';
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

Then the in-flight entry that rollback, promote and the action task write once the graph
exists, so that follow <script>, cancel <script> and status find the promotion:
index:insert-task:<trust domain>.v2.<project>.in-flight.* (the action role needs it too; a
convenience, not a gate: without it the promotion goes on and is found by its task group).

Then what a person's credentials need beyond the graph's: to hold and release (rollback's
default hold, tc-promote hold and release) index:insert-task:<trust domain>.v2.<project>.hold.
<script>.<env> for each configured script and environment (a release writes the entry again,
held: false; no delete); the in-flight entry; and to cancel (tc-promote cancel) the Queue's
cancelTask scope queue:cancel-task:<schedulerId>/<taskGroupId>/<taskId> for the graphs'
scheduler, listed as queue:cancel-task:<schedulerId>/* (queue:cancel-task-in-project:<projectId>
satisfies it too). The action task holds and cancels nothing: a role file is checked against
the graph's scopes and the in-flight entry, and told (not counted) what a person would lack;
your own credentials (a bare --check) are checked against all.

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
  const inFlightCheck = given && checkScopes(grants.inFlight, given);
  const holdCheck = given && checkScopes(grants.hold, given);
  const cancelCheck = given && checkScopes(grants.cancel, given);
  // A person (their own credentials) holds, releases and cancels; a role file is the action task's, which does neither.
  const personCounts = values.check === '';
  if (values.json) {
    printJson(io, {
      count: grants.scopes.length,
      scopes: grants.scopes,
      expression: grants.expression,
      inFlight: grants.inFlight,
      hold: grants.hold,
      cancel: grants.cancel,
      ...(check && {
        satisfied: check.satisfied && inFlightCheck!.satisfied && (!personCounts || (holdCheck!.satisfied && cancelCheck!.satisfied)),
        missing: check.missing,
        inFlightMissing: inFlightCheck!.missing,
        holdMissing: holdCheck!.missing,
        cancelMissing: cancelCheck!.missing,
      }),
    });
  } else if (check) {
    if (check.satisfied) io.stdout(`ok: the ${given!.length} ${values.check === '' ? `scopes of ${checked}` : 'given scopes'} satisfy all ${grants.scopes.length} required scopes\n`);
    else {
      io.stdout(`${check.missing.length} of ${grants.scopes.length} required scopes are not satisfied by ${checked}:\n`);
      io.stdout(scopeTable(check.missing, io.width));
    }
    const notCounted = personCounts ? '' : ' (the action task holds and cancels nothing: not counted in the exit code)';
    const part = (label: string, result: GrantsCheck, all: readonly RequiredScope[], ok: string, what: string, counted: string, consequence: string): string =>
      result.satisfied ? `${label}: ${checked} ${ok}\n` : `${label}: ${result.missing.length} of ${all.length} ${what} are not satisfied by ${checked}${counted}; ${consequence}:\n${scopeTable(result.missing, io.width)}`;
    io.stdout(part('in-flight', inFlightCheck!, grants.inFlight, 'can write the in-flight entries', 'in-flight entry scopes', '', 'the promotion still goes on, but follow <script>, cancel <script> and status do not find it (follow <task group> does)'));
    io.stdout(part('hold', holdCheck!, grants.hold, `can hold and release all ${grants.hold.length} configured environments`, 'hold scopes', notCounted, 'rollback then needs --no-hold, and hold and release are refused'));
    io.stdout(part('cancel', cancelCheck!, grants.cancel, "can cancel the promotions' tasks", 'cancel scopes', notCounted, 'tc-promote cancel is then refused by the Queue'));
  } else {
    io.stdout(scopeTable(grants.scopes, io.width));
    io.stdout(`${grants.scopes.length} scopes for ${grants.graphs} graphs (${config.scripts.length} ${config.scripts.length === 1 ? 'script' : 'scripts'} × ${Object.keys(config.environments).length} environments × every route)\n`);
    io.stdout(`\nthe in-flight entry (the action task's role and a person: follow <script>, cancel <script> and status find the promotion by it):\n`);
    io.stdout(scopeTable(grants.inFlight, io.width));
    io.stdout(`\na person's credentials also (rollback's default hold, tc-promote hold and release; the in-flight entry; tc-promote cancel):\n`);
    io.stdout(scopeTable([...grants.hold, ...grants.inFlight, ...grants.cancel], io.width));
  }
  const failed = (check && !check.satisfied) || (inFlightCheck && !inFlightCheck.satisfied) || (personCounts && ((holdCheck && !holdCheck.satisfied) || (cancelCheck && !cancelCheck.satisfied)));
  return failed ? ExitCode.operational : ExitCode.ok;
}

function describe(entry: { reason: string; anyOf?: string[] }): string {
  if (entry.reason === 'hold') return 'hold (index entry)';
  if (entry.reason === 'in-flight') return 'in-flight (index entry)';
  if (entry.reason === 'cancel') return `cancel (or ${entry.anyOf?.slice(1).join(' or ') ?? 'its project'})`;
  return entry.anyOf && entry.anyOf.length > 1 ? `${entry.reason} (or a higher priority)` : entry.reason;
}

/** SCOPE, WHY, TASKS in the table's header style; narrower than the table, each scope whole on its line (to paste into a role) and what it is for under it. */
function scopeTable(scopes: readonly { scope: string; reason: string; anyOf?: string[]; kinds: readonly string[] }[], width = 120): string {
  const text = table(['SCOPE', 'WHY', 'TASKS'], scopes.map((s) => [s.scope, describe(s), s.kinds.join(', ')]));
  if (text.split('\n').every((line) => line.length <= width)) return `${text}\n`;
  return `${scopes.map((s) => `${s.scope}\n    ${describe(s)}; tasks: ${s.kinds.join(', ')}\n`).join('')}`;
}
