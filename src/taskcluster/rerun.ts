/**
 * The rerun route: push a revision's image again with the task that pushed it the first
 * time. Finds the decision task of the revision through the index
 * (`<trust domain>.v2.<project>.revision.<sha>.taskgraph.decision`), lists its task group
 * (every page), picks the push task of the script for the environment, and
 *
 *   - reruns it (`queue.rerunTask`, a new run of the same task) while its deadline has not
 *     passed;
 *   - otherwise retriggers a clone: a new task id, the same definition and payload, with
 *     `created`, `deadline` and `expires` moved to now keeping their spacing, in the given
 *     task group (the promotion's group, when run inside it) or a new group of its own.
 *
 * Push tasks are recognised by their label (`tags.label`, else `metadata.name`, which
 * taskgraph sets to the label) in the forms scriptworker-scripts used over time:
 *
 *   push-image-<script>[-python<N>]   today (kind push-image, since 2023)
 *   k8s-image-<script>-python<N>      ci/k8s-image before it (built and pushed in one task;
 *                                     the label is <kind>-<name>-python<N>, the revision in
 *                                     SCRIPTWORKER_HEAD_REV, the script in PROJECT_NAME)
 *
 * and, when the payload says so, only a task that pushes (`PUSH_DOCKER_IMAGE` not `0`) the
 * environment's moving tag (`DOCKER_TAG`) for this script (`APP` / `PROJECT_NAME`) and
 * revision (`VCS_HEAD_REV` / `SCRIPTWORKER_HEAD_REV`). (`<script>-k8s-image-builder` was the
 * k8s-image task's description, never a label.)
 */
import type { Index, ListTaskGroupResponse, Queue, TaskStatus } from 'taskcluster-client';
import { requireEnvironment, requireScript, type Config } from '../config/load.js';
import { ConflictError, NotFoundError, RemoteError, UsageError, quote } from '../errors.js';
import { validateRevision } from '../github/names.js';
import { taskclusterError } from '../taskcluster-api/clients.js';
import { isSlugid, niceSlugid } from '../taskcluster-api/slugid.js';

export type PushTaskForm = 'push-image' | 'k8s-image';

