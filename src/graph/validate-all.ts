/**
 * `validate`: render every template for every configured script, environment and route
 * with synthetic plans and check every task (the project's schema, the Queue's rules, and
 * Taskcluster's published schemas when given); check the actions.json and the project's
 * `.taskcluster.yml` for pushes, pull requests and the action. Problems are collected, not
 * thrown, as `where: script/env/route: path: message`.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/load.js';
import { PromoteError } from '../errors.js';
import { checkTaskAgainstReference, type ReferenceValidators } from '../taskcluster-api/reference-schemas.js';
import { niceSlugid } from '../taskcluster-api/slugid.js';
import { util } from '../util/builtins.js';
import { readInputFile } from '../util/read-file.js';
import { describeSchemaErrors } from '../util/validate.js';
import { buildAction, callbackName, mergeAction, parseActionsFile, validateActionInput, type ActionInput } from './actions.js';
import { buildGraph, InvalidTaskError, taskValidator, type TaskGraph } from './build.js';
import { everyCombination, syntheticRevision } from './offline-plan.js';
import { defaultTemplatesDir, displayPath, TemplateError } from './templates.js';
import { inTreeActionHookTemplate, parseTaskclusterYml, renderForGithub, renderHookTask, renderJsone, type TaskclusterYml } from './taskcluster-yml.js';

const { isDeepStrictEqual } = util;

export const projectRepositoryUrl = 'https://github.com/mozilla-releng/tc-promote';
export const defaultTaskclusterYmlPath = fileURLToPath(new URL('../../.taskcluster.yml', import.meta.url));

export interface ValidateOptions {
  templatesDir?: string;
  taskclusterYmlPath?: string;
  /** Taskcluster's published schemas (from `--root-url`). */
  reference?: ReferenceValidators;
  nowMs?: number;
}

export interface ValidationReport {
  problems: string[];
  /** Not wrong, but not what production wants (e.g. an image without a digest at level 3). */
  warnings: string[];
  graphs: number;
  tasks: number;
  /** Which `.taskcluster.yml` contexts rendered a task. */
  taskclusterYml: string[];
}


/** Collects problems; the same message from many combinations is reported once, with a count. */
class Problems {
  private readonly seen = new Map<string, { first: string; more: number }>();
  add(where: string, combination: string, message: string): void {
    const key = `${where}\u0000${message}`;
    const hit = this.seen.get(key);
    if (hit) hit.more++;
    else this.seen.set(key, { first: `${where}: ${combination ? `${combination}: ` : ''}${message}`, more: 0 });
  }
  list(): string[] {
    return [...this.seen.values()].map(({ first, more }) => (more ? `${first} (and ${more} more script/env/route)` : first));
  }
}

export function validateEverything(config: Config, options: ValidateOptions = {}): ValidationReport {
  const nowMs = options.nowMs ?? Date.now();
  const templatesDir = options.templatesDir ?? defaultTemplatesDir;
  const problems = new Problems();
  let graphs = 0;
  let tasks = 0;
  const checkGraph = (graph: TaskGraph, combination: string): void => {
    graphs++;
    for (const { label, task } of graph.tasks) {
      tasks++;
      if (options.reference) {
        for (const line of checkTaskAgainstReference(options.reference, task, '')) problems.add(`${label} (published schema)`, combination, line.replace(/^: /, ''));
      }
    }
  };
  for (const combination of everyCombination(config, nowMs)) {
    try {
      checkGraph(buildGraph(config, combination.plan(), { nowMs, allowFallback: combination.allowFallback, reason: 'validate', requester: 'validate', templatesDir, branchHead: combination.branchHead }), combination.name);
    } catch (error) {
      recordError(problems, error, combination.name);
    }
  }
  const warnings = imageWarnings(config);
  const tcyml = checkTaskclusterYml(config, options, problems, warnings, nowMs);
  return { problems: problems.list(), warnings, graphs, tasks, taskclusterYml: tcyml };
}

