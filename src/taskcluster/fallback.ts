/**
 * The fallback step of the retag route. It runs after every promote task has resolved
 * (`requires: all-resolved`), reads their states from the Queue and decides:
 *
 *   - all completed: nothing to do;
 *   - one failed or ended in exception, and the input allowed a fallback: force-push the
 *     target revision to the script's deploy branch with the lease recorded at plan time,
 *     so the image pipeline rebuilds it;
 *   - one failed, no fallback allowed: report that the promotion failed (an error at the CLI).
 *
 * A promote task still unresolved (the fallback run by hand, or rerun while a promote task
 * was rerun) decides nothing: the step refuses rather than push while a promotion may still
 * succeed. GitHub is contacted only when a push is due, so a fallback without the GitHub
 * secret in its scopes works whenever the promotion succeeded.
 */
import type { Queue, TaskStatus } from 'taskcluster-client';
import { requireEnvironment, requireScript, type Config } from '../config/load.js';
import { ExitCode, PromoteError, RemoteError, UsageError, quote } from '../errors.js';
import type { GitHubClient } from '../github/client.js';
import { forcePushBranch, type ForcePushResult } from '../github/force-push.js';
import { validateRevision } from '../github/names.js';
import { deployBranchFor, requireForcePushableBranch } from '../github/policy.js';
import { taskclusterError } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';

export interface FallbackRequest {
  config: Config;
  script: string | undefined;
  env: string | undefined;
  branch: string | undefined;
  /** The target revision; required when a force-push is allowed. */
  revision?: string;
  /** The lease: the deploy branch head seen at plan time. */
  expect?: string;
  allowForcePush: boolean;
  promoteTaskIds: readonly string[];
  dryRun?: boolean;
  nowMs: number;
}

export interface FallbackDeps {
  queue: Pick<Queue, 'status'>;
  /** Built only when a push is due: the GitHub credentials are needed then only. */
  github: () => Promise<GitHubClient>;
  onProgress?: (message: string) => void;
}

export interface PromoteTaskState {
  taskId: string;
  state: TaskStatus['state'];
  /** Why the latest run resolved (`failed`, `deadline-exceeded`, …), null while unresolved. */
  reasonResolved: string | null;
  runs: number;
}

export type FallbackOutcome =
  /** Every promote task completed. */
  | 'not-needed'
  /** The branch was moved to the target revision. */
  | 'force-pushed'
  /** The branch was at the target revision already: nothing was pushed, so nothing rebuilds. */
  | 'already-there'
  /** --dry-run: the force-push that would happen. */
  | 'would-force-push'
  /** A promote task failed and the input allowed no fallback. */
  | 'not-allowed'
  /** A promote task failed and the force-push failed too (see `error`). */
  | 'force-push-failed';

export interface FallbackResult {
  script: string;
  env: string;
  branch: string;
  revision: string | null;
  promoteTasks: PromoteTaskState[];
  failed: PromoteTaskState[];
  outcome: FallbackOutcome;
  forcePush: ForcePushResult | null;
  warnings: string[];
  /** Set with `force-push-failed`: the typed error of the push (exit 3 for a broken lease). */
  error?: PromoteError;
}

const resolvedStates: ReadonlySet<string> = new Set(['completed', 'failed', 'exception']);

/** Every flag checked before any request: the branch must be this script's deploy branch in this environment. */
export function checkFallbackRequest(request: FallbackRequest): { script: string; env: string; branch: string; revision: string | null; expect: string | undefined; promoteTaskIds: string[] } {
  const { config } = request;
  const script = requireScript(config, request.script, '--script');
  const [env] = requireEnvironment(config, request.env, '--env');
  const pushable = requireForcePushableBranch(config, request.branch, '--branch');
  const expected = deployBranchFor(config, env, script);
  if (pushable.branch !== expected) {
    throw new UsageError(`--branch: ${quote(pushable.branch)} is not the deploy branch of ${script} in ${env} (${expected}); the fallback force-pushes only that one`);
  }
  const revision = request.revision !== undefined ? validateRevision(request.revision, '--revision') : null;
  if (request.allowForcePush && revision === null) throw new UsageError('--revision: missing; --allow-force-push needs the target revision to push');
  const expect = request.expect !== undefined ? validateRevision(request.expect, '--expect') : undefined;
  if (request.promoteTaskIds.length === 0) throw new UsageError('--promote-task: missing; give the id of every promote task the fallback depends on');
  for (const id of request.promoteTaskIds) {
    if (!isSlugid(id)) throw new UsageError(`--promote-task: ${quote(id)} is not a task id (a 22-character slugid)`);
  }
  return { script, env, branch: pushable.branch, revision, expect, promoteTaskIds: [...new Set(request.promoteTaskIds)] };
}

