/**
 * After the move (rollback and promote): read what the moving tag points at (never "now points
 * at" on the Queue's word), watch the environment's worker pools, and say what a person needs
 * last: what runs now and since when, what ran before, the hold, the workers, what the next push
 * will do, the undo. Typed options in, typed result out; progress through a callback.
 */
import { fs } from '../util/builtins.js';
import type { Config } from '../config/load.js';
import { parseWorkerPools, poolsOf, type WorkerPools } from '../config/pools.js';
import { describeHold, type HoldState } from '../history/hold.js';
import { openEnvironment, type Runtime } from '../history/runtime.js';
import { describeVerification, verifyWorkers, type PoolReport, type VerifyResult, type WorkerQueue } from '../taskcluster/verify.js';
import { formatAge, formatDuration } from '../util/duration.js';
import { releaseCommand } from './hold.js';

const embeddedPools = new URL('../../config/worker-pools.json', import.meta.url);

/** The worker pools file: the one given, else the embedded one (config/worker-pools.json). */
export function loadWorkerPools(file?: string): WorkerPools {
  const path = file ?? embeddedPools;
  return parseWorkerPools(fs.readFileSync(path, 'utf8'), file ?? 'config/worker-pools.json');
}

/** What the moving tag points at, asked of the registry (null: the tag does not exist). */
export async function readMovingDigest(runtime: Runtime, script: string, env: string, movingTag: string): Promise<string | null> {
  const view = openEnvironment(runtime, script, env);
  const registry = runtime.registryOverride ?? view.repo.registry;
  return (await runtime.client.headManifest({ registry, repository: view.repo.repository, tag: movingTag }))?.digest ?? null;
}

export interface VerifyAfterMoveOptions {
  queue: WorkerQueue;
  pools: WorkerPools;
  script: string;
  env: string;
  sinceMs: number;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  onProgress?: (pools: readonly PoolReport[]) => void;
}

