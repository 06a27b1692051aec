/** `tc-promote grants [--check FILE]`: every scope the graph's creator needs; which a scope set lacks. */
import { loadConfig } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { checkGrants, parseScopeList, requiredGrants } from '../taskcluster/grants.js';
import { readInputFile } from '../util/read-file.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { table } from './table.js';

export const help = `Usage: tc-promote grants [--check FILE] [--json]

Lists every scope whoever creates a promotion graph needs (a person running submit, or the
action task through its role repo:github.com/<repository>:action:release-promotion), for every
configured script, environment and route, as the Queue's createTask asks for them: each
task's scopes, queue:route:<route> for each route, queue:create-task:project:<projectId>,
queue:scheduler-id:<schedulerId> and queue:create-task:<priority>:<worker pool> (a higher
priority's scope satisfies it too). Values that differ per graph (task ids, the revision, the
dated index route) end in *.

Options:
  --check FILE   a JSON or YAML list of scopes (or {"scopes": [...]}, what auth.expandScopes
                 answers), e.g. the role's expanded scopes plus the anonymous role's; prints the
                 required scopes it does not satisfy (taskcluster-lib-scopes decides) and
                 exits 1 when any is missing

Examples:
  tc-promote grants
  tc-promote grants --json
  # The action role's scopes as the auth service expands them (Firefox-CI lets anyone ask):
  curl -sSf -X POST -H 'content-type: application/json' \\
    -d '{"scopes": ["assume:repo:github.com/<repository>:action:release-promotion", "assume:anonymous"]}' \\
    "$TASKCLUSTER_ROOT_URL/api/auth/v1/scopes/expand" > role-scopes.json
  tc-promote grants --check role-scopes.json

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('grants', argv, { check: { type: 'string' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  const config = loadConfig(values.config);
  let given: string[] | undefined;
  if (values.check !== undefined) {
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
    if (check.satisfied) io.stdout(`ok: the ${given!.length} given scopes satisfy all ${grants.scopes.length} required scopes\n`);
    else {
      io.stdout(`${check.missing.length} of ${grants.scopes.length} required scopes are not satisfied by ${values.check}:\n`);
      io.stdout(`${table(['scope', 'why', 'tasks'], check.missing.map((s) => [s.scope, describe(s), s.kinds.join(', ')]))}\n`);
    }
  } else {
    io.stdout(`${table(['scope', 'why', 'tasks'], grants.scopes.map((s) => [s.scope, describe(s), s.kinds.join(', ')]))}\n`);
    io.stdout(`${grants.scopes.length} scopes for ${grants.graphs} graphs (${config.scripts.length} scripts × ${Object.keys(config.environments).length} environments × every route)\n`);
  }
  return check && !check.satisfied ? ExitCode.operational : ExitCode.ok;
}

function describe(entry: { reason: string; anyOf?: string[] }): string {
  return entry.anyOf && entry.anyOf.length > 1 ? `${entry.reason} (or a higher priority)` : entry.reason;
}
