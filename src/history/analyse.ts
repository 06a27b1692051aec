/**
 * History semantics (docs/contract.md, History), as pure functions over one repository's archive tags
 * (every environment), the digests looked up so far and each environment's moving tag.
 * Everything is linear in the number of tags (hash maps keyed by revision and digest), so
 * 200,000 tags cost a sort and a few passes.
 *
 * Per environment, deploys e0 (newest) … e(n-1):
 * - current: the newest deploy whose digest is the moving tag's.
 * - liveSeconds: until the next newer deploy; for e0, until now when it is current, until the
 *   moving tag was moved away when that time is known (Docker Hub says when a tag was last
 *   pushed), else null (unknown: the moving tag was moved without an archive tag), with
 *   liveSecondsAtMost as the bound.
 * - sameImage(a, b): the same revision when both tags record one, else the same digest.
 * - redeployOf: the nearest older deploy that is the same image.
 * - rolledBack: the next newer deploy (for e0: the moving tag's state, when it was moved back
 *   to an older deploy) is not the same image and an older deploy is.
 * Across the repository (every environment, one newest-first order):
 * - promotedFrom: the nearest older deploy with the same digest (a promotion or a retag rollback).
 * - rebuildOf: a digest no older deploy had, of a revision deployed before in the same
 *   environment: the nearest such deploy (a branch-rebuild rollback). Claimed only when every
 *   older deploy of that revision has a known digest.
 * - image live time: the sum of liveSeconds over every deploy of a digest, plus the time the
 *   moving tag has pointed back at it since it was moved back (when known).
 *
 * A digest is one image built from one revision: the deploys of a digest are deploys of the
 * same revision (or, in the gap era, of none). Lookups rely on that to fetch only the
 * digests a question needs; the analysis itself does not.
 */
import type { ArchiveTag } from './tags.js';

export interface Deploy {
  tag: string;
  env: string;
  era: ArchiveTag['era'];
  date: string;
  revision: string | null;
  version?: string;
  /** Present once looked up (absent when not looked up, or when the image is gone). */
  digest?: string;
  /** The tag lists but its manifest does not resolve: the image is gone (absent: not known to be). */
  gone?: true;
  /** null: it stopped being live at an unknown time (the moving tag was moved without an archive tag). */
  liveSeconds: number | null;
  /** With liveSeconds null: the most it can have been live (until now). */
  liveSecondsAtMost?: number;
  current: boolean;
  rolledBack: boolean;
  /** The older deploy's tag when this revision (or digest) was deployed before. */
  redeployOf: string | null;
  /** The nearest older deploy (any environment) with the same digest: this deploy is a promotion of that image. */
  promotedFrom: string | null;
  /** The nearest older deploy of this environment with the same revision, when this digest is new: a rebuild. */
  rebuildOf: string | null;
}

export interface MovingState {
  /** The digest the moving tag points at now; null: the tag does not exist. */
  digest: string | null;
  /** When the moving tag was last written, where the registry says (Docker Hub's tag_last_pushed). */
  movedAtMs?: number;
}

/** The moving tag points at an older deploy than the newest archive tag: moved back without an archive tag. */
export interface MovedBack {
  /** How many archive tags are newer than current. */
  newer: number;
  newestTag: string;
  /** When the moving tag was moved back, if known. */
  movedAtMs?: number;
  /** Seconds since then (null: unknown). */
  sinceSeconds: number | null;
}

export interface EnvironmentAnalysis {
  env: string;
  deploys: Deploy[];
  /** Index of current in deploys, -1 when unknown. */
  currentIndex: number;
  /** Whether the moving tag's state was given (another environment's may not have been read). */
  movingKnown: boolean;
  movedBack: MovedBack | null;
  /** Indexes of the gap-era deploys (no revision), newest first. */
  gapIndexes: readonly number[];
  /** Index of a deploy by its tag, -1 when it is not one of this environment's. */
  indexOfTag(tag: string): number;
}