export async function readPromoteStates(queue: Pick<Queue, 'status'>, taskIds: readonly string[]): Promise<PromoteTaskState[]> {
  return Promise.all(
    taskIds.map(async (taskId) => {
      let status: TaskStatus;
      try {
        status = ((await queue.status(taskId)) as { status?: TaskStatus } | undefined)?.status as TaskStatus;
      } catch (error) {
        throw taskclusterError(error, `queue.status of promote task ${taskId}`);
      }
      // A malformed answer (a proxy's page, a truncated body) decides nothing.
      if (typeof status !== 'object' || status === null || typeof status.state !== 'string' || !Array.isArray(status.runs)) {
        throw new RemoteError(`queue.status of promote task ${taskId}: the Queue's answer is not a task status`);
      }
      const last = status.runs.at(-1);
      return { taskId, state: status.state, reasonResolved: resolvedStates.has(status.state) ? (last?.reasonResolved ?? status.state) : null, runs: status.runs.length };
    }),
  );
}

export function describeStates(states: readonly PromoteTaskState[]): string {
  return states.map((s) => `${s.taskId} ${s.state}${s.reasonResolved && s.reasonResolved !== s.state ? ` (${s.reasonResolved})` : ''}`).join(', ');
}

export async function runFallback(deps: FallbackDeps, request: FallbackRequest): Promise<FallbackResult> {
  const checked = checkFallbackRequest(request);
  const progress = deps.onProgress ?? (() => undefined);
  progress(`reading the state of ${checked.promoteTaskIds.length} promote task(s)`);
  const promoteTasks = await readPromoteStates(deps.queue, checked.promoteTaskIds);
  const unresolved = promoteTasks.filter((t) => !resolvedStates.has(t.state));
  if (unresolved.length) {
    throw new PromoteError(
      `promote task(s) not resolved yet: ${describeStates(unresolved)}; the fallback decides only once every promote task has resolved (it depends on them with requires: all-resolved), nothing was pushed`,
      ExitCode.operational,
    );
  }
  const failed = promoteTasks.filter((t) => t.state !== 'completed');
  const warnings: string[] = [];
  const base = { script: checked.script, env: checked.env, branch: checked.branch, revision: checked.revision, promoteTasks, failed, forcePush: null, warnings };
  if (failed.length === 0) return { ...base, outcome: 'not-needed' };
  if (!request.allowForcePush || checked.revision === null) return { ...base, outcome: 'not-allowed' };

  progress(`promotion failed (${describeStates(failed)}): force-pushing ${checked.revision} to ${checked.branch}`);
  if (checked.expect === undefined) {
    warnings.push(`no lease: the head of ${checked.branch} was not read at plan time (--expect), so the force-push replaces whatever the branch holds now (its old head is kept as a backup ref)`);
  }
  try {
    const client = await deps.github();
    const forcePush = await forcePushBranch(client, {
      config: request.config,
      branch: checked.branch,
      revision: checked.revision,
      ...(checked.expect !== undefined && { expect: checked.expect }),
      dryRun: request.dryRun ?? false,
      nowMs: request.nowMs,
      onProgress: progress,
    });
    const outcome: FallbackOutcome = forcePush.moved ? 'force-pushed' : forcePush.dryRun && forcePush.oldHead !== forcePush.revision ? 'would-force-push' : 'already-there';
    if (outcome === 'already-there') {
      warnings.push(
        `${checked.branch} is already at ${checked.revision}: nothing was pushed this time, so no image build starts now (an earlier run's push did start one); if none did, rerun the branch's push task: tc-promote rerun --script ${checked.script} --env ${checked.env} --revision ${checked.revision}`,
      );
    }
    return { ...base, outcome, forcePush };
  } catch (error) {
    if (!(error instanceof PromoteError)) throw error;
    return { ...base, outcome: 'force-push-failed', error };
  }
}

/** The promotion failed and nothing was allowed to repair it: exit 1 with what to do by hand. */
export class PromotionFailedError extends PromoteError {
  constructor(readonly result: FallbackResult) {
    const by = `tc-promote force-push --branch ${result.branch} --revision ${result.revision ?? 'REVISION'}`;
    super(
      `promotion of ${result.script} in ${result.env} failed (${describeStates(result.failed)}) and no fallback was allowed (the action input's fallback was false, so --allow-force-push was not given): nothing was force-pushed. To rebuild the target revision through ${result.branch}: ${by}`,
      ExitCode.operational,
    );
  }
}
