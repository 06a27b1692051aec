/**
 * Choosing the previous-known-good (docs/contract.md, History) and saying why every newer deploy was
 * passed over. Pure: it reads an analysis and either decides, or names the digests (and
 * moving tags) it must know first; history.ts looks those up and asks again. A verdict is
 * never taken on a digest that was not looked up.
 */
import { UsageError, quote } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { imageLive, type Deploy, type EnvironmentAnalysis, type RepositoryAnalysis, type RepositoryIndex } from './analyse.js';
import type { ArchiveTag } from './tags.js';

/** A `--skip` value: a tag (exact), a revision prefix of 7+ hex (any case) or a digest (exact). */
export interface SkipValue {
  /** As the user typed it, for messages. */
  text: string;
  kind: 'tag' | 'revision' | 'digest';
  /** Lower-cased for revisions. */
  value: string;
}

export interface SelectionCriteria {
  skip: readonly SkipValue[];
  minLiveSeconds?: number;
  /** Pass over deploys whose image is gone (only an existing image can be retagged). */
  existingOnly?: boolean;
}

export interface PassedOver {
  tag: string;
  reason: string;
}

export type Selection =
  | { kind: 'target'; index: number; passedOver: PassedOver[] }
  | { kind: 'none'; passedOver: PassedOver[] }
  | { kind: 'no-current' }
  /** Look these up (digests of tags; moving tags of environments, by archive prefix) and select again. */
  | { kind: 'needs'; tags: string[]; envs: string[] };

export function parseSkip(text: string): SkipValue {
  if (/^sha256:[0-9a-f]{64}$/.test(text)) return { text, kind: 'digest', value: text };
  if (/^[0-9a-fA-F]{7,40}$/.test(text)) return { text, kind: 'revision', value: text.toLowerCase() };
  return { text, kind: 'tag', value: text };
}

export function skipMatches(skip: SkipValue, deploy: Pick<Deploy, 'tag' | 'revision' | 'digest'>): boolean {
  if (skip.kind === 'digest') return deploy.digest === skip.value;
  if (skip.kind === 'revision' && deploy.revision !== null && deploy.revision.startsWith(skip.value)) return true;
  return deploy.tag === skip.text;
}

/** Which deploy a skip value matched first, or why it cannot be judged yet. */
export function checkSkipValues(env: EnvironmentAnalysis, skip: readonly SkipValue[]): { unmatched: SkipValue[] } {
  const unmatched: SkipValue[] = [];
  for (const s of skip) {
    if (s.kind === 'revision') {
      const revisions = new Set(env.deploys.filter((d) => d.revision?.startsWith(s.value)).map((d) => d.revision));
      if (revisions.size > 1) {
        throw new UsageError(`--skip: revision prefix ${quote(s.text)} is ambiguous in ${env.env}: ${[...revisions].slice(0, 5).join(', ')}${revisions.size > 5 ? ', …' : ''}; give more characters`);
      }
    }
    if (!env.deploys.some((d) => skipMatches(s, d))) unmatched.push(s);
  }
  return { unmatched };
}

const newerThanCurrent = 'newer than current (the moving tag was moved back past it)';

/** Digests (and moving tags) that judging deploy i exactly needs, not yet known. */
function needsOf(analysis: RepositoryAnalysis, env: EnvironmentAnalysis, i: number, criteria: SelectionCriteria): { tags: string[]; envs: string[] } {
  const tags: string[] = [];
  const envs: string[] = [];
  const d = env.deploys[i]!;
  const want = (tag: string): void => {
    if (analysis.isUnknown(tag)) tags.push(tag);
  };
  want(d.tag);
  // Rolled back after a gap-era deploy: compared by digest with it and every older gap-era deploy.
  const newer = env.deploys[i - 1];
  if (newer && newer.revision === null) {
    want(newer.tag);
    for (const j of env.gapIndexes) if (j >= i) want(env.deploys[j]!.tag);
  }
  if (criteria.minLiveSeconds !== undefined) {
    // The image's live time: every deploy of its revision (a digest is one revision's image).
    for (const other of analysis.byRevision.get(d.revision ?? '') ?? []) {
      want(other.tag);
      const otherEnv = analysis.envs.get(other.env);
      if (otherEnv && !otherEnv.movingKnown && !envs.includes(other.env)) envs.push(other.env);
    }
  }
  return { tags, envs };
}