/**
 * At level 3 the tasks' image should be pinned by digest: a tag can be pushed again, so the
 * tasks that move production would run whatever the tag names then. An image cannot name its
 * own digest: the consumer's configuration pins it (consumers/scriptworker-scripts/tc-promote.yml).
 */
export function imageWarnings(config: Config): string[] {
  const { image, level } = config.taskcluster;
  if (level < 3) return [];
  const given = /@([^@]*)$/.exec(image)?.[1];
  if (given !== undefined && !/^sha256:[0-9a-f]{64}$/.test(given)) return [`taskcluster.image: ${JSON.stringify(image)}: ${JSON.stringify(`@${given}`)} is not a sha256 digest (64 hex); pin it as <image>:<version>@sha256:<digest> (the digest the release task publishes)`];
  const digest = given;
  if (digest === undefined) return [`taskcluster.image: ${JSON.stringify(image)} carries no digest; at level ${level} pin it as <image>:<version>@sha256:<digest> (the digest the release task publishes)`];
  if (/^sha256:0{64}$/.test(digest)) return [`taskcluster.image: ${JSON.stringify(image)} has the placeholder digest sha256:000…; put the digest the release task publishes`];
  return [];
}

function recordError(problems: Problems, error: unknown, combination: string): void {
  if (error instanceof InvalidTaskError) for (const p of error.problems) problems.add(error.where, combination, p);
  else if (error instanceof TemplateError) problems.add(error.file, combination, error.detail);
  else if (error instanceof PromoteError) problems.add('graph', combination, error.message);
  else throw error;
}

/** `own`: held to tc-promote's task schema too (a consumer's decision task need not be). */
function checkTask(problems: Problems, where: string, task: unknown, reference: ReferenceValidators | undefined, own = true): void {
  const validateTask = taskValidator();
  if (own && !validateTask(task)) {
    for (const line of describeSchemaErrors('', validateTask.errors, task).split('\n')) problems.add(where, '', line.replace(/^: /, ''));
  }
  if (reference) for (const line of checkTaskAgainstReference(reference, task, '')) problems.add(`${where} (published schema)`, '', line.replace(/^: /, ''));
}

/**
 * The actions.json, and `.taskcluster.yml` for github-push, github-pull-request and the action:
 * tc-promote's own by default; with `--taskcluster-yml`, the configured repository's
 * (`github.repository`, pushed to its default branch), whose decision tasks are held to the
 * published schema only. The action task must run tc-promote's callback in taskcluster.image.
 */
