/**
 * Promotion records from the Taskcluster index. A promote task is indexed (when it
 * completes) at `<trust domain>.v2.<project>.promotion.<script>.<env>.<YYYY>.<MM>.<DD>.<stamp>`,
 * where the stamp is the graph's clock, the same one in the archive tag it writes; its
 * `public/promotion.json` says who asked, why and in which task group. So a deploy's archive
 * tag names the index path of the promotion that made it.
 *
 * One findTasksAtIndex request for every row asked about, then the records and task definitions
 * of the tasks found at once.
 *
 * An index path holds whatever task last wrote it, and a path is only a date: any role that may
 * write `index.<trust domain>.v2.<project>.*` (pull-request and branch roles of the project can)
 * can put a task there. So a record is attached to a deploy only when it names that deploy (its
 * archive tag and digest) and its task was scheduled by the configured scheduler
 * (`<trust domain>-level-<level>`: creating a task under it needs `queue:scheduler-id:<it>`, which
 * only the level's roles hold, and every task of a task group shares it, the decision task's
 * included). Anything else found at a deploy's path is kept as `unattributed`, with why, and
 * never shown as that deploy's reason or requester. This is an optional read: every failure becomes a note, never the command's error.
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
  /** The deploy the record names: the archive tag the step wrote and the digest it moved. */
  archiveTag: string | null;
  digest: string | null;
  /** The task's schedulerId (its definition's). */
  schedulerId: string | null;
  /** What the confirmation said (from, to, hold, nextPush), when the promotion was confirmed by a person. */
  confirmed?: Record<string, string>;
  /** How the step ended, as its record says (written, unchanged, failed, raced, …). */
  outcome?: string;
}

/** An index entry at a deploy's path that is not believed to be its promotion, and why. */
export interface UnattributedRecord {
  taskId: string;
  schedulerId: string | null;
  why: string;
}

export interface RecordsResult {
  /** read: the index answered (records may still be missing); unreachable: it did not. */
  state: 'read' | 'unreachable';
  byTag: Map<string, PromotionRecord>;
  /** Entries found at a deploy's path that do not pass the checks above. */
  unattributed: Map<string, UnattributedRecord>;
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
  /** The scheduler a promotion's task must have (`<trust domain>-level-<level>`). */
  schedulerId: string;
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
  const unattributed = new Map<string, UnattributedRecord>();
  const notes: string[] = [];
  const where = request.connection.viaProxy ? 'the Taskcluster proxy' : request.connection.rootUrl;
  if (request.deploys.length === 0) return { state: 'read', byTag, unattributed, notes };
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
    return { state: 'unreachable', byTag, unattributed, notes };
  }
  found = found.filter((t) => tagsOfPath.has(t.namespace));
  const unreadable: string[] = [];
  await mapLimit(found, 8, async (task) => {
    let record: Record<string, unknown> | null = null;
    let definition: Record<string, unknown> | null = null;
    const [recordRead, definitionRead] = await Promise.allSettled([downloadRecord(queue, task.taskId), queue.task(task.taskId) as Promise<unknown>]);
    if (recordRead.status === 'fulfilled') record = recordRead.value;
    else unreadable.push(`${task.taskId} (${firstLine(recordRead.reason)})`);
    if (definitionRead.status === 'fulfilled' && definitionRead.value !== null && typeof definitionRead.value === 'object') definition = definitionRead.value as Record<string, unknown>;
    const text = (key: string): string | null => (record && typeof record[key] === 'string' ? (record[key] as string) : null);
    const group = text('taskGroupId');
    const schedulerId = definition && typeof definition.schedulerId === 'string' ? definition.schedulerId : null;
    const taskGroupOfTask = definition && typeof definition.taskGroupId === 'string' ? definition.taskGroupId : null;
    const found: PromotionRecord = {
      taskId: task.taskId,
      taskGroupId: group !== null && isSlugid(group) ? group : null,
      reason: text('reason'),
      requester: text('requester'),
      time: text('time'),
      from: text('from'),
      to: text('to'),
      archiveTag: namedArchiveTag(record),
      digest: text('digest'),
      schedulerId,
    };
    const confirmed = record && record.confirmed && typeof record.confirmed === 'object' && !Array.isArray(record.confirmed) ? Object.fromEntries(Object.entries(record.confirmed as Record<string, unknown>).filter(([, v]) => typeof v === 'string')) as Record<string, string> : undefined;
    if (confirmed) found.confirmed = confirmed;
    const outcome = text('outcome');
    if (outcome !== null) found.outcome = outcome;
    for (const tag of tagsOfPath.get(task.namespace) ?? []) {
      const why = definition === null
        ? `its task definition could not be read (${definitionRead.status === 'rejected' ? firstLine(definitionRead.reason) : 'not an object'}), so who scheduled it is unknown`
        : record === null
          ? 'its public/promotion.json could not be read, so it names no deploy'
          : unattributedWhy(found, taskGroupOfTask, tag, request.schedulerId);
      if (why === null) byTag.set(tag, found);
      else unattributed.set(tag, { taskId: task.taskId, schedulerId, why });
    }
  });
  if (unreadable.length) notes.push(`promotion records: public/promotion.json of ${unreadable.slice(0, 3).join(', ')}${unreadable.length > 3 ? ', …' : ''} could not be read`);
  return { state: 'read', byTag, unattributed, notes };
}

