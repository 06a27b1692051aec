/**
 * Rendering a repository's `.taskcluster.yml` the way Taskcluster does: the GitHub service
 * for pushes and pull requests, and the in-tree action hooks for actions (the hook's task
 * template wraps the file's first task in a `$let` that maps the hook payload to
 * `tasks_for: action`, `action`, `push`, `repository`, `input`, `parameters`, `taskId`,
 * `taskGroupId` and `ownTaskId`, exactly as fxci-config's in_tree_actions.py make_hook
 * writes it; test/consumers/patches.test.ts holds it against the generated hook). `validate` uses it on the project's own file; tests use it on the
 * first consumer's.
 */
import jsone from 'json-e';
import { loadYaml } from '../util/yaml.js';
import { UsageError } from '../errors.js';
import { niceSlugid } from '../taskcluster-api/slugid.js';
import { actionPermission } from './actions.js';

export interface TaskclusterYml {
  version: 1;
  tasks: unknown[];
  [key: string]: unknown;
}

export function parseTaskclusterYml(text: string, source: string): TaskclusterYml {
  let data: unknown;
  try {
    data = loadYaml(text);
  } catch (error) {
    throw new UsageError(`${source}: ${(error as Error).message}`);
  }
  const doc = data as Partial<TaskclusterYml> | null;
  if (!doc || typeof doc !== 'object' || doc.version !== 1) throw new UsageError(`${source}: /version: must be 1`);
  if (!Array.isArray(doc.tasks) || doc.tasks.length === 0) throw new UsageError(`${source}: /tasks: must be a non-empty list`);
  return doc as TaskclusterYml;
}

/** Render with json-e; json-e errors name where in the file they arose. */
export function renderJsone(template: unknown, context: Record<string, unknown>, source: string): unknown {
  try {
    return jsone(template as Record<string, unknown>, context);
  } catch (error) {
    const e = error as Error & { location?: unknown[] };
    const where = Array.isArray(e.location) && e.location.length ? `template${e.location.join('')}` : 'template';
    throw new UsageError(`${source}: ${where}: ${e.name}: ${e.message}`);
  }
}

/** The GitHub service's context: one slugid per name, stable within a rendering. */
function asSlugid(): (name: string) => string {
  const ids = new Map<string, string>();
  return (name) => {
    let id = ids.get(name);
    if (!id) ids.set(name, (id = niceSlugid()));
    return id;
  };
}

/** Render for a GitHub event; the tasks as the service would create them (without `taskId`). */
export function renderForGithub(tcyml: TaskclusterYml, tasksFor: 'github-push' | 'github-pull-request', event: Record<string, unknown>, source: string, now = new Date().toISOString()): { taskId: string; task: Record<string, unknown> }[] {
  const rendered = renderJsone({ tasks: tcyml.tasks }, { tasks_for: tasksFor, event, as_slugid: asSlugid(), now }, source) as { tasks: unknown[] };
  return (rendered.tasks ?? []).map((task, i) => {
    const { taskId, ...body } = task as Record<string, unknown>;
    if (typeof taskId !== 'string') throw new UsageError(`${source}: /tasks/${i}/taskId: the GitHub service needs a taskId for each task`);
    return { taskId, task: body };
  });
}

export interface InTreeHookOptions {
  /** The action permission the hook is for (default `release-promotion`). */
  actionPermission?: string;
}

/**
 * The task template of an in-tree action hook: `.taskcluster.yml`'s first task, with the
 * hook payload mapped into the context the file expects for `tasks_for == "action"`.
 */
export function inTreeActionHookTemplate(tcyml: TaskclusterYml, options: InTreeHookOptions = {}): Record<string, unknown> {
  const permission = options.actionPermission ?? actionPermission;
  return {
    $let: {
      tasks_for: 'action',
      action: {
        name: '${payload.decision.action.name}',
        title: '${payload.decision.action.title}',
        description: '${payload.decision.action.description}',
        taskGroupId: '${payload.decision.action.taskGroupId}',
        symbol: '${payload.decision.action.symbol}',
        cb_name: '${payload.decision.action.cb_name}',
        // `https://` is 8 characters: the repository without its scheme.
        repo_scope: `assume:repo:\${payload.decision.repository.url[8:]}:action:${permission}`,
        action_perm: permission,
      },
      push: { $eval: 'payload.decision.push' },
      repository: { $eval: 'payload.decision.repository' },
      input: { $eval: 'payload.user.input' },
      // The decision task's parameters, when the payload carries them (fxci-config make_hook).
      parameters: { $eval: "payload.decision['parameters']" },
      taskId: { $eval: 'payload.user.taskId' },
      taskGroupId: { $eval: 'payload.user.taskGroupId' },
      // The hooks service names the task it will create.
      ownTaskId: { $eval: 'taskId' },
    },
    in: tcyml.tasks[0],
  };
}

/** Render a hook's task template with `{firedBy, taskId, payload, now}` (no defaults filled in). */
export function renderHookTask(template: unknown, payload: unknown, taskId: string, source: string, now = new Date().toISOString()): Record<string, unknown> | null {
  const task = renderJsone(template, { firedBy: 'triggerHook', taskId, payload, now }, source);
  return task === null || task === undefined ? null : (task as Record<string, unknown>);
}

/**
 * The task a hook creates, as the hooks service builds it (services/hooks/src/taskcreator.js
 * `taskForHook`): the template rendered with the trigger's context (`firedBy`, `payload`,
 * `clientId`) plus `now` and `taskId`, then `created` (now), `deadline` (now + 1 day),
 * `expires` (now + 1 month) and `taskGroupId` (the new task id) where the rendered task lacks
 * them. Null when the template renders nothing (the hook declines).
 */
export function fireHookTask(template: unknown, context: { firedBy: string; payload: unknown; clientId?: string }, taskId: string, now: Date, source = 'hook'): Record<string, unknown> | null {
  const rendered = renderJsone(template, { ...context, now: now.toISOString(), taskId }, source);
  if (!rendered) return null;
  const task = rendered as Record<string, unknown>;
  const later = (offset: string): string => jsone({ $fromNow: offset, from: now.toISOString() }, {}) as unknown as string;
  if (!task.created) task.created = now.toISOString();
  if (!task.deadline) task.deadline = later('1 day');
  if (!task.expires) task.expires = later('1 month');
  if (!task.taskGroupId) task.taskGroupId = taskId;
  return task;
}