export interface RepositoryAnalysis {
  /** Each environment's analysis, built when first asked for (history of one environment builds one). */
  envs: ReadonlyMap<string, EnvironmentAnalysis>;
  /** Every deploy of a digest, any environment, newest first. */
  deploysOfDigest(digest: string): Deploy[];
  /** Every deploy of a revision ('' for the gap era), any environment, newest first. */
  byRevision: { get(revision: string): Deploy[] | undefined };
  /** The image is gone: listed, no manifest. */
  isGone(tag: string): boolean;
  /** The digest has not been looked up. */
  isUnknown(tag: string): boolean;
  nowMs: number;
}

/** What the analysis reads: digests as looked up (null: gone; undefined: not looked up). */
export type DigestOf = (tag: string) => string | null | undefined;

export function sameImage(a: Pick<Deploy, 'revision' | 'digest'>, b: Pick<Deploy, 'revision' | 'digest'>): boolean {
  if (a.revision !== null && b.revision !== null) return a.revision === b.revision;
  return a.digest !== undefined && a.digest === b.digest;
}

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));

export interface EnvironmentIndex {
  env: string;
  /** Positions in the repository's order of this environment's deploys, newest first. */
  positions: Int32Array;
  /** Index (in this environment) of the nearest older deploy of the same revision, -1: none. */
  olderOfRevision: Int32Array;
  gapIndexes: number[];
}

/** What the tags alone say, built once per tag list: environments, orders, revision chains. */
export interface RepositoryIndex {
  tags: readonly ArchiveTag[];
  envs: ReadonlyMap<string, EnvironmentIndex>;
  /** Index within its environment of each position. */
  indexInEnv: Int32Array;
  /** Position of the nearest older deploy of the same revision, any environment (-1: none; gap era: none). */
  olderOfRevision: Int32Array;
  /** Position of the newest deploy of each revision ('' : the newest gap-era deploy). */
  newestOfRevision: Map<string, number>;
  /** Position of the nearest older gap-era deploy (chain of the gap era). */
  olderGap: Int32Array;
}

/** Index a repository's archive tags (every environment), newest first (compareNewestFirst). */
export function indexRepository(tags: readonly ArchiveTag[]): RepositoryIndex {
  const n = tags.length;
  const indexInEnv = new Int32Array(n);
  const olderOfRevision = new Int32Array(n).fill(-1);
  const olderGap = new Int32Array(n).fill(-1);
  const newestOfRevision = new Map<string, number>();
  const building = new Map<string, { positions: number[]; gapIndexes: number[]; olderOfRevision: number[]; last: Map<string, number> }>();
  // Oldest first: every chain link points at the deploy seen just before.
  const lastGlobal = new Map<string, number>();
  let lastGap = -1;
  for (let k = n - 1; k >= 0; k--) {
    const t = tags[k]!;
    if (t.revision === null) {
      olderGap[k] = lastGap;
      lastGap = k;
    } else {
      const older = lastGlobal.get(t.revision);
      if (older !== undefined) olderOfRevision[k] = older;
      lastGlobal.set(t.revision, k);
    }
  }
  for (const [revision, k] of lastGlobal) newestOfRevision.set(revision, k);
  if (lastGap >= 0) newestOfRevision.set('', lastGap);
  for (let k = 0; k < n; k++) {
    const t = tags[k]!;
    let e = building.get(t.env);
    if (!e) building.set(t.env, (e = { positions: [], gapIndexes: [], olderOfRevision: [], last: new Map() }));
    indexInEnv[k] = e.positions.length;
    e.positions.push(k);
    if (t.revision === null) e.gapIndexes.push(indexInEnv[k]!);
  }
  const envs = new Map<string, EnvironmentIndex>();
  for (const [env, e] of building) {
    // Within the environment: follow the repository chain to the next deploy of this environment.
    const older = new Int32Array(e.positions.length).fill(-1);
    const lastInEnv = new Map<string, number>();
    for (let i = e.positions.length - 1; i >= 0; i--) {
      const revision = tags[e.positions[i]!]!.revision;
      if (revision === null) continue;
      const j = lastInEnv.get(revision);
      if (j !== undefined) older[i] = j;
      lastInEnv.set(revision, i);
    }
    envs.set(env, { env, positions: Int32Array.from(e.positions), olderOfRevision: older, gapIndexes: e.gapIndexes });
  }
  return { tags, envs, indexInEnv, olderOfRevision, newestOfRevision, olderGap };
}

