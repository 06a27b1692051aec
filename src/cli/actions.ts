/** `tc-promote actions`: write actions.json with the promotion action, or merge it into one. */
import { loadConfig } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { buildAction, mergeAction, parseActionsFile, type DecisionInfo } from '../graph/actions.js';
import { taskgraphActionModule } from '../graph/taskgraph-module.js';
import { validateBranchName } from '../github/names.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { fs } from '../util/builtins.js';
import { writeFileError, writeFileWhole } from '../util/write-file.js';
import { readInputFile } from '../util/read-file.js';
import { globalHelp, parseCommandArgs, positiveInteger, type Io } from './common.js';

const { existsSync } = fs;

export const help = `Usage: tc-promote actions [--output FILE] [--merge FILE] [decision flags]
       tc-promote actions --taskgraph-module [--output FILE]

Writes public/actions.json (version 1) with one hook action, promote-image: hookGroupId
project-<trust domain>, hookId in-tree-action-<level>-release-promotion/<first 10 hex of the
sha256 of .taskcluster.yml>, a strict input schema, and a hookPayload in the shape
taskgraph-based repositories and the in-tree action hooks consume. With --merge, adds the
action to an existing actions.json (such as taskgraph's), replacing an older copy of it, and
writes the result back to that file unless --output says otherwise.

The decision values default to the environment of a decision task (TASK_ID and the
TC_PROMOTE_* variables the project's .taskcluster.yml sets).

A repository whose decision task runs taskgraph (Python, no Node) publishes the action through
taskgraph instead: --taskgraph-module writes a Python module that registers it with
taskgraph's register_callback_action (the same hookId, hookPayload and input schema), to be
imported by the repository's taskgraph register() (see consumers/README.md).

Options:
  --output FILE             where to write (default: the --merge file, else stdout)
  --merge FILE              an actions.json to add the action to
  --taskgraph-module        write the taskgraph registration of the action (Python) instead
  --taskcluster-yml FILE    the repository's .taskcluster.yml, hashed into the hookId (default ./.taskcluster.yml)
  --decision-task-id ID     the decision task (= its task group)   [$TASK_ID]
  --repository-url URL      the repository                         [$TC_PROMOTE_HEAD_REPOSITORY, else the configured GitHub repository]
  --base-repository-url URL                                        [$TC_PROMOTE_BASE_REPOSITORY]
  --revision SHA            the decided revision                   [$TC_PROMOTE_HEAD_REV]
  --base-revision SHA                                              [$TC_PROMOTE_BASE_REV]
  --branch B                the decided branch                     [$TC_PROMOTE_HEAD_REF, else the default branch]
  --owner EMAIL             who pushed                             [$TC_PROMOTE_OWNER]
  --level N                 the decision's level (1-3)             [$TC_PROMOTE_LEVEL, else the configuration's]

Examples:
  tc-promote actions --output /builds/worker/artifacts/actions.json --decision-task-id "$TASK_ID" --revision "$(git rev-parse HEAD)"
  tc-promote actions --merge artifacts/actions.json --decision-task-id "$TASK_ID" --revision "$HEAD_REV"
  tc-promote actions --taskgraph-module --config taskcluster/tc-promote.yml \\
    --output taskcluster/scriptworker_taskgraph/actions.py

${globalHelp}`;

const options = {
  output: { type: 'string' },
  merge: { type: 'string' },
  'taskcluster-yml': { type: 'string' },
  'decision-task-id': { type: 'string' },
  'repository-url': { type: 'string' },
  'base-repository-url': { type: 'string' },
  revision: { type: 'string' },
  'base-revision': { type: 'string' },
  branch: { type: 'string' },
  owner: { type: 'string' },
  level: { type: 'string' },
  'taskgraph-module': { type: 'boolean' },
} as const;