/** The archive tag a step's record says it wrote: copy's `archiveTag` ({tag, outcome} or a tag), or a rerun's push task's. */
function namedArchiveTag(record: Record<string, unknown> | null): string | null {
  if (!record) return null;
  const tagOf = (value: unknown): string | null => (typeof value === 'string' ? value : value !== null && typeof value === 'object' && typeof (value as { tag?: unknown }).tag === 'string' ? (value as { tag: string }).tag : null);
  return tagOf(record.archiveTag) ?? (record.pushTask !== null && typeof record.pushTask === 'object' ? tagOf((record.pushTask as { archiveTag?: unknown }).archiveTag) : null);
}

/**
 * Why the record found at a deploy's index path is not that deploy's promotion; null: as far as
 * the index can tell it is (the digest is matched once the deploy's is known: `digestMismatch`).
 */
export function unattributedWhy(record: PromotionRecord, taskGroupOfTask: string | null, tag: string, schedulerId: string): string | null {
  if (record.schedulerId !== schedulerId) return `was scheduled by ${record.schedulerId === null ? 'no schedulerId' : JSON.stringify(record.schedulerId)}, not the configured ${JSON.stringify(schedulerId)}`;
  if (record.taskGroupId !== null && taskGroupOfTask !== null && record.taskGroupId !== taskGroupOfTask) return `says task group ${record.taskGroupId}, but its task is in ${taskGroupOfTask}`;
  if (record.archiveTag === null) return `names no archive tag (its record does not say it wrote ${tag})`;
  if (record.archiveTag !== tag) return `names archive tag ${record.archiveTag}, not ${tag}`;
  if (record.digest === null) return `names no digest for ${tag}`;
  return null;
}

/** Why a record that names `tag` is still not its promotion: its digest is not the deploy's (or the deploy's is unknown). */
export function digestMismatch(record: PromotionRecord, tag: string, digest: string | undefined): string | null {
  if (digest === undefined) return `names digest ${record.digest}, but the digest of ${tag} was not looked up, so they cannot be matched`;
  if (record.digest !== digest) return `names digest ${record.digest}, but ${tag} is ${digest}`;
  return null;
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

/** The note that says how many index entries were not attributed, and the first one's reason. */
export function unattributedNote(entries: readonly (readonly [string, UnattributedRecord])[]): string | null {
  if (!entries.length) return null;
  const [tag, first] = entries[0]!;
  return `promotion records: ${entries.length} index entr${entries.length === 1 ? 'y' : 'ies'} at a deploy's path not shown as its promotion, because not every check passed (first, ${tag}: task ${first.taskId} ${first.why}); the rows say so, and --json lists each under unattributedRecord`;
}

function firstLine(error: unknown): string {
  const e = error as { statusCode?: number; message?: string; code?: string };
  const message = String(e?.message ?? error).split('\n')[0]!.slice(0, 200);
  return `${typeof e?.statusCode === 'number' ? `HTTP ${e.statusCode}: ` : ''}${message}`;
}