/** Environments analysed on first use. */
class LazyEnvironments implements ReadonlyMap<string, EnvironmentAnalysis> {
  private readonly built = new Map<string, EnvironmentAnalysis>();
  constructor(
    private readonly names: readonly string[],
    private readonly build: (env: string) => EnvironmentAnalysis,
  ) {}
  get size(): number {
    return this.names.length;
  }
  has(env: string): boolean {
    return this.names.includes(env);
  }
  get(env: string): EnvironmentAnalysis | undefined {
    if (!this.names.includes(env)) return undefined;
    let e = this.built.get(env);
    if (!e) this.built.set(env, (e = this.build(env)));
    return e;
  }
  *entries(): MapIterator<[string, EnvironmentAnalysis]> {
    for (const env of this.names) yield [env, this.get(env)!];
  }
  *keys(): MapIterator<string> {
    yield* this.names;
  }
  *values(): MapIterator<EnvironmentAnalysis> {
    for (const env of this.names) yield this.get(env)!;
  }
  [Symbol.iterator](): MapIterator<[string, EnvironmentAnalysis]> {
    return this.entries();
  }
  forEach(fn: (value: EnvironmentAnalysis, key: string, map: ReadonlyMap<string, EnvironmentAnalysis>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/**
 * Analyse a repository: its index (indexRepository), the digests looked up so far, and the
 * moving tag of each environment read so far, by archive prefix.
 */
export function analyseRepository(source: RepositoryIndex | readonly ArchiveTag[], digestOf: DigestOf, moving: ReadonlyMap<string, MovingState>, nowMs: number): RepositoryAnalysis {
  const index = 'envs' in source ? source : indexRepository(source);
  const { tags } = index;
  const n = tags.length;
  // Across environments, oldest first, over the digests known: the nearest older deploy of
  // each digest (a promotion), and rebuilds. Only positions with a known digest are visited.
  // Oldest first: the positions with a known digest, and whether every older deploy of each
  // one's revision has been looked up (a rebuild is claimed only then).
  const known: number[] = [];
  const olderLookedUp = new Uint8Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const looked = digestOf(tags[k]!.tag);
    const j = index.olderOfRevision[k]!;
    olderLookedUp[k] = j < 0 || (digestOf(tags[j]!.tag) !== undefined && olderLookedUp[j] === 1) ? 1 : 0;
    if (typeof looked === 'string') known.push(k);
  }
  const promotedFrom = new Map<number, number>();
  const rebuildOf = new Map<number, number>();
  const byDigest = new Map<string, number[]>();
  const lastOfDigest = new Map<string, number>();
  for (const k of known) {
    const digest = digestOf(tags[k]!.tag) as string;
    const earlier = lastOfDigest.get(digest);
    lastOfDigest.set(digest, k);
    let same = byDigest.get(digest);
    if (!same) byDigest.set(digest, (same = []));
    same.push(k);
    if (earlier !== undefined) promotedFrom.set(k, earlier);
    else if (tags[k]!.revision !== null) {
      // A new digest of a revision deployed before in this environment, when every older deploy of the revision is known.
      const e = index.envs.get(tags[k]!.env)!;
      const older = e.olderOfRevision[index.indexInEnv[k]!]!;
      if (olderLookedUp[k] === 1 && older >= 0) rebuildOf.set(k, e.positions[older]!);
    }
  }
  const links = { promotedFrom, rebuildOf };
  const envs = new LazyEnvironments([...index.envs.keys()], (env) => analyseEnvironment(index, index.envs.get(env)!, digestOf, moving.get(env), nowMs, links));
  const deployAt = (k: number): Deploy => envs.get(tags[k]!.env)!.deploys[index.indexInEnv[k]!]!;
  return {
    envs,
    deploysOfDigest: (digest) => (byDigest.get(digest) ?? []).map(deployAt).reverse(),
    byRevision: {
      get: (revision) => {
        const out: Deploy[] = [];
        const chain = revision === '' ? index.olderGap : index.olderOfRevision;
        for (let k = index.newestOfRevision.get(revision) ?? -1; k >= 0; k = chain[k]!) out.push(deployAt(k));
        return out.length ? out : undefined;
      },
    },
    isGone: (tag) => digestOf(tag) === null,
    isUnknown: (tag) => digestOf(tag) === undefined,
    nowMs,
  };
}

function analyseEnvironment(
  index: RepositoryIndex,
  e: EnvironmentIndex,
  digestOf: DigestOf,
  moving: MovingState | undefined,
  nowMs: number,
  links: { promotedFrom: ReadonlyMap<number, number>; rebuildOf: ReadonlyMap<number, number> },
): EnvironmentAnalysis {
  const { tags } = index;
  const positions = e.positions;
  const n = positions.length;
  const deploys: Deploy[] = new Array(n);
  let currentIndex = -1;
  let searching = moving?.digest != null;
  let newerMs = 0;
  for (let i = 0; i < n; i++) {
    const k = positions[i]!;
    const t = tags[k]!;
    const looked = digestOf(t.tag);
    const digest = typeof looked === 'string' ? looked : undefined;
    const from = digest !== undefined ? links.promotedFrom.get(k) : undefined;
    const rebuilt = digest !== undefined ? links.rebuildOf.get(k) : undefined;
    // One shape for every deploy (absent fields undefined: JSON leaves them out).
    deploys[i] = {
      tag: t.tag,
      env: t.env,
      era: t.era,
      date: t.date,
      revision: t.revision,
      version: t.version,
      digest,
      gone: looked === null ? true : undefined,
      liveSeconds: i > 0 ? seconds(newerMs - t.epochMs) : null,
      liveSecondsAtMost: undefined,
      current: false,
      rolledBack: false,
      redeployOf: null,
      promotedFrom: from !== undefined ? tags[from]!.tag : null,
      rebuildOf: rebuilt !== undefined ? tags[rebuilt]!.tag : null,
    };
    newerMs = t.epochMs;
    // Current is the newest match: decided only while every newer deploy's digest is known.
    if (searching) {
      if (digest !== undefined && digest === moving!.digest) {
        currentIndex = i;
        searching = false;
      } else if (looked === undefined) searching = false;
    }
  }
  let movedBack: MovedBack | null = null;
  if (n > 0) {
    const newest = deploys[0]!;
    const newestMs = tags[positions[0]!]!.epochMs;
    const since = nowMs - newestMs;
    // A push time counts only for a tag that exists, pushed after the newest archive tag.
    const movedAt = moving?.digest != null && moving.movedAtMs !== undefined && moving.movedAtMs >= newestMs && moving.movedAtMs <= nowMs ? moving.movedAtMs : undefined;
    if (currentIndex === 0) newest.liveSeconds = seconds(since);
    else if (movedAt !== undefined) newest.liveSeconds = seconds(movedAt - newestMs);
    else newest.liveSecondsAtMost = seconds(since);
    if (currentIndex > 0) {
      movedBack = { newer: currentIndex, newestTag: newest.tag, ...(movedAt !== undefined && { movedAtMs: movedAt }), sinceSeconds: movedAt !== undefined ? seconds(nowMs - movedAt) : null };
    }
  }
  if (currentIndex >= 0) deploys[currentIndex]!.current = true;

  // redeployOf: the nearest older deploy of the revision (indexed once), or, where a gap-era
  // deploy is involved, of the digest (oldest first, over the known digests).
  const redeployIndex = new Int32Array(n);
  const gapEra = e.gapIndexes.length > 0;
  const lastGapOfDigest = gapEra ? new Map<string, number>() : undefined;
  const lastOfDigest = gapEra ? new Map<string, number>() : undefined;
  for (let i = n - 1; i >= 0; i--) {
    const d = deploys[i]!;
    let nearest = -1;
    if (d.revision !== null) {
      nearest = e.olderOfRevision[i]!;
      if (lastGapOfDigest && d.digest !== undefined) {
        const j = lastGapOfDigest.get(d.digest);
        if (j !== undefined && (nearest < 0 || j < nearest)) nearest = j;
      }
    } else if (lastOfDigest && d.digest !== undefined) {
      nearest = lastOfDigest.get(d.digest) ?? -1;
    }
    redeployIndex[i] = nearest;
    if (nearest >= 0) d.redeployOf = deploys[nearest]!.tag;
    if (lastOfDigest && d.digest !== undefined) {
      lastOfDigest.set(d.digest, i);
      if (d.revision === null) lastGapOfDigest!.set(d.digest, i);
    }
  }
  // Rolled back: the next newer deploy is another image, and an older deploy is that image.
  for (let i = 1; i < n; i++) deploys[i]!.rolledBack = redeployIndex[i - 1]! > i;
  // The newest, when the moving tag was moved back to an older deploy: the move is its next newer "deploy".
  if (currentIndex > 0) {
    const back = { revision: deploys[currentIndex]!.revision, digest: moving!.digest ?? undefined };
    deploys[0]!.rolledBack = !sameImage(back, deploys[0]!);
  }
  let byTag: Map<string, number> | undefined;
  return {
    env: e.env,
    deploys,
    currentIndex,
    movingKnown: moving !== undefined,
    movedBack,
    gapIndexes: e.gapIndexes,
    indexOfTag: (tag) => {
      byTag ??= new Map(deploys.map((d, i) => [d.tag, i]));
      return byTag.get(tag) ?? -1;
    },
  };
}

export interface ImageLive {
  /** Seconds live in total, counting unknown parts as 0. */
  seconds: number;
  /** Some part is unknown (a deploy moved away from at an unknown time): the image lived at least `seconds`. */
  atLeast: boolean;
  /** Each deploy of the digest and its part, newest first; `current` when it is live now. */
  parts: { tag: string; env: string; seconds: number | null; current: boolean }[];
  /** Time the moving tag has pointed back at the image since it was moved back, per environment. */
  movedBack: { env: string; seconds: number | null }[];
}

/** The image's live time: every deploy of the digest in every environment, and moved-back stints. */
export function imageLive(analysis: RepositoryAnalysis, digest: string): ImageLive {
  const deploys = analysis.deploysOfDigest(digest);
  const parts = deploys.map((d) => ({ tag: d.tag, env: d.env, seconds: d.liveSeconds, current: d.current && analysis.envs.get(d.env)?.currentIndex === 0 }));
  const movedBack: ImageLive['movedBack'] = [];
  // A moving tag moved back to the image: in an environment where one of its deploys is current.
  for (const env of new Set(deploys.map((d) => d.env))) {
    const e = analysis.envs.get(env)!;
    const current = e.deploys[e.currentIndex];
    if (e.movedBack && current?.digest === digest) movedBack.push({ env, seconds: e.movedBack.sinceSeconds });
  }
  let total = 0;
  let atLeast = false;
  for (const p of [...parts, ...movedBack]) {
    if (p.seconds === null) atLeast = true;
    else total += p.seconds;
  }
  return { seconds: total, atLeast, parts, movedBack };
}
