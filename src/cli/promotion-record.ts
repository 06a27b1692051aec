/**
 * Inside a task of the graph: the graph passes the promotion record (`TC_PROMOTE_PROMOTION`,
 * JSON) and the artifacts folder (`TC_PROMOTE_ARTIFACTS`, published as `public/`). A step
 * adds what it did and when, and writes `public/promotion.json`. Outside a task (either
 * variable unset) nothing is written.
 */
import { join } from 'node:path';
import { ExitCode, PromoteError, UsageError } from '../errors.js';
import { writeFileWhole } from '../util/write-file.js';
import type { Io } from './common.js';


/** The record as the graph passed it; null outside a task. Checked before the step does anything. */
export function readPromotionRecord(io: Io): Record<string, unknown> | null {
  const text = io.env.TC_PROMOTE_PROMOTION;
  const dir = io.env.TC_PROMOTE_ARTIFACTS;
  // Half a task's setup is a mistake, not "outside a task": an empty folder name would put
  // promotion.json in the working directory, a lone variable would silently write nothing.
  for (const [name, value] of [['TC_PROMOTE_ARTIFACTS', dir], ['TC_PROMOTE_PROMOTION', text]] as const) {
    if (value === '') throw new UsageError(`${name}: set but empty; inside a task the graph sets it (with ${name === 'TC_PROMOTE_ARTIFACTS' ? 'TC_PROMOTE_PROMOTION' : 'TC_PROMOTE_ARTIFACTS'}); outside a task unset both`);
  }
  if ((text === undefined) !== (dir === undefined)) {
    const [set, unset] = text === undefined ? ['TC_PROMOTE_ARTIFACTS', 'TC_PROMOTE_PROMOTION'] : ['TC_PROMOTE_PROMOTION', 'TC_PROMOTE_ARTIFACTS'];
    throw new UsageError(`${set} is set but ${unset} is not: inside a task the graph sets both (the record and its folder); set both, or unset ${set} outside a task`);
  }
  if (text === undefined) return null;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    throw new UsageError('TC_PROMOTE_PROMOTION: not valid JSON');
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) throw new UsageError('TC_PROMOTE_PROMOTION: not a JSON object');
  return record as Record<string, unknown>;
}

/**
 * Write `promotion.json`: the graph's record, `time`, and the step's own fields. Written whole
 * or not at all (a temporary file renamed over it), so a full disk never leaves it empty or
 * cut short. A step writes a first version before it changes anything, so that an artifacts
 * folder it cannot write to stops it while nothing has moved.
 */
export function writePromotionRecord(io: Io, step: Record<string, unknown>, nowMs: number): string | null {
  const record = readPromotionRecord(io);
  const dir = io.env.TC_PROMOTE_ARTIFACTS;
  if (record === null || dir === undefined) return null;
  const file = join(dir, 'promotion.json');
  try {
    const text = `${JSON.stringify({ ...record, time: new Date(nowMs).toISOString(), ...step }, null, 2)}\n`;
    writeFileWhole(file, io.redactor ? io.redactor.redact(text) : text, { makeFolder: true });
  } catch (error) {
    throw new PromoteError(`TC_PROMOTE_ARTIFACTS: cannot write promotion.json in ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, ExitCode.operational);
  }
  return file;
}

/**
 * The last version of the record, after the step changed something: a failure to write it is
 * a warning, not a failed step. (A failed promote task makes the fallback force-push and
 * rebuild an image that was promoted already.)
 */
export function finishPromotionRecord(io: Io, step: Record<string, unknown>, nowMs: number, done: string): void {
  try {
    writePromotionRecord(io, step, nowMs);
  } catch (error) {
    io.stderr(`warning: ${done}, but ${(error as Error).message}; the record there is the one written before the change\n`);
  }
}
