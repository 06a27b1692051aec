/**
 * History semantics (SPEC section 3), as pure functions over archive tags and the digests
 * looked up so far: live time, current, rolled back, redeploys, previous-known-good.
 */
import type { ArchiveTag } from './tags.js';

export interface Deploy {
  tag: string;
  env: string;
  era: ArchiveTag['era'];
  date: string;
  revision: string | null;
  version?: string;
  /** Present once looked up. */
  digest?: string;
  liveSeconds: number;
  current: boolean;
  rolledBack: boolean;
  /** The older deploy's tag when this revision (or digest) was deployed before. */
  redeployOf: string | null;
}

/** Deploys of one environment, newest first, with live time, redeploys and rollbacks. */
export function analyseDeploys(tags: readonly ArchiveTag[], digests: ReadonlyMap<string, string>, nowMs: number): Deploy[] {
  const deploys: Deploy[] = tags.map((t, i) => {
    const newer = tags[i - 1];
    const until = newer ? newer.epochMs : nowMs;
    const digest = digests.get(t.tag);
    return {
      tag: t.tag,
      env: t.env,
      era: t.era,
      date: t.date,
      revision: t.revision,
      ...(t.version !== undefined && { version: t.version }),
      ...(digest !== undefined && { digest }),
      liveSeconds: Math.max(0, Math.round((until - t.epochMs) / 1000)),
      current: false,
      rolledBack: false,
      redeployOf: null,
    };
  });
  for (let i = 0; i < deploys.length; i++) {
    const deploy = deploys[i]!;
    const older = deploys.slice(i + 1);
    deploy.redeployOf = older.find((o) => sameImage(o, deploy))?.tag ?? null;
  }
  // A deploy is rolled back when the next newer one brings back something live before it.
  for (let i = 1; i < deploys.length; i++) {
    const newer = deploys[i - 1]!;
    const deploy = deploys[i]!;
    if (sameImage(newer, deploy)) continue;
    if (deploys.slice(i + 1).some((o) => sameImage(o, newer))) deploy.rolledBack = true;
  }
  return deploys;
}

/** Same revision, or (when a revision is missing) the same digest. */
export function sameImage(a: Pick<Deploy, 'revision' | 'digest'>, b: Pick<Deploy, 'revision' | 'digest'>): boolean {
  if (a.revision !== null && b.revision !== null) return a.revision === b.revision;
  return a.digest !== undefined && a.digest === b.digest;
}

export interface PreviousCriteria {
  /** Tags, revisions (or prefixes of 7+) and digests to pass over. */
  skip: readonly string[];
  minLiveSeconds?: number;
}

export function isSkipped(deploy: Deploy, skip: readonly string[]): boolean {
  return skip.some(
    (s) => s === deploy.tag || (deploy.digest !== undefined && s === deploy.digest) || (deploy.revision !== null && s.length >= 7 && deploy.revision.startsWith(s)),
  );
}

export type Verdict = 'candidate' | 'same-as-current' | 'rolled-back' | 'skipped' | 'too-short' | 'needs-digest';

/** Why a deploy older than current is or is not the previous-known-good. */
export function judgeCandidate(deploy: Deploy, current: Deploy, criteria: PreviousCriteria): Verdict {
  if (deploy.revision !== null && current.revision !== null && deploy.revision === current.revision) return 'same-as-current';
  if (deploy.rolledBack) return 'rolled-back';
  if (isSkipped(deploy, criteria.skip)) return 'skipped';
  if (criteria.minLiveSeconds !== undefined && deploy.liveSeconds < criteria.minLiveSeconds) return 'too-short';
  if (deploy.digest === undefined) return 'needs-digest';
  if (deploy.digest === current.digest) return 'same-as-current';
  return 'candidate';
}
