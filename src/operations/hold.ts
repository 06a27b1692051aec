/**
 * Operations: hold, release and read the hold of a script's environment (src/history/hold.ts
 * keeps the record in the Taskcluster index). Typed options in, a typed result out; progress
 * through a callback; no console, argv or environment.
 */
import type { Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { placeHold, readHold, releaseHold, type HoldImage, type HoldIndex, type HoldKey, type HoldState } from '../history/hold.js';
import type { Runtime } from '../history/runtime.js';
import { createClients, type TaskclusterConnection } from '../taskcluster-api/clients.js';

export interface HoldTarget {
  config: Config;
  connection: TaskclusterConnection;
  script: string;
  /** The configuration's environment name. */
  env: string;
  /** An index client (tests, or one already made); made from `connection` when absent. */
  index?: HoldIndex;
}

export function holdKey(target: Pick<HoldTarget, 'config' | 'script' | 'env'>): HoldKey {
  if (!target.config.scripts.includes(target.script)) throw new UsageError(`<script>: ${quote(target.script)} is not a configured script (${target.config.scripts.join(', ')})`);
  if (!Object.hasOwn(target.config.environments, target.env)) throw new UsageError(`--env: ${quote(target.env)} is not a configured environment (${Object.keys(target.config.environments).join(', ')})`);
  return { trustDomain: target.config.taskcluster.trustDomain, project: target.config.taskcluster.project, script: target.script, env: target.env };
}

async function indexOf(target: HoldTarget): Promise<HoldIndex> {
  return target.index ?? ((await createClients(target.connection, { retries: 3 })).index as unknown as HoldIndex);
}

export function releaseCommand(script: string, env: string): string {
  return `tc-promote release ${script} --env ${env}`;
}

export interface HoldOptions extends HoldTarget {
  reason: string;
  by: string;
  nowMs: number;
  /** The image held at; absent: what the moving tag points at now, read from the registry. */
  image?: HoldImage | null;
  /** Reads the registry for the current image when `image` is absent. */
  runtime?: Runtime;
  taskGroupId?: string;
  taskId?: string;
  onProgress?: (message: string) => void;
  /** Ctrl-C: a hold being written is read back and said as written or not (HoldInterruptedError). */
  signal?: AbortSignal;
}

export interface HoldResult {
  before: HoldState;
  after: HoldState & { state: 'held' };
  releaseCommand: string;
}

export async function holdEnvironment(options: HoldOptions): Promise<HoldResult> {
  const key = holdKey(options);
  if (options.reason.trim() === '') throw new UsageError('--reason: empty; a hold says why (the push task prints it)');
  let image = options.image;
  if (image === undefined) {
    if (!options.runtime) throw new UsageError('hold: the image to hold at is unknown (no registry to read)');
    options.onProgress?.(`reading what ${options.script} ${options.env} runs`);
    const { readHistory } = await import('../history/history.js');
    const history = await readHistory(options.runtime, options.script, options.env, { limit: 1 });
    image = { tag: history.current?.tag ?? null, digest: history.movingDigest, revision: history.current?.revision ?? null };
  }
  const index = await indexOf(options);
  const before = await readHold(index, key);
  const after = await placeHold(index, { key, by: options.by, reason: options.reason, image, nowMs: options.nowMs, ...(options.taskGroupId !== undefined && { taskGroupId: options.taskGroupId }), ...(options.taskId !== undefined && { taskId: options.taskId }), ...(options.signal && { signal: options.signal }) });
  return { before, after, releaseCommand: releaseCommand(options.script, options.env) };
}

export interface ReleaseOptions extends HoldTarget {
  by: string;
  reason?: string;
  nowMs: number;
  signal?: AbortSignal;
}

export async function releaseEnvironment(options: ReleaseOptions): Promise<Awaited<ReturnType<typeof releaseHold>>> {
  const key = holdKey(options);
  return releaseHold(await indexOf(options), { key, by: options.by, nowMs: options.nowMs, ...(options.reason !== undefined && { reason: options.reason }), ...(options.signal && { signal: options.signal }) });
}

export async function readEnvironmentHold(options: HoldTarget): Promise<HoldState> {
  return readHold(await indexOf(options), holdKey(options));
}

/** A hold as status and history read it: the index's answer, or why it could not be read (never "not held" on a failure). */
export type HoldRead = HoldState | { state: 'unknown'; path: string; error: string };

export interface HoldsRequest {
  config: Config;
  connection: TaskclusterConnection;
  pairs: readonly { script: string; env: string }[];
  index?: HoldIndex;
  /** Per request (default 5 s); one retry. */
  timeoutMs?: number;
}

/** The holds of several script × environment pairs (`"<script> <env>"` → its hold), read at once (at most 8 in flight). */
export async function readHolds(request: HoldsRequest): Promise<Map<string, HoldRead>> {
  const { mapLimit } = await import('../util/concurrency.js');
  const { holdIndexPath } = await import('../history/hold.js');
  const out = new Map<string, HoldRead>();
  let index = request.index;
  if (!index) {
    try {
      index = (await createClients(request.connection, { retries: 1, timeout: request.timeoutMs ?? 5000, maxDelay: 1000 })).index as unknown as HoldIndex;
    } catch (error) {
      for (const p of request.pairs) {
        const key = holdKey({ config: request.config, ...p });
        out.set(`${p.script} ${p.env}`, { state: 'unknown', path: holdIndexPath(key), error: (error as Error).message.split('\n')[0]! });
      }
      return out;
    }
  }
  const reads = await mapLimit(request.pairs, 8, async (p): Promise<HoldRead> => {
    const key = holdKey({ config: request.config, ...p });
    try {
      return await readHold(index!, key);
    } catch (error) {
      return { state: 'unknown', path: holdIndexPath(key), error: (error as Error).message.split('\n')[0]! };
    }
  });
  request.pairs.forEach((p, i) => out.set(`${p.script} ${p.env}`, reads[i]!));
  return out;
}

/** A hold for --json: the state, where it lives, and the record's fields (who, why, when, which image). */
export function holdJson(hold: HoldRead): Record<string, unknown> {
  if (hold.state === 'none') return { state: 'none', path: hold.path };
  if (hold.state === 'unknown') return { state: 'unknown', path: hold.path, error: hold.error };
  const r = hold.record;
  return {
    state: hold.state,
    path: hold.path,
    by: r.by,
    reason: r.reason,
    at: r.at,
    image: r.image,
    taskGroupId: r.taskGroupId,
    ...(hold.state === 'released' && { releasedBy: r.releasedBy ?? null, releasedAt: r.releasedAt ?? null, releaseReason: r.releaseReason ?? null }),
  };
}