function checkTaskclusterYml(config: Config, options: ValidateOptions, problems: Problems, warnings: string[], nowMs: number): string[] {
  const file = options.taskclusterYmlPath ?? defaultTaskclusterYmlPath;
  const own = resolve(file) === defaultTaskclusterYmlPath;
  const repositoryUrl = own ? projectRepositoryUrl : `https://github.com/${config.github.repository}`;
  const [owner, name] = new URL(repositoryUrl).pathname.slice(1).split('/') as [string, string];
  const branch = own ? 'main' : config.github.defaultBranch;
  const where = displayPath(file);
  const rendered: string[] = [];
  let text: string;
  let tcyml: TaskclusterYml;
  try {
    text = readInputFile(file, '--taskcluster-yml', 1024 * 1024);
    tcyml = parseTaskclusterYml(text, where);
  } catch (error) {
    // The problem is listed under the file's name: its message does not repeat it.
    const message = error instanceof PromoteError ? error.message.replace(`${where}: `, '') : String(error);
    problems.add(where, '', message);
    return rendered;
  }
  const now = new Date(nowMs).toISOString();
  const repo = { html_url: repositoryUrl, clone_url: `${repositoryUrl}.git`, name, full_name: `${owner}/${name}` };
  const head = syntheticRevision('head');
  const base = syntheticRevision('base');
  const events = {
    'github-push': { ref: `refs/heads/${branch}`, before: base, after: head, repository: repo, pusher: { name: 'validate', email: 'validate@example.com' } },
    'github-pull-request': {
      action: 'opened',
      number: 1,
      pull_request: {
        number: 1,
        head: { ref: 'topic', sha: head, repo: { ...repo, html_url: `https://github.com/contributor/${name}` } },
        base: { ref: branch, sha: base, repo },
        user: { login: 'contributor' },
      },
    },
  } as const;
  for (const [tasksFor, event] of Object.entries(events) as [keyof typeof events, Record<string, unknown>][]) {
    try {
      const tasks = renderForGithub(tcyml, tasksFor, event, where, now);
      if (tasks.length === 0) problems.add(where, tasksFor, 'renders no task');
      for (const [i, { task }] of tasks.entries()) checkTask(problems, `${where}: ${tasksFor}: task ${i}`, task, options.reference, own);
      if (tasks.length) rendered.push(tasksFor);
    } catch (error) {
      problems.add(where, tasksFor, error instanceof PromoteError ? error.message : String(error));
    }
  }
  // actions.json as a decision task of this repository would publish it.
  const decisionTaskId = niceSlugid();
  const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl, level: config.taskcluster.level, revision: head, baseRevision: base, branch, owner: 'validate@example.com' }, text);
  try {
    const actionsFile = parseActionsFile(mergeAction(undefined, action), 'actions.json');
    if (options.reference) for (const line of options.reference.actions(actionsFile, 'actions.json (published schema)')) problems.add('actions.json', '', line);
  } catch (error) {
    problems.add('actions.json', '', (error as Error).message);
  }
  // The action: the UI renders hookPayload, the hook wraps .taskcluster.yml, the task runs the callback.
  const input: ActionInput = { script: config.scripts[0]!, environment: Object.keys(config.environments)[0]!, target: 'previous', route: 'auto', fallback: false, reason: 'validate' };
  try {
    validateActionInput(config, input, 'actions.json: example input');
    // The UI's context for an action of the task group: the decision task is the task.
    const payload = renderJsone(action.hookPayload, { taskGroupId: decisionTaskId, taskId: decisionTaskId, input }, 'actions.json: hookPayload');
    const actionTaskId = niceSlugid();
    const task = renderHookTask(inTreeActionHookTemplate(tcyml), payload, actionTaskId, `${where} (action hook)`, now);
    if (!task) problems.add(where, 'action', 'renders no task');
    else {
      checkTask(problems, `${where}: action`, task, options.reference, own);
      const taskPayload = (task.payload ?? {}) as { env?: Record<string, unknown>; image?: unknown };
      const env = taskPayload.env ?? {};
      // The action task plans with the tc-promote it runs; the tasks it creates run taskcluster.image.
      if (env.ACTION_CALLBACK === callbackName && taskPayload.image !== config.taskcluster.image) {
        warnings.push(`${where}: action: /payload/image: ${JSON.stringify(taskPayload.image)} is not taskcluster.image ${JSON.stringify(config.taskcluster.image)}: the action task and the tasks it creates would run different tc-promote images; pin the same reference in both`);
      }
      if (env.ACTION_CALLBACK !== callbackName) problems.add(where, 'action', `/payload/env/ACTION_CALLBACK: ${JSON.stringify(env.ACTION_CALLBACK)} is not the action's cb_name ${JSON.stringify(callbackName)}`);
      if (typeof env.ACTION_INPUT !== 'string' || !isDeepStrictEqual(JSON.parse(env.ACTION_INPUT), input)) problems.add(where, 'action', `/payload/env/ACTION_INPUT: ${JSON.stringify(env.ACTION_INPUT)} is not the action's input`);
      if (task.taskGroupId !== decisionTaskId) problems.add(where, 'action', `/taskGroupId: ${JSON.stringify(task.taskGroupId)} is not the decision's task group`);
      rendered.push('action');
    }
  } catch (error) {
    problems.add(where, 'action', error instanceof PromoteError ? error.message : String(error));
  }
  return rendered;
}
