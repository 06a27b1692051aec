/**
 * Read an environment's pushlog from the registry: archive tags → deploys, the moving tag's
 * digest → current. Digests are looked up lazily, newest first, in small batches, so a
 * repository with thousands of tags costs its tag pages and a handful of HEADs.
 */
import { formatReference } from '../registry/reference.js';
import { analyseDeploys, type Deploy } from './analyse.js';
import { openEnvironment, type EnvironmentView, type Runtime } from './runtime.js';
import { classifyTag, compareNewestFirst, grammarFor, type ArchiveTag } from './tags.js';

export interface IgnoredEntry {
  tag: string;
  reason: string;
}

export interface HistoryResult {
  script: string;
  env: string;
  repository: string;
  movingTag: string;
  movingDigest: string | null;
  current: Deploy | null;
  deploys: Deploy[];
  ignored: IgnoredEntry[];
  warnings: string[];
}

export interface HistoryOptions {
  /** Most archive tags to HEAD while looking for the one the moving tag points at. */
  lookupLimit?: number;
  batchSize?: number;
}

/** The loaded state of one environment's history, which plan extends with more lookups. */
export class EnvironmentHistory {
  deploys: Deploy[] = [];
  currentIndex = -1;
  readonly warnings: string[] = [];
  private lookedUpTo = 0;

  constructor(
    readonly runtime: Runtime,
    readonly view: EnvironmentView,
    readonly archive: ArchiveTag[],
    readonly allArchive: ArchiveTag[],
    readonly ignored: IgnoredEntry[],
    readonly movingDigest: string | null,
    readonly options: Required<HistoryOptions>,
  ) {}

  get current(): Deploy | null {
    return this.deploys[this.currentIndex] ?? null;
  }

  /** Whether a looked-up tag no longer resolves to a manifest. */
  isGone(tag: string): boolean {
    return this.view.source.knownDigest(tag) === null;
  }

  reanalyse(): void {
    this.deploys = analyseDeploys(this.archive, this.view.source.knownDigests(), this.runtime.nowMs);
    if (this.currentIndex >= 0) this.deploys[this.currentIndex]!.current = true;
  }

  /** Look up digests of the deploys at these indexes (only those not yet known). */
  async lookUp(indexes: readonly number[]): Promise<void> {
    const tags = indexes.map((i) => this.archive[i]?.tag).filter((t): t is string => t !== undefined);
    await this.view.source.digestsOf(tags);
    this.reanalyse();
  }

  /** Look up the next batch, newest first, of deploys not yet looked up. Returns false at the end. */
  async lookUpNextBatch(): Promise<boolean> {
    if (this.lookedUpTo >= this.archive.length) return false;
    const end = Math.min(this.archive.length, this.lookedUpTo + this.options.batchSize);
    await this.lookUp(range(this.lookedUpTo, end));
    this.lookedUpTo = end;
    return true;
  }

  get lookedUpCount(): number {
    return this.lookedUpTo;
  }

  async findCurrent(): Promise<void> {
    const matches = (): number => (this.movingDigest === null ? -1 : this.archive.findIndex((t) => this.view.source.knownDigest(t.tag) === this.movingDigest));
    this.reanalyse();
    let index = matches();
    while (index < 0 && this.movingDigest !== null && this.lookedUpTo < this.options.lookupLimit && (await this.lookUpNextBatch())) index = matches();
    this.currentIndex = index;
    this.reanalyse();
    const { movingTag } = this.view.settings;
    const where = formatReference(this.view.repo);
    if (this.movingDigest === null) {
      this.warnings.push(`moving tag ${movingTag} does not exist in ${where}: nothing is deployed from it`);
    } else if (index < 0) {
      const checked = Math.min(this.lookedUpTo, this.archive.length);
      const scope = checked < this.archive.length ? `the newest ${checked} of its ${this.archive.length} archive tags` : `its ${this.archive.length} archive tag(s)`;
      this.warnings.push(
        `moving tag ${movingTag} points at ${this.movingDigest}, which none of ${scope} records: its archive tag push may have failed, or the tag was moved outside tc-promote; current is unknown`,
      );
    } else if (index > 0) {
      this.warnings.push(`${index} archive tag(s) are newer than the current deploy ${this.archive[index]!.tag}: the moving tag was pointed back after them`);
    }
  }
}

export async function loadHistory(runtime: Runtime, view: EnvironmentView, options: HistoryOptions = {}): Promise<EnvironmentHistory> {
  const tags = await view.source.listTags();
  const grammar = grammarFor(runtime.config, runtime.nowMs);
  const allArchive: ArchiveTag[] = [];
  const ignored: IgnoredEntry[] = [];
  for (const tag of tags) {
    const parsed = classifyTag(tag, grammar);
    if (parsed.kind === 'archive') allArchive.push(parsed);
    else ignored.push({ tag: parsed.tag, reason: parsed.reason });
  }
  allArchive.sort(compareNewestFirst);
  ignored.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const archive = allArchive.filter((t) => t.env === view.settings.archivePrefix);
  const movingDigest = await view.source.liveDigest(view.settings.movingTag);
  const history = new EnvironmentHistory(runtime, view, archive, allArchive, ignored, movingDigest, {
    lookupLimit: options.lookupLimit ?? 200,
    batchSize: options.batchSize ?? 8,
  });
  await history.findCurrent();
  return history;
}

export async function readHistory(runtime: Runtime, script: string | undefined, env: string | undefined, options: HistoryOptions & { limit?: number } = {}): Promise<HistoryResult> {
  const view = openEnvironment(runtime, script, env);
  const history = await loadHistory(runtime, view, options);
  // Also resolve the digests of the deploys just older than current: they are the rollback candidates.
  if (history.currentIndex >= 0) await history.lookUp(range(history.currentIndex, history.currentIndex + history.options.batchSize));
  return toResult(history, options.limit);
}

export function toResult(history: EnvironmentHistory, limit?: number): HistoryResult {
  return {
    script: history.view.script,
    env: history.view.env,
    repository: formatReference(history.view.repo),
    movingTag: history.view.settings.movingTag,
    movingDigest: history.movingDigest,
    current: history.current,
    deploys: limit === undefined ? history.deploys : history.deploys.slice(0, limit),
    ignored: history.ignored,
    warnings: history.warnings,
  };
}

export function range(start: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - start) }, (_, i) => start + i);
}
