/**
 * rollback and promote: plan, say what will move, confirm, submit, follow the task group until
 * every task resolves, and read the tasks' promotion records, as helm rollback --wait does.
 * The operation never prints: what will move and every change on the way go through
 * callbacks; it returns where the promotion ended, and the command line words it.
 */
import { UsageError } from '../errors.js';
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
  /** A poll of the Queue failed (`inARow`: how many in a row). */
  onPollError?: (message: string, inARow: number) => void;
}

export interface Planned {
  plan: Plan;
  graph: TaskGraph;
  next: NextSteps;
}

export type PromotionResult = Planned &
  (
    | { outcome: 'nothing-to-do' }
    | { outcome: 'not-confirmed' }
    | { outcome: 'submitted'; url: string; created: SubmitResult['created'] }
    | { outcome: 'followed'; url: string; created: SubmitResult['created']; followed: FollowResult; records: Map<string, Record<string, unknown>> }
  );

export async function runPromotion(options: PromotionOptions): Promise<PromotionResult> {
  const { mode, connection } = options;
  const { plan, graph } = await planAndBuildGraph(options.request);
  const next = nextSteps(plan, options.request.runtime.config!, options.lines);
  const planned: Planned = { plan, graph, next };
  options.onPlanned?.(planned);
  if (plan.target.digest !== undefined && plan.target.digest === plan.movingDigest && plan.route === 'retag') return { ...planned, outcome: 'nothing-to-do' };
  const leaseless = tasksForcePushingWithoutLease(graph);
  if (leaseless.length && !options.allowNoLease) {
    throw new UsageError(`${mode}: ${leaseless.join(', ')} would force-push the deploy branch without a lease (its head was not read at plan time): set GITHUB_TOKEN (or GITHUB_API_URL) so that the plan reads it, or give --no-lease; nothing was created`);
  }
  if (!options.yes) {
    if (!options.confirm) throw new UsageError(`${mode}: nothing to confirm with; nothing was created`);
    if (!(await options.confirm(planned))) return { ...planned, outcome: 'not-confirmed' };
  }

  const { queue } = await createClients(connection, { retries: 3 });
  const url = taskGroupUrl(connection.rootUrl, graph.taskGroupId);
  // A Ctrl-C while creating: no create starts after it, and the error lists what was created and what not.
  const result = await submitGraph(queue, graph, { concurrency: defaultConcurrency, ...(options.onCreated && { onCreated: options.onCreated }), ...(options.signal && { signal: options.signal }) });
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
  const records = followed.stopped === undefined ? await readRecords(queue, graph.tasks, followed) : new Map<string, Record<string, unknown>>();
  return { ...planned, outcome: 'followed', url, created: result.created, followed, records };
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