function judge(analysis: RepositoryAnalysis, env: EnvironmentAnalysis, i: number, current: Deploy, criteria: SelectionCriteria): string | null {
  const d = env.deploys[i]!;
  if (d.digest !== undefined && d.digest === current.digest) return 'same image as current';
  if (d.revision !== null && d.revision === current.revision) return 'same revision as current';
  if (d.rolledBack) return 'rolled back';
  const skipped = criteria.skip.find((s) => skipMatches(s, d));
  if (skipped) return `skipped (--skip ${skipped.text})`;
  if (criteria.minLiveSeconds !== undefined) {
    const live = d.digest !== undefined ? imageLive(analysis, d.digest) : { seconds: d.liveSeconds ?? 0, atLeast: d.liveSeconds === null };
    if (live.seconds < criteria.minLiveSeconds) {
      return `lived ${live.atLeast ? 'at least ' : ''}${formatDuration(live.seconds)} < --min-live ${formatDuration(criteria.minLiveSeconds)}`;
    }
  }
  if (criteria.existingOnly && analysis.isGone(d.tag)) return 'image gone';
  return null;
}

export interface SelectOptions {
  /** How many candidates ahead to gather needs for, once one is missing (fewer round trips). */
  prefetch?: number;
  /** At most this many tags asked for at once. */
  maxBatch?: number;
}

/** The previous-known-good of one environment, or what must be looked up to decide it. */
export function selectPrevious(analysis: RepositoryAnalysis, envName: string, criteria: SelectionCriteria, options: SelectOptions = {}): Selection {
  const env = analysis.envs.get(envName);
  if (!env || env.currentIndex < 0) return { kind: 'no-current' };
  const c = env.currentIndex;
  const current = env.deploys[c]!;
  const passedOver: PassedOver[] = [];
  for (let i = 0; i < c; i++) passedOver.push({ tag: env.deploys[i]!.tag, reason: newerThanCurrent });
  passedOver.push({ tag: current.tag, reason: 'current' });
  for (let i = c + 1; i < env.deploys.length; i++) {
    const first = needsOf(analysis, env, i, criteria);
    if (first.tags.length || first.envs.length) {
      // Gather the next few candidates' needs too: one batch instead of one round trip each.
      const tags = new Set(first.tags);
      const envs = new Set(first.envs);
      const maxBatch = options.maxBatch ?? 32;
      for (let j = i + 1; j < env.deploys.length && j <= i + (options.prefetch ?? 16) && tags.size < maxBatch; j++) {
        const more = needsOf(analysis, env, j, criteria);
        for (const t of more.tags) if (tags.size < maxBatch) tags.add(t);
        for (const e of more.envs) envs.add(e);
      }
      return { kind: 'needs', tags: [...tags], envs: [...envs] };
    }
    const reason = judge(analysis, env, i, current, criteria);
    if (reason === null) return { kind: 'target', index: i, passedOver };
    passedOver.push({ tag: env.deploys[i]!.tag, reason });
  }
  return { kind: 'none', passedOver };
}

/**
 * The tags a first lookup batch should hold for an environment, from its tags alone (no
 * analysis is built before the batch): the newest `window` deploys (current is usually the
 * newest), what judging the likely default target needs (assuming current is the newest),
 * and, for the newest rows, the older deploys of their revisions in any environment
 * (promotions and rebuilds are told apart by digest).
 */
export function firstBatch(index: RepositoryIndex, envName: string, isUnknown: (tag: string) => boolean, options: { window: number; perRevision: number; max: number }): string[] {
  const e = index.envs.get(envName);
  if (!e || e.positions.length === 0) return [];
  const { tags } = index;
  const n = e.positions.length;
  const at = (i: number): ArchiveTag => tags[e.positions[i]!]!;
  const out = new Set<string>();
  const add = (tag: string): void => {
    if (out.size < options.max && isUnknown(tag)) out.add(tag);
  };
  for (let i = 0; i < Math.min(n, options.window); i++) add(at(i).tag);
  // The likely default target: past deploys of the newest one's revision and rollbacks the tags show.
  const head = at(0);
  for (let i = 1; i < n && out.size < options.max; i++) {
    const t = at(i);
    const newer = at(i - 1);
    add(t.tag);
    if (newer.revision === null) {
      add(newer.tag);
      for (const j of e.gapIndexes) if (j >= i) add(at(j).tag);
    }
    const rolledBack = newer.revision !== null && t.revision !== null && e.olderOfRevision[i - 1]! > i;
    if (!((t.revision !== null && t.revision === head.revision) || rolledBack)) break;
  }
  // Older deploys of the newest rows' revisions, nearest first.
  for (let i = 0; i < Math.min(n, options.window); i++) {
    let k = e.positions[i]!;
    for (let taken = 0; taken < options.perRevision; taken++) {
      k = index.olderOfRevision[k]!;
      if (k < 0) break;
      add(tags[k]!.tag);
    }
  }
  return [...out];
}
