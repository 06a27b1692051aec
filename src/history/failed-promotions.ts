/**
 * Failed promotions in the Taskcluster index. A promote task is indexed only when it completes
 * (an index route fires on completion), so a promotion that failed, or was cancelled, leaves no
 * record there by itself. The fallback task, which runs once every promote task has resolved
 * (requires: all-resolved), writes one when any did not complete, at
 * `<trust domain>.v2.<project>.promotion.<script>.<env>.failed.<stamp>` (the graph's clock), the
 * record in the entry's `data`: what the promotion was to do (from, to, reason, requester, task
 * group, what the person confirmed), how it ended (outcome failed or cancelled, the fallback's
 * outcome, the promote tasks' states). history lists them against the deploy they targeted.
 *
 * Library code: typed input, typed result, no console, argv or environment.
 */
import { createClients, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';

export interface FailedPromotionKey {
  trustDomain: string;
  project: string;
  script: string;
  env: string;
}

export function failedPromotionNamespace(key: FailedPromotionKey): string {
  return `${key.trustDomain}.v2.${key.project}.promotion.${key.script}.${key.env}.failed`;
}

export interface FailedPromotion {
  /** The index entry's task: the fallback task that wrote it. */
  taskId: string;
  namespace: string;
  /** failed (a promote task failed or ended in exception) or cancelled (every one of them was cancelled). */
  outcome: 'failed' | 'cancelled';
  /** When the fallback wrote the record (ISO 8601). */
  time: string | null;
  from: string | null;
  to: string | null;
  digest: string | null;
  revision: string | null;
  reason: string | null;
  requester: string | null;
  taskGroupId: string | null;
  /** The fallback's own outcome (force-pushed, not-allowed, already-there, force-push-failed). */
  fallback: string | null;
  promoteTasks: { taskId: string; state: string; reasonResolved: string | null }[];
  confirmed?: Record<string, string>;
}

/** What an index client must do for the reads and writes here (taskcluster-client's Index, or a fake). */
export interface FailedPromotionIndex {
  insertTask(namespace: string, payload: { taskId: string; rank: number; data: Record<string, unknown>; expires: string }): Promise<unknown>;
}

/** The fallback's write: the graph's record, how the promotion ended, the fallback's outcome. One entry, written whole. */
export async function recordFailedPromotion(index: FailedPromotionIndex, options: { namespace: string; taskId: string; nowMs: number; record: Record<string, unknown> }): Promise<void> {
  await index.insertTask(options.namespace, {
    taskId: options.taskId,
    rank: Math.floor(options.nowMs / 1000),
    data: options.record,
    // As long as the promote tasks' own records (their artifacts expire in a year).
    expires: new Date(options.nowMs + 365 * 86_400_000).toISOString(),
  });
}

export function parseFailedPromotion(entry: { taskId?: unknown; namespace?: unknown; data?: unknown }): FailedPromotion | null {
  const d = entry.data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || Array.isArray(d) || typeof entry.taskId !== 'string' || !isSlugid(entry.taskId)) return null;
  if (d.outcome !== 'failed' && d.outcome !== 'cancelled') return null;
  const text = (k: string): string | null => (typeof d[k] === 'string' ? (d[k] as string) : null);
  const tasks = Array.isArray(d.promoteTasks) ? d.promoteTasks : [];
  const confirmed = d.confirmed && typeof d.confirmed === 'object' && !Array.isArray(d.confirmed) ? (Object.fromEntries(Object.entries(d.confirmed as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : undefined;
  return {
    taskId: entry.taskId,
    namespace: typeof entry.namespace === 'string' ? entry.namespace : '',
    outcome: d.outcome,
    time: text('time'),
    from: text('from'),
    to: text('to'),
    digest: text('digest'),
    revision: text('revision'),
    reason: text('reason'),
    requester: text('requester'),
    taskGroupId: text('taskGroupId'),
    fallback: text('fallback'),
    promoteTasks: tasks
      .filter((t): t is Record<string, unknown> => t !== null && typeof t === 'object')
      .map((t) => ({ taskId: String(t.taskId ?? ''), state: String(t.state ?? ''), reasonResolved: typeof t.reasonResolved === 'string' ? t.reasonResolved : null })),
    ...(confirmed && { confirmed }),
  };
}

export interface FailedPromotionsResult {
  state: 'read' | 'unreachable';
  failed: FailedPromotion[];
  notes: string[];
}

/** Every failed promotion of one script's environment, newest first (at most 10 pages of the index's listing). */
export async function readFailedPromotions(connection: TaskclusterConnection, key: FailedPromotionKey, options: { timeoutMs?: number } = {}): Promise<FailedPromotionsResult> {
  const namespace = failedPromotionNamespace(key);
  const failed: FailedPromotion[] = [];
  try {
    const { index } = await createClients(connection, { retries: 1, timeout: options.timeoutMs ?? 5000, maxDelay: 1000 });
    let continuationToken: string | undefined;
    let pages = 0;
    do {
      const page = (await index.listTasks(namespace, continuationToken ? { continuationToken } : {})) as { tasks?: unknown; continuationToken?: unknown };
      if (!page || !Array.isArray(page.tasks)) throw new Error('the answer has no tasks array');
      for (const t of page.tasks as { taskId?: unknown; namespace?: unknown; data?: unknown }[]) {
        const parsed = parseFailedPromotion(t);
        if (parsed) failed.push(parsed);
      }
      continuationToken = typeof page.continuationToken === 'string' && page.continuationToken ? page.continuationToken : undefined;
    } while (continuationToken && ++pages < 10);
  } catch (error) {
    const e = error as { statusCode?: number; message?: string };
    return { state: 'unreachable', failed: [], notes: [`failed promotions: the Taskcluster index could not be listed at ${namespace} (${typeof e?.statusCode === 'number' ? `HTTP ${e.statusCode}: ` : ''}${String(e?.message ?? error).split('\n')[0]!.slice(0, 200)}); none shown`] };
  }
  failed.sort((a, b) => (b.namespace < a.namespace ? -1 : b.namespace > a.namespace ? 1 : 0));
  return { state: 'read', failed, notes: [] };
}