export async function verifyAfterMove(options: VerifyAfterMoveOptions): Promise<VerifyResult> {
  return verifyWorkers({
    queue: options.queue,
    pools: poolsOf(options.pools, options.script, options.env),
    sinceMs: options.sinceMs,
    timeoutMs: options.timeoutMs,
    ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
    ...(options.signal && { signal: options.signal }),
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
}

/** After a completed retag: what the registry says, the hold, the workers. */
export interface AfterMove {
  readDigest: string | null;
  /** When the tag moved (the promote step's record time, else when following ended). */
  movedAtMs: number;
  hold: HoldState | { state: 'unknown'; error: string } | { state: 'skipped' };
  verification: VerifyResult | { outcome: 'skipped'; why: string };
}

export interface ReadAfterMoveOptions {
  runtime: Runtime;
  script: string;
  env: string;
  movingTag: string;
  targetDigest: string | null;
  /** The promote step's record's time (when the tag moved), if it wrote one. */
  recordTime: unknown;
  /** Reads the hold; null: not held on purpose (--no-hold). */
  hold: (() => Promise<HoldState>) | null;
  verify: { pools: WorkerPools; timeoutMs: number; intervalMs?: number } | null;
  queue: unknown;
  nowMs: () => number;
  signal?: AbortSignal;
  onVerifyProgress?: (pools: readonly PoolReport[]) => void;
  /** Why the workers are not watched (the promotion did not complete). */
  skipVerify?: string;
}

/** The tasks say they completed: what does the registry say (a Queue's word is not a moved tag), the hold, the workers. */
export async function readAfterMove(o: ReadAfterMoveOptions): Promise<AfterMove> {
  const readDigest = await readMovingDigest(o.runtime, o.script, o.env, o.movingTag).catch(() => null);
  const recordTime = Date.parse(String(o.recordTime ?? ''));
  const movedAtMs = Number.isFinite(recordTime) ? recordTime : o.nowMs();
  const hold: AfterMove['hold'] = o.hold === null ? { state: 'skipped' } : await o.hold().catch((error: unknown) => ({ state: 'unknown' as const, error: (error as Error).message }));
  let verification: AfterMove['verification'];
  if (o.skipVerify) verification = { outcome: 'skipped', why: o.skipVerify };
  else if (!o.verify) verification = { outcome: 'skipped', why: '--no-verify' };
  else if (readDigest !== o.targetDigest) verification = { outcome: 'skipped', why: 'the moving tag does not point at the target' };
  else {
    verification = await verifyAfterMove({ queue: o.queue as WorkerQueue, pools: o.verify.pools, script: o.script, env: o.env, sinceMs: movedAtMs, timeoutMs: o.verify.timeoutMs, ...(o.verify.intervalMs !== undefined && { intervalMs: o.verify.intervalMs }), ...(o.signal && { signal: o.signal }), ...(o.onVerifyProgress && { onProgress: o.onVerifyProgress }) });
  }
  return { readDigest, movedAtMs, hold, verification };
}

export interface Summary {
  script: string;
  env: string;
  reference: string;
  /** What the registry says the moving tag points at, read after the tasks (undefined: could not be read). */
  readDigest: string | null | undefined;
  /** The promotion did not complete (a task failed, or was cancelled): say what runs, not what moved. */
  incomplete?: boolean;
  expectedDigest: string | null;
  nowTag: string | null;
  nowSinceMs: number;
  beforeTag: string | null;
  beforeDigest: string | null;
  hold: HoldState | { state: 'unknown'; error: string } | { state: 'skipped' };
  verification: VerifyResult | { outcome: 'skipped'; why: string };
  verifyTimeoutMs: number;
  undo: string | null;
  nowMs: number;
}

/** The last lines of a completed retag. */
export function summaryLines(s: Summary): string[] {
  const lines: string[] = [];
  const moved = s.readDigest !== null && s.readDigest === s.expectedDigest;
  const when = `since ${new Date(s.nowSinceMs).toISOString().replace(/\.\d{3}Z$/, 'Z')} (${formatAge((s.nowMs - s.nowSinceMs) / 1000)} ago)`;
  if (s.incomplete) {
    // The promotion did not complete: what the tag reads is the whole truth of what runs.
    lines.push(
      s.readDigest === undefined
        ? `now:     ${s.reference} could not be read from the registry: tc-promote history ${s.script} --env ${s.env}`
        : moved
          ? `now:     ${s.reference} points at ${s.readDigest} (${s.nowTag ?? 'the target'}), read from the registry: the tag moved, though the promotion did not complete`
          : s.readDigest !== null && s.readDigest === s.beforeDigest
            ? `now:     ${s.reference} points at ${s.readDigest} (${s.beforeTag ?? 'no archive tag'}), read from the registry: nothing moved, it runs what it ran before`
            : `now:     ${s.reference} points at ${s.readDigest ?? '(no such tag)'}: neither the target nor what it ran before (another push or promotion?); tc-promote history ${s.script} --env ${s.env}`,
    );
  } else
  lines.push(
    moved
      ? `now:     ${s.reference} points at ${s.readDigest} (${s.nowTag ?? 'no archive tag'}), read from the registry; ${when}`
      : `now:     ${s.reference} points at ${s.readDigest ?? '(no such tag)'}, NOT at ${s.expectedDigest ?? '?'}: the tasks completed but the tag reads otherwise (another push or promotion moved it since?); tc-promote history ${s.script} --env ${s.env}`,
  );
  lines.push(`before:  ${s.beforeTag ?? '(no archive tag)'} (${s.beforeDigest ?? '?'})`);
  const release = releaseCommand(s.script, s.env);
  if (s.hold.state === 'skipped') lines.push(`hold:    not held (--no-hold): the next push to the deploy branch moves ${s.reference} again`);
  else if (s.hold.state === 'unknown') lines.push(`hold:    unknown (${s.hold.error})`);
  else lines.push(`hold:    ${describeHold(s.hold, s.nowMs, release)}${s.incomplete && !moved && s.hold.state === 'held' ? ` (the tag did not move: ${release}, or roll back again)` : ''}`);
  if (s.verification.outcome === 'skipped') lines.push(`workers: not verified (${s.verification.why})`);
  else {
    const [head, ...pools] = describeVerification(s.verification, formatDuration(s.verifyTimeoutMs / 1000));
    lines.push(head!, ...pools);
  }
  const held = s.hold.state === 'held';
  lines.push(held ? `next push: writes its archive tag only; ${s.reference} stays until ${release}` : `next push: moves ${s.reference} to what it builds (tc-promote hold ${s.script} --env ${s.env} --reason … keeps it)`);
  if (s.undo) lines.push(`undo: ${s.undo}`);
  return lines;
}

export function verificationExit(result: VerifyResult | { outcome: 'skipped' }): number {
  return result.outcome === 'failing' ? 1 : 0;
}

export type { Config };
