/** `tc-promote validate`: render and check every template, the actions.json and .taskcluster.yml. */
import { loadConfig } from '../config/load.js';
import { ExitCode, UsageError } from '../errors.js';
import { validateEverything } from '../graph/validate-all.js';
import { parseRootUrl } from '../taskcluster-api/clients.js';
import { fetchFromRootUrl, loadReferenceValidators } from '../taskcluster-api/reference-schemas.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';

export const help = `Usage: tc-promote validate [--root-url URL] [--templates DIR] [--taskcluster-yml FILE] [--json]

Loads the configuration (its schema errors name the file, path and value), renders every
template for every configured script, environment and route (retag with and without the
fallback force-push, rebuild, rerun) with synthetic plans, and checks each task against the
project's task schema and the Queue's rules (one schedulerId, dependencies first, deadline at
most 5 days after created, expires not before the deadline). Builds the actions.json and
renders the project's .taskcluster.yml for github-push, github-pull-request and the promotion
action (the hook payload wrapped as the in-tree action hooks do), checking ACTION_CALLBACK
and ACTION_INPUT. Every problem is printed as "template: script/env/route: path: message";
exit 2 when there is any. At level 3 it warns (exit 0) when taskcluster.image carries no digest,
and always when the action task runs another image than taskcluster.image.

Options:
  --root-url URL         also validate against that deployment's published schemas
                         (<URL>/schemas/queue/v1/create-task-request.json, docker-worker payload,
                         actions.json); only when given as a flag
  --templates DIR        the task templates (default: the installed taskcluster/)
  --taskcluster-yml FILE the configured repository's .taskcluster.yml (github.repository, pushed
                         to its default branch; its decision tasks are held to the published
                         schema only, with --root-url); default: tc-promote's own

Examples:
  tc-promote validate
  tc-promote validate --root-url https://firefox-ci-tc.services.mozilla.com
  tc-promote validate --config taskcluster/tc-promote.yml --taskcluster-yml .taskcluster.yml

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('validate', argv, { templates: { type: 'string' }, 'taskcluster-yml': { type: 'string' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError('validate: takes no arguments');
  const config = loadConfig(values.config);
  const rootUrl = values['root-url'] !== undefined ? parseRootUrl(values['root-url'], '--root-url') : undefined;
  const reference = rootUrl !== undefined ? await loadReferenceValidators(fetchFromRootUrl(rootUrl)) : undefined;
  const report = validateEverything(config, {
    nowMs: clock(io.env),
    ...(values.templates !== undefined && { templatesDir: values.templates }),
    ...(values['taskcluster-yml'] !== undefined && { taskclusterYmlPath: values['taskcluster-yml'] }),
    ...(reference && { reference }),
  });
  if (values.json) printJson(io, { ok: report.problems.length === 0, ...report, publishedSchemas: rootUrl ?? null });
  else {
    for (const warning of report.warnings) io.stderr(`warning: ${warning}\n`);
    for (const problem of report.problems) io.stdout(`${problem}\n`);
    const against = rootUrl ? ` and the published schemas of ${rootUrl}` : '';
    const summaryLine = `${report.tasks} tasks in ${report.graphs} graphs (${config.scripts.length} scripts × ${Object.keys(config.environments).length} environments × ${report.graphs / Math.max(1, config.scripts.length * Object.keys(config.environments).length)} variants: retag, retag with the fallback force-push, rebuild, rerun), actions.json, .taskcluster.yml (${report.taskclusterYml.join(', ') || 'none rendered'}) checked against the task schema${against}`;
    io.stdout(report.problems.length ? `${report.problems.length} problem(s); ${summaryLine}\n` : `ok: ${summaryLine}\n`);
  }
  return report.problems.length ? ExitCode.usage : ExitCode.ok;
}