/** `https://host[:port]/owner/name[.git]`: the characters repository URLs have, nothing a shell or template acts on. */
function httpsUrl(text: string, field: string): string {
  if (!/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~-]+)+\/?$/.test(text)) throw new UsageError(`${field}: ${quote(text)} is not an https repository URL`);
  return text.replace(/\/+$/, '').replace(/\.git$/, '');
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('actions', argv, options, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  const config = loadConfig(values.config);
  if (values['taskgraph-module']) {
    const decisionFlags = (['merge', 'taskcluster-yml', 'decision-task-id', 'repository-url', 'base-repository-url', 'revision', 'base-revision', 'branch', 'owner', 'level'] as const).filter((f) => values[f] !== undefined);
    if (decisionFlags.length) throw new UsageError(`--taskgraph-module: takes no decision values (taskgraph fills them in), got --${decisionFlags.join(', --')}`);
    writeOutput(io, values.output, taskgraphActionModule(config), 'the taskgraph registration of promote-image');
    return 0;
  }
  const env = io.env;
  const tcymlPath = values['taskcluster-yml'] ?? '.taskcluster.yml';
  if (!existsSync(tcymlPath)) throw new UsageError(`--taskcluster-yml: ${quote(tcymlPath)} does not exist; the hookId names the hash of the repository's .taskcluster.yml`);
  const tcyml = readInputFile(tcymlPath, '--taskcluster-yml', 1024 * 1024);
  const decisionTaskId = values['decision-task-id'] ?? env.TASK_ID;
  if (decisionTaskId === undefined) throw new UsageError('--decision-task-id: missing; the action names its decision task (inside one TASK_ID is set): tc-promote actions --output actions.json --decision-task-id "$TASK_ID" --revision "$(git rev-parse HEAD)"');
  if (!isSlugid(decisionTaskId)) throw new UsageError(`--decision-task-id: ${quote(decisionTaskId)} is not a task id`);
  const revision = values.revision ?? env.TC_PROMOTE_HEAD_REV;
  if (revision === undefined) throw new UsageError('--revision: missing (or set TC_PROMOTE_HEAD_REV): the revision the decision task decided, e.g. --revision "$(git rev-parse HEAD)"');
  if (!/^[0-9a-f]{40}$/.test(revision)) throw new UsageError(`--revision: ${quote(revision)} is not a 40-hex revision`);
  const baseRevision = values['base-revision'] ?? env.TC_PROMOTE_BASE_REV;
  if (baseRevision !== undefined && !/^[0-9a-f]{40}$/.test(baseRevision)) throw new UsageError(`--base-revision: ${quote(baseRevision)} is not a 40-hex revision`);
  const level = positiveInteger(values.level ?? env.TC_PROMOTE_LEVEL, values.level !== undefined ? '--level' : 'TC_PROMOTE_LEVEL', 3) ?? config.taskcluster.level;
  const repositoryUrl = httpsUrl(values['repository-url'] ?? env.TC_PROMOTE_HEAD_REPOSITORY ?? `https://github.com/${config.github.repository}`, '--repository-url');
  const baseRepository = values['base-repository-url'] ?? env.TC_PROMOTE_BASE_REPOSITORY;
  const decision: DecisionInfo = {
    taskGroupId: decisionTaskId,
    repositoryUrl,
    ...(baseRepository !== undefined && { baseRepositoryUrl: httpsUrl(baseRepository, '--base-repository-url') }),
    level,
    revision,
    ...(baseRevision !== undefined && { baseRevision }),
    branch: validateBranchName((values.branch ?? env.TC_PROMOTE_HEAD_REF ?? config.github.defaultBranch).replace(/^refs\/heads\//, ''), values.branch !== undefined ? '--branch' : 'TC_PROMOTE_HEAD_REF'),
    owner: checkOwner(values.owner ?? env.TC_PROMOTE_OWNER ?? 'unknown', values.owner !== undefined ? '--owner' : 'TC_PROMOTE_OWNER'),
  };
  const existing = values.merge !== undefined ? parseActionsFile(parseJson(readInputFile(values.merge, '--merge'), values.merge), values.merge) : undefined;
  const file = mergeAction(existing, buildAction(config, decision, tcyml));
  const text = `${JSON.stringify(file, null, 2)}\n`;
  writeOutput(io, values.output ?? values.merge, text, `${file.actions.length} action(s)`);
  return 0;
}

function writeOutput(io: Io, output: string | undefined, text: string, what: string): void {
  if (output === undefined) return io.stdout(text);
  try {
    // Whole or not at all: a full disk must not cut the decision task's actions.json short.
    writeFileWhole(output, text);
  } catch (error) {
    throw writeFileError(output, '--output', error);
  }
  io.stderr(`wrote ${output}: ${what}\n`);
}

/** Who pushed: an email or a name, on one line. */
function checkOwner(text: string, field: string): string {
  if (text === '' || text.length > 255 || /[\u0000-\u001f\u007f]/.test(text)) throw new UsageError(`${field}: ${quote(text)} is not an owner (1 to 255 characters on one line)`);
  return text;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--merge: ${quote(source)} is not JSON: ${(error as Error).message}`);
  }
}
