/**
 * Promotion records from the Taskcluster index. A promote task is indexed (when it
 * completes) at `<trust domain>.v2.<project>.promotion.<script>.<env>.<YYYY>.<MM>.<DD>.<stamp>`,
 * where the stamp is the graph's clock, the same one in the archive tag it writes; its
 * `public/promotion.json` says who asked, why and in which task group. So a deploy's archive
 * tag names the index path of the promotion that made it.
 *
 * One findTasksAtIndex request for every row asked about, then the records of the tasks found
 * at once. This is an optional read: every failure becomes a note, never the command's error.
 * taskcluster-client is loaded only when records are asked for.
 */
import type { Queue } from 'taskcluster-client';
import { createClients, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { mapLimit } from '../util/concurrency.js';

export interface PromotionRecord {
  taskId: string;
  taskGroupId: string | null;
  reason: string | null;
  requester: string | null;
  /** When the step ran (the record's time). */
  time: string | null;
  /** What the promotion moved from and to, as the record says. */
  from: string | null;
  to: string | null;
  /** What the confirmation said (from, to, hold, nextPush), when the promotion was confirmed by a person. */
  confirmed?: Record<string, string>;
  /** How the step ended, as its record says (written, unchanged, failed, raced, …). */
  outcome?: string;
}

export interface RecordsResult {
  /** read: the index answered (records may still be missing); unreachable: it did not. */
  state: 'read' | 'unreachable';
  byTag: Map<string, PromotionRecord>;
  notes: string[];
}

export interface RecordsRequest {
  connection: TaskclusterConnection;
  trustDomain: string;
  project: string;
  script: string;
  /** The configuration's environment name (the index route's `<env>`). */
  env: string;
  deploys: readonly { tag: string; date: string }[];
  /** Per request (default 5 s); one retry. */
  timeoutMs?: number;
}

export function promotionIndexPath(request: Pick<RecordsRequest, 'trustDomain' | 'project' | 'script' | 'env'>, date: string): string {
  // date is ISO 8601 UTC with Z: 2021-02-01T03:00:00Z → 20210201030000
  const stamp = date.replace(/[-:TZ]/g, '').slice(0, 14);
  return `${request.trustDomain}.v2.${request.project}.promotion.${request.script}.${request.env}.${stamp.slice(0, 4)}.${stamp.slice(4, 6)}.${stamp.slice(6, 8)}.${stamp}`;
}

const maxRecordBytes = 64 * 1024;

export async function readPromotionRecords(request: RecordsRequest): Promise<RecordsResult> {
  const byTag = new Map<string, PromotionRecord>();
  const notes: string[] = [];
  const where = request.connection.viaProxy ? 'the Taskcluster proxy' : request.connection.rootUrl;
  if (request.deploys.length === 0) return { state: 'read', byTag, notes };
  const timeout = request.timeoutMs ?? 5000;
  const tagsOfPath = new Map<string, string[]>();
  for (const d of request.deploys) {
    const path = promotionIndexPath(request, d.date);
    tagsOfPath.set(path, [...(tagsOfPath.get(path) ?? []), d.tag]);
  }
  let found: { namespace: string; taskId: string }[] = [];
  let queue: Queue;
  try {
    const clients = await createClients(request.connection, { retries: 1, timeout, maxDelay: 1000 });
    queue = clients.queue;
    const indexes = [...tagsOfPath.keys()];
    let continuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await clients.index.findTasksAtIndex({ indexes }, continuationToken ? { continuationToken } : {});
      if (!page || !Array.isArray(page.tasks)) throw new Error('the answer has no tasks array');
      found.push(...page.tasks.filter((t) => typeof t?.namespace === 'string' && isSlugid(String(t.taskId))));
      continuationToken = typeof page.continuationToken === 'string' && page.continuationToken ? page.continuationToken : undefined;
    } while (continuationToken && ++pages < 10);
  } catch (error) {
    notes.push(`promotion records: the Taskcluster index (${where}) could not be read (${firstLine(error)}); rows show no reason or requester`);
    return { state: 'unreachable', byTag, notes };
  }
  found = found.filter((t) => tagsOfPath.has(t.namespace));
  const unreadable: string[] = [];
  await mapLimit(found, 8, async (task) => {
    let record: Record<string, unknown> | null = null;
    try {
      record = await downloadRecord(queue, task.taskId);
    } catch (error) {
      unreadable.push(`${task.taskId} (${firstLine(error)})`);
    }
    const text = (key: string): string | null => (record && typeof record[key] === 'string' ? (record[key] as string) : null);
    const group = text('taskGroupId');
    for (const tag of tagsOfPath.get(task.namespace) ?? []) {
      const confirmed = record && record.confirmed && typeof record.confirmed === 'object' && !Array.isArray(record.confirmed) ? Object.fromEntries(Object.entries(record.confirmed as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string> : undefined;
      byTag.set(tag, { taskId: task.taskId, taskGroupId: group !== null && isSlugid(group) ? group : null, reason: text('reason'), requester: text('requester'), time: text('time'), from: text('from'), to: text('to'), ...(confirmed && { confirmed }), ...(text('outcome') !== null && { outcome: text('outcome')! }) });
    }
  });
  if (unreadable.length) notes.push(`promotion records: public/promotion.json of ${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ', …' : ''} could not be read`);
  return { state: 'read', byTag, notes };
}

/**
 * A task's public/promotion.json (at most 64 KiB, within `timeoutMs`), as a JSON object. Its
 * bytes come from wherever the Queue points (S3, a "reference" artifact's URL), and
 * taskcluster-client's download has no time limit of its own: past the time the stream it
 * writes to is destroyed, which ends the request.
 */
export async function downloadRecord(queue: Queue, taskId: string, options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
  const { default: taskcluster } = await import('taskcluster-client');
  const { Writable } = await import('node:stream');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const chunks: Buffer[] = [];
  let size = 0;
  const expired = new Error(`no whole record within ${timeoutMs} ms`);
  let timedOut = false;
  let current: import('node:stream').Writable | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    current?.destroy(expired);
  }, timeoutMs);
  timer.unref();
  // Retried here, not by taskcluster-client: its retry would send a request after the time ran out.
  const attempt = (): Promise<unknown> =>
    taskcluster.downloadArtifact({
      taskId,
      name: 'public/promotion.json',
      queue,
      retries: 0,
      streamFactory: () => {
        chunks.length = 0;
        size = 0;
        current = new Writable({
          write(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            if (size > maxRecordBytes) return done(new Error(`larger than ${maxRecordBytes} bytes`));
            chunks.push(chunk);
            done();
          },
        });
        // The download's pipeline reports the error; this listener keeps it from being unhandled
        // when the stream is destroyed before the pipeline listens.
        current.on('error', () => undefined);
        if (timedOut) current.destroy(expired);
        return current;
      },
    });
  try {
    try {
      await attempt();
    } catch (error) {
      const status = (error as { response?: { statusCode?: unknown } }).response?.statusCode;
      if (timedOut || (typeof status === 'number' && status < 500)) throw error;
      await attempt();
    }
  } catch (error) {
    throw timedOut ? expired : error;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw expired;
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
  return parsed as Record<string, unknown>;
}

function firstLine(error: unknown): string {
  const e = error as { statusCode?: number; message?: string; code?: string };
  const message = String(e?.message ?? error).split('\n')[0]!.slice(0, 200);
  return `${typeof e?.statusCode === 'number' ? `HTTP ${e.statusCode}: ` : ''}${message}`;
}