interface FormSpec {
  form: PushTaskForm;
  label: (script: string) => RegExp;
  /** Payload env naming the script and the revision, in that era. */
  scriptEnv: string;
  revisionEnv: string;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const pushTaskForms: readonly FormSpec[] = [
  { form: 'push-image', label: (s) => new RegExp(`^push-image-${escape(s)}(?:-python\\d+)?$`), scriptEnv: 'APP', revisionEnv: 'VCS_HEAD_REV' },
  { form: 'k8s-image', label: (s) => new RegExp(`^k8s-image-${escape(s)}-python\\d+$`), scriptEnv: 'PROJECT_NAME', revisionEnv: 'SCRIPTWORKER_HEAD_REV' },
];

export interface RerunRequest {
  config: Config;
  script: string | undefined;
  env?: string | undefined;
  revision: string | undefined;
  /** Where a clone goes: the promotion's task group; default a new group of its own. */
  taskGroupId?: string;
  dryRun?: boolean;
  nowMs: number;
  newTaskId?: () => string;
}

export interface RerunDeps {
  queue: Pick<Queue, 'task' | 'listTaskGroup' | 'rerunTask' | 'createTask'>;
  index: Pick<Index, 'findTask'>;
  onProgress?: (message: string) => void;
}

export interface PushTask {
  taskId: string;
  label: string;
  form: PushTaskForm;
  state: TaskStatus['state'];
  created: string;
  deadline: string;
  expires: string;
  /** `DOCKER_TAG`: the moving tag it pushes. */
  dockerTag: string | null;
  /** `DOCKER_ARCHIVE_TAG` (push-image): fixed when the graph was generated. */
  archiveTag: string | null;
}

export interface CloneInfo {
  taskId: string;
  taskGroupId: string;
  created: string;
  deadline: string;
  expires: string;
}

export interface RerunResult {
  script: string;
  env: string;
  revision: string;
  indexPath: string;
  decisionTaskId: string;
  /** The decision task's group, where the push task is. */
  taskGroupId: string;
  /** The branch the decision task ran for, when its payload says. */
  decisionBranch: string | null;
  pushTask: PushTask;
  /** rerun: a new run of the push task; retrigger: a clone; none: it is pending or running already. */
  action: 'rerun' | 'retrigger' | 'none';
  /** The task that pushes: the push task itself, or its clone. */
  taskId: string;
  clone: CloneInfo | null;
  dryRun: boolean;
  warnings: string[];
}

type TaskDefinition = Record<string, unknown>;
type GroupEntry = ListTaskGroupResponse['tasks'][number];

export function decisionIndexPath(config: Config, revision: string): string {
  return `${config.taskcluster.trustDomain}.v2.${config.taskcluster.project}.revision.${revision}.taskgraph.decision`;
}

export function checkRerunRequest(request: RerunRequest): { script: string; env: string; revision: string } {
  const script = requireScript(request.config, request.script, '--script');
  const [env] = requireEnvironment(request.config, request.env, '--env');
  const revision = validateRevision(request.revision, '--revision');
  if (request.taskGroupId !== undefined && !isSlugid(request.taskGroupId)) throw new UsageError(`--task-group-id: ${quote(request.taskGroupId)} is not a task group id (a 22-character slugid)`);
  return { script, env, revision };
}

export async function rerunPushTask(deps: RerunDeps, request: RerunRequest): Promise<RerunResult> {
  const { config } = request;
  const { script, env, revision } = checkRerunRequest(request);
  const progress = deps.onProgress ?? (() => undefined);
  const movingTag = config.environments[env]!.movingTag;
  const warnings: string[] = [];

  const indexPath = decisionIndexPath(config, revision);
  progress(`finding the decision task at ${indexPath}`);
  let decisionTaskId: string;
  try {
    ({ taskId: decisionTaskId } = await deps.index.findTask(indexPath));
    if (!isSlugid(decisionTaskId)) throw new RemoteError(`index.findTask ${indexPath}: the index's answer names no task id`);
  } catch (error) {
    if (error instanceof RemoteError) throw error;
    const typed = taskclusterError(error, `index.findTask ${indexPath}`);
    if (typed instanceof NotFoundError) {
      throw new NotFoundError(`no decision task is indexed for revision ${revision} (${indexPath}): it was never pushed to a branch that runs CI, or the index entry expired (a year after the push); rebuild the revision instead: ${rebuildHint(config, script, env, revision)}`);
    }
    throw typed;
  }
  let decision: TaskDefinition;
  try {
    decision = await deps.queue.task(decisionTaskId);
  } catch (error) {
    throw taskclusterError(error, `queue.task of decision task ${decisionTaskId}`);
  }
  const taskGroupId = typeof decision.taskGroupId === 'string' ? decision.taskGroupId : decisionTaskId;
  const decisionBranch = branchOf(decision);

  progress(`listing task group ${taskGroupId}`);
  const candidates: { entry: GroupEntry; label: string; form: FormSpec }[] = [];
  const passedOver: string[] = [];
  for await (const entry of listWholeGroup(deps.queue, taskGroupId)) {
    const task = entry.task;
    const label = [stringAt(task, 'tags', 'label'), stringAt(task, 'metadata', 'name')].find((l): l is string => l !== null && pushTaskForms.some((f) => f.label(script).test(l)));
    if (label === undefined) continue;
    const form = pushTaskForms.find((f) => f.label(script).test(label))!;
    const penv = payloadEnv(task);
    const why =
      penv.PUSH_DOCKER_IMAGE === '0'
        ? 'does not push (PUSH_DOCKER_IMAGE=0)'
        : penv.DOCKER_TAG !== undefined && penv.DOCKER_TAG !== movingTag
          ? `pushes the tag ${quote(penv.DOCKER_TAG)}, not ${quote(movingTag)}`
          : penv[form.scriptEnv] !== undefined && penv[form.scriptEnv] !== script
            ? `builds ${quote(penv[form.scriptEnv])} (${form.scriptEnv})`
            : penv[form.revisionEnv] !== undefined && penv[form.revisionEnv] !== revision
              ? `builds revision ${quote(penv[form.revisionEnv])} (${form.revisionEnv})`
              : null;
    if (why) passedOver.push(`${label} ${entry.status.taskId}: ${why}`);
    else candidates.push({ entry, label, form });
  }
  if (candidates.length === 0) {
    const forms = pushTaskForms.map((f) => f.label(script).source.replace(/^\^|\$$/g, '').replace(/\\/g, '')).join(', ');
    throw new NotFoundError(
      `decision task ${decisionTaskId} of revision ${revision}${decisionBranch ? ` (a push to ${decisionBranch})` : ''} has no task pushing ${script}'s ${movingTag} image in group ${taskGroupId}${passedOver.length ? `; passed over: ${passedOver.join('; ')}` : `; looked for labels ${forms}`}. The index keeps the newest decision task of a revision, whichever branch it was pushed to; rebuild the revision instead: ${rebuildHint(config, script, env, revision)}`,
    );
  }
  // A group may hold the push task and its retriggers: the newest is the one to repeat.
  candidates.sort((a, b) => Date.parse(String(b.entry.task.created)) - Date.parse(String(a.entry.task.created)));
  const chosen = candidates[0]!;
  if (candidates.length > 1) warnings.push(`${candidates.length} push tasks of ${script} in group ${taskGroupId}; the newest (${chosen.entry.status.taskId}) was chosen`);
  const penv = payloadEnv(chosen.entry.task);
  const pushTask: PushTask = {
    taskId: chosen.entry.status.taskId,
    label: chosen.label,
    form: chosen.form.form,
    state: chosen.entry.status.state,
    created: String(chosen.entry.task.created),
    deadline: chosen.entry.status.deadline ?? String(chosen.entry.task.deadline),
    expires: chosen.entry.status.expires ?? String(chosen.entry.task.expires),
    dockerTag: penv.DOCKER_TAG ?? null,
    archiveTag: penv.DOCKER_ARCHIVE_TAG ?? null,
  };
  if (pushTask.form === 'push-image') {
    warnings.push(
      `today's pipeline re-pushes the same archive tag on rerun: ${pushTask.archiveTag ?? 'DOCKER_ARCHIVE_TAG'} was fixed when the graph was generated, so the push overwrites it and the registry's pushlog records no new deploy (the date stays the original push's)`,
    );
  } else {
    warnings.push(`${pushTask.label} is an older ${pushTask.form} task: it builds the image again, so expect a new digest (and a new archive tag) for revision ${revision}`);
  }

  const result = (action: RerunResult['action'], taskId: string, clone: CloneInfo | null): RerunResult => ({
    script,
    env,
    revision,
    indexPath,
    decisionTaskId,
    taskGroupId,
    decisionBranch,
    pushTask,
    action,
    taskId,
    clone,
    dryRun: request.dryRun ?? false,
    warnings,
  });

  if (pushTask.state === 'pending' || pushTask.state === 'running') {
    warnings.push(`${pushTask.taskId} is ${pushTask.state} already: nothing to rerun, watch it`);
    return result('none', pushTask.taskId, null);
  }
  if (Date.parse(pushTask.deadline) > request.nowMs) {
    if (request.dryRun) return result('rerun', pushTask.taskId, null);
    progress(`rerunning ${pushTask.taskId}`);
    try {
      await deps.queue.rerunTask(pushTask.taskId);
      return result('rerun', pushTask.taskId, null);
    } catch (error) {
      const typed = taskclusterError(error, `queue.rerunTask ${pushTask.taskId}`);
      if (!(typed instanceof ConflictError)) throw typed;
      warnings.push(`the Queue refused to rerun ${pushTask.taskId} (${typed.message}); retriggering a clone instead`);
    }
  } else {
    warnings.push(`${pushTask.taskId} is past its deadline ${pushTask.deadline}: the Queue cannot rerun it, so a clone is retriggered`);
  }

  const newTaskId = request.newTaskId ?? niceSlugid;
  const cloneId = newTaskId();
  const schedulerId = `${config.taskcluster.trustDomain}-level-${config.taskcluster.level}`;
  let group = request.taskGroupId ?? cloneId;
  if (request.taskGroupId !== undefined && chosen.entry.task.schedulerId !== schedulerId) {
    warnings.push(`${pushTask.taskId} has schedulerId ${quote(chosen.entry.task.schedulerId)}, not ${schedulerId}: a task group has one schedulerId, so the clone gets a group of its own`);
    group = cloneId;
  }
  const clone = cloneTask(chosen.entry.task, { taskGroupId: group, nowMs: request.nowMs });
  const info: CloneInfo = { taskId: cloneId, taskGroupId: group, created: clone.created as string, deadline: clone.deadline as string, expires: clone.expires as string };
  if (request.dryRun) return result('retrigger', cloneId, info);
  progress(`creating ${cloneId}, a clone of ${pushTask.taskId}, in group ${group}`);
  let answer: unknown;
  try {
    answer = await deps.queue.createTask(cloneId, clone);
  } catch (error) {
    throw taskclusterError(error, `queue.createTask ${cloneId} (clone of ${pushTask.taskId})`);
  }
  // A create the Queue did not confirm is not one (a proxy's page, an empty 200).
  if ((answer as { status?: { taskId?: unknown } } | undefined)?.status?.taskId !== cloneId) {
    throw new RemoteError(`queue.createTask ${cloneId} (clone of ${pushTask.taskId}): the Queue's answer is not a task status for ${cloneId}; the clone may not exist`);
  }
  return result('retrigger', cloneId, info);
}

/**
 * A copy of a task definition to create anew: the same everything (payload, scopes, routes,
 * dependencies, metadata), in `taskGroupId`, with `created` now and `deadline` and `expires`
 * moved by the same amount so their spacing from `created` is kept.
 */
export function cloneTask(task: TaskDefinition, options: { taskGroupId: string; nowMs: number }): TaskDefinition {
  const created = Date.parse(String(task.created));
  const deadline = Date.parse(String(task.deadline));
  if (Number.isNaN(created) || Number.isNaN(deadline)) throw new RemoteError(`the task's created ${quote(task.created)} or deadline ${quote(task.deadline)} is not a time`);
  const expires = task.expires !== undefined ? Date.parse(String(task.expires)) : Number.NaN;
  const at = (ms: number): string => new Date(options.nowMs + (ms - created)).toISOString();
  const clone: TaskDefinition = { ...structuredClone(task), taskGroupId: options.taskGroupId, created: new Date(options.nowMs).toISOString(), deadline: at(deadline) };
  if (!Number.isNaN(expires)) clone.expires = at(expires);
  return clone;
}

async function* listWholeGroup(queue: Pick<Queue, 'listTaskGroup'>, taskGroupId: string): AsyncGenerator<GroupEntry> {
  let continuationToken: string | undefined;
  const seen = new Set<string>();
  do {
    let page: ListTaskGroupResponse;
    try {
      page = await queue.listTaskGroup(taskGroupId, continuationToken !== undefined ? { continuationToken } : {});
    } catch (error) {
      throw taskclusterError(error, `queue.listTaskGroup ${taskGroupId}`);
    }
    if (!Array.isArray(page?.tasks)) throw new RemoteError(`queue.listTaskGroup ${taskGroupId}: the answer has no tasks list`);
    yield* page.tasks;
    continuationToken = page.continuationToken ?? undefined;
    if (continuationToken !== undefined) {
      if (seen.has(continuationToken)) throw new RemoteError(`queue.listTaskGroup ${taskGroupId}: the continuation token repeated; the listing would not end`);
      seen.add(continuationToken);
    }
  } while (continuationToken !== undefined);
}

function stringAt(task: TaskDefinition, ...path: string[]): string | null {
  let value: unknown = task;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return null;
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : null;
}

function payloadEnv(task: TaskDefinition): Record<string, string> {
  const env = (task.payload as { env?: unknown } | undefined)?.env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return {};
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The branch of a decision task: its `*_HEAD_REF` environment variable (taskgraph's run-task convention). */
function branchOf(decision: TaskDefinition): string | null {
  const env = payloadEnv(decision);
  const ref = Object.entries(env).find(([k]) => k.endsWith('_HEAD_REF'))?.[1];
  return ref ? ref.replace(/^refs\/heads\//, '') : null;
}

/** The way out when no push task can be rerun: rebuild the revision (rerun has no --route). */
function rebuildHint(config: RerunRequest['config'], script: string, env: string, revision: string): string {
  const branch = config.environments[env]!.deployBranch.replaceAll('{script}', script);
  return `tc-promote submit ${script} --env ${env} --to ${revision} --route rebuild (a graph that force-pushes it to ${branch}), or by hand tc-promote force-push --branch ${branch} --revision ${revision}`;
}
