/**
 * rollback and promote: plan, say what will move, confirm, submit, follow the task group until
 * every task resolves, and read the tasks' promotion records, as helm rollback --wait does.
 * The operation never prints: what will move and every change on the way go through
 * callbacks; it returns where the promotion ended, and the command line words it.
 */
import { PromoteError, RemoteError, UsageError } from '../errors.js';
import type { WorkerPools } from '../config/pools.js';
import { HoldInterruptedError, placeHold, readHold, releaseHold, type HoldIndex } from '../history/hold.js';
import type { PoolReport } from '../taskcluster/verify.js';
import { readAfterMove, type AfterMove } from './after-move.js';
import { markInFlight } from '../taskcluster/in-flight.js';

export type { AfterMove };
import { holdKey, releaseCommand } from './hold.js';
import { buildRuntime } from './runtime.js';
import type { GraphTask, TaskGraph } from '../graph/build.js';
import type { Plan } from '../history/plan.js';
import { createClients, taskGroupUrl, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import { followTaskGroup, type FollowResult, type StateChange } from '../taskcluster/follow.js';
import { defaultConcurrency, submitGraph, type SubmitResult } from '../taskcluster/submit.js';
import { nextSteps, type NextSteps, type NextStepsFlags } from './plan.js';
import { planAndBuildGraph, tasksForcePushingWithoutLease, type GraphRequest } from './promotion-graph.js';

export type PromotionMode = 'rollback' | 'promote';

export interface PromotionOptions {
  mode: PromotionMode;
  /** Where the graph goes (submissionConnection: checked before anything is read). */
  connection: TaskclusterConnection;
  request: GraphRequest;
  /** The flags the undo lines repeat. */
  lines: NextStepsFlags;
  /** Submit without asking. */
  yes?: boolean;
  /** Follow the task group (else return once the tasks exist). */
  wait?: boolean;
  /** Accept a graph that would force-push without a lease. */
  allowNoLease?: boolean;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  /** Asked before anything is created, unless `yes`: true submits. */
  confirm?: (planned: Planned) => Promise<boolean>;
  /** Told once the plan and graph are made, before anything else. */
  onPlanned?: (planned: Planned) => void;
  onCreated?: (task: { label: string; taskId: string }) => void;
  /** Every task exists: the task group's URL (following starts now, unless not `wait`). */
  onSubmitted?: (url: string, created: SubmitResult['created']) => void;
  onChange?: (change: StateChange) => void;
  /** Following ended (every task resolved, the timeout, or a stop); the registry and the pools are read next. */
  onFollowed?: (followed: FollowResult) => void;
  /** A poll of the Queue failed (`inARow`: how many in a row). */
  onPollError?: (message: string, inARow: number) => void;
  /**
   * rollback: hold the environment at the target (who, why) once confirmed, before anything is
   * created, so that a push landing meanwhile cannot move the tag either; null: --no-hold.
   */
  hold?: { by: string; reason: string } | null;
  /** promote: a held environment is refused unless this is given (then released, once confirmed, before anything is created). */
  release?: { by: string } | null;
  /** After a completed retag: watch the environment's worker pools (null: --no-verify). */
  verify?: { pools: WorkerPools; timeoutMs: number; intervalMs?: number } | null;
  onHold?: (message: string) => void;
  /** The in-flight index entry was written (its path), or could not be (why; the promotion goes on). */
  onInFlight?: (path: string | null, error: string | null) => void;
  /** Who asks (the in-flight entry says it); the hold's or the release's by, else this. */
  requester?: string;
  onVerifyProgress?: (pools: readonly PoolReport[]) => void;
  /** An index client (tests); made from `connection` otherwise. */
  holdIndex?: HoldIndex;
  nowMs?: () => number;
}

export interface Planned {
  plan: Plan;
  graph: TaskGraph;
  next: NextSteps;
  /** What the confirmation says will happen (from, to, hold, next push); the promotion record keeps it as `confirmed`. */
  confirmed: Record<string, string>;
}

/**
 * The lines a person confirms, beyond the tasks: what the environment runs now (from), what it
 * will run (to), the hold, and what the next push will do. The same text goes into the record.
 */
export function confirmationLines(mode: PromotionMode, plan: Plan, hold: PromotionOptions['hold'], release: PromotionOptions['release']): Record<string, string> {
  const reference = `${plan.repository}:${plan.movingTag}`;
  const deploy = (d: { tag: string | null; revision: string | null; digest?: string | null } | null, digest: string | null | undefined): string =>
    d ? `${d.tag ?? '(no archive tag)'} (revision ${d.revision ?? '?'}, ${d.digest ?? digest ?? 'digest ?'})` : `${digest ?? '(nothing)'} (no archive tag records it)`;
  const to = plan.target.tag ?? plan.target.digest ?? '?';
  const release_ = releaseCommand(plan.script, plan.env);
  let holdLine: string;
  let nextPush: string;
  if (mode === 'rollback' && hold) {
    holdLine = `held at ${to} by ${hold.by} once confirmed, before any task is created (${hold.reason.replace(/\s+/g, ' ')}); ${release_} ends it`;
    nextPush = `writes its archive tag only; ${reference} stays at ${to} until released`;
  } else if (mode === 'rollback') {
    holdLine = 'not held (--no-hold)';
    nextPush = `moves ${reference} to what it builds, undoing this rollback`;
  } else if (release) {
    holdLine = `a hold in place is released by ${release.by} once confirmed (--release)`;
    nextPush = `moves ${reference} to what it builds`;
  } else {
    holdLine = 'not held by this promotion (a held environment is refused: --release)';
    nextPush = `moves ${reference} to what it builds`;
  }
  return { from: deploy(plan.current ? { tag: plan.current.tag, revision: plan.current.revision, digest: plan.current.digest ?? null } : null, plan.movingDigest), to: deploy({ tag: plan.target.tag, revision: plan.target.revision, digest: plan.target.digest ?? null }, plan.target.digest), hold: holdLine, nextPush };
}

export type PromotionResult = Planned &
  (
    | { outcome: 'nothing-to-do' }
    | { outcome: 'not-confirmed' }
    | { outcome: 'submitted'; url: string; created: SubmitResult['created'] }
    | { outcome: 'followed'; url: string; created: SubmitResult['created']; followed: FollowResult; records: Map<string, Record<string, unknown>>; after?: AfterMove }
  );

export async function runPromotion(options: PromotionOptions): Promise<PromotionResult> {
  const { mode, connection } = options;
  let confirmed: Record<string, string> = {};
  const { plan, graph, config } = await planAndBuildGraph({ ...options.request, confirmation: (p) => (confirmed = confirmationLines(mode, p, options.hold, options.release)) });
  const next = nextSteps(plan, config, options.lines);
  const planned: Planned = { plan, graph, next, confirmed };
  const now = options.nowMs ?? Date.now;
  options.onPlanned?.(planned);
  if (plan.target.digest !== undefined && plan.target.digest === plan.movingDigest && plan.route === 'retag') return { ...planned, outcome: 'nothing-to-do' };
  const key = holdKey({ config, script: plan.script, env: plan.env });
  let index: HoldIndex | undefined = options.holdIndex;
  const indexOf = async (): Promise<HoldIndex> => (index ??= (await createClients(connection, { retries: 3 })).index as unknown as HoldIndex);
  if (mode === 'promote') {
    // A held environment stays put: promoting into it is refused unless the release is asked for.
    const hold = await readHold(await indexOf(), key).catch((error: unknown) => {
      throw new RemoteError(`${(error as Error).message}; promote refuses to guess (nothing was created)`);
    });
    if (hold.state === 'held' && !options.release) {
      throw new PromoteError(`promote: ${plan.script} ${plan.env} is held since ${hold.record.at} by ${hold.record.by} (${hold.record.reason.replace(/\s+/g, ' ') || 'no reason recorded'}); --release releases the hold and promotes, or ${releaseCommand(plan.script, plan.env)} first; nothing was created`, 2);
    }
  }
  const leaseless = tasksForcePushingWithoutLease(graph);
  if (leaseless.length && !options.allowNoLease) {
    throw new UsageError(`${mode}: ${leaseless.join(', ')} would force-push the deploy branch without a lease (its head was not read at plan time): set GITHUB_TOKEN (or GITHUB_API_URL) so that the plan reads it, or give --no-lease; nothing was created`);
  }
  if (!options.yes) {
    if (!options.confirm) throw new UsageError(`${mode}: nothing to confirm with; nothing was created`);
    if (!(await options.confirm(planned))) return { ...planned, outcome: 'not-confirmed' };
  }

  const promoteTask = graph.tasks.find((t) => t.kind === 'promote');
  if (mode === 'rollback' && options.hold) {
    try {
      const placed = await placeHold(await indexOf(), { key, by: options.hold.by, reason: options.hold.reason, image: { tag: plan.target.tag, digest: plan.target.digest ?? null, revision: plan.target.revision }, taskGroupId: graph.taskGroupId, ...(promoteTask && { taskId: promoteTask.taskId }), nowMs: now(), ...(options.signal && { signal: options.signal }) });
      options.onHold?.(`held ${plan.script} ${plan.env} at ${plan.target.tag ?? plan.target.digest ?? '?'} (${placed.path}): the next push writes its archive tag but does not move the tag; ${releaseCommand(plan.script, plan.env)}`);
    } catch (error) {
      if (error instanceof HoldInterruptedError) throw new HoldInterruptedError(`${error.message}; no task was created`, error.written);
      throw new RemoteError(`${(error as Error).message}; nothing was created (--no-hold rolls back without holding: the next push would move the tag again)`);
    }
  }
  if (mode === 'promote' && options.release) {
    const hold = await readHold(await indexOf(), key);
    if (hold.state === 'held') {
      await releaseHold(await indexOf(), { key, by: options.release.by, reason: `released by promote --release to ${plan.target.tag ?? plan.target.digest ?? '?'}`, nowMs: now(), ...(options.signal && { signal: options.signal }) }).catch((error: unknown) => {
        if (error instanceof HoldInterruptedError) throw new HoldInterruptedError(`${error.message}; no task was created`, error.written);
        throw error;
      });
      options.onHold?.(`released the hold of ${plan.script} ${plan.env} (held since ${hold.record.at} by ${hold.record.by})`);
    }
  }
  const { queue } = await createClients(connection, { retries: 3 });
  const url = taskGroupUrl(connection.rootUrl, graph.taskGroupId);
  // A Ctrl-C while creating: no create starts after it, and the error lists what was created and what not.
  const result = await submitGraph(queue, graph, { concurrency: defaultConcurrency, ...(options.onCreated && { onCreated: options.onCreated }), ...(options.signal && { signal: options.signal }) });
  // Findable again by script and environment (follow, cancel, status): an index entry naming the group,
  // written once the tasks exist (a duplicate refused by the Queue must not point it away from the one in flight).
  try {
    const deadlines = graph.tasks.map((t) => Date.parse(String(t.task.deadline))).filter(Number.isFinite);
    const at = now();
    const path = await markInFlight(
      await indexOf(),
      key,
      { mode, script: plan.script, env: plan.env, taskGroupId: graph.taskGroupId, taskIds: graph.tasks.map((t) => t.taskId), by: options.hold?.by ?? options.release?.by ?? options.requester ?? 'unknown', at: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), reason: options.request.reason ?? '', from: plan.current?.tag ?? plan.movingDigest, to: plan.target.tag ?? plan.target.digest ?? null },
      deadlines.length ? Math.max(...deadlines) : at + 5 * 86_400_000,
      at,
    );
    options.onInFlight?.(path, null);
  } catch (error) {
    options.onInFlight?.(null, (error as Error).message);
  }
  options.onSubmitted?.(url, result.created);
  if (!options.wait) return { ...planned, outcome: 'submitted', url, created: result.created };

  const tasks = graph.tasks.map((t) => ({ taskId: t.taskId, label: t.label, dependencies: t.task.dependencies, requires: t.task.requires as 'all-completed' | 'all-resolved' }));
  const followed = await followTaskGroup(queue, graph.taskGroupId, tasks, {
    intervalMs: options.intervalMs,
    timeoutMs: options.timeoutMs,
    ...(options.signal && { signal: options.signal }),
    onChange: (change) => options.onChange?.(change),
    onPollError: (message, inARow) => options.onPollError?.(message, inARow),
  });
  options.onFollowed?.(followed);
  // Records only once every task resolved: past --timeout (or a stop) a slow Queue is not asked again.
  const records = followed.settled ? await readRecords(queue, graph.tasks, followed) : new Map<string, Record<string, unknown>>();
  const main = graph.tasks.filter((t) => t.kind !== 'fallback');
  if (!followed.settled || plan.route !== 'retag') return { ...planned, outcome: 'followed', url, created: result.created, followed, records };
  // Every task resolved: what the tag reads now, whether or not the promotion completed (a failed one says what still runs).
  const completed = main.every((t) => followed.states.get(t.taskId) === 'completed');

  const runtime = buildRuntime({ ...options.request.runtime, config });
  const after = await readAfterMove({
    runtime,
    script: plan.script,
    env: plan.env,
    movingTag: plan.movingTag,
    targetDigest: plan.target.digest ?? null,
    recordTime: promoteTask ? records.get(promoteTask.taskId)?.time : undefined,
    hold: mode === 'rollback' && !options.hold ? null : async () => readHold(await indexOf(), key),
    verify: options.verify ?? null,
    queue,
    nowMs: now,
    ...(!completed && { skipVerify: 'the promotion did not complete' }),
    ...(options.signal && { signal: options.signal }),
    ...(options.onVerifyProgress && { onVerifyProgress: options.onVerifyProgress }),
  });
  return { ...planned, outcome: 'followed', url, created: result.created, followed, records, after };
}

/** The promotion records of the tasks that ended (a task that ended before writing one has none). */
async function readRecords(queue: Awaited<ReturnType<typeof createClients>>['queue'], tasks: readonly GraphTask[], outcome: FollowResult): Promise<Map<string, Record<string, unknown>>> {
  const { downloadRecord } = await import('../history/records.js');
  const records = new Map<string, Record<string, unknown>>();
  await Promise.all(
    tasks.map(async (t) => {
      const state = outcome.states.get(t.taskId);
      if (state !== 'completed' && state !== 'failed' && state !== 'exception') return;
      try {
        records.set(t.taskId, await downloadRecord(queue, t.taskId));
      } catch {
        // A task that ended before writing its record: the state says enough.
      }
    }),
  );
  return records;
}
