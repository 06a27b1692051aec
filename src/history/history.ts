/**
 * Read an environment's pushlog from the registry: archive tags → deploys, the moving tag's
 * digest → current. The request pattern is fixed: the tag list and the moving tag's HEAD at
 * once, then one concurrent batch of the digests the answer needs (the newest deploys, what
 * judging the default target needs, and the older deploys of the newest rows' revisions).
 * More are looked up only when that batch does not decide: current further back, or a
 * selection (--skip, --min-live) that reaches deeper. The analysis (analyse.ts) is linear
 * and recomputed only when a lookup changed what is known.
 */
import { formatReference } from '../registry/reference.js';
import { formatDuration } from '../util/duration.js';
import { analyseRepository, indexRepository, type Deploy, type RepositoryIndex, type EnvironmentAnalysis, type MovingState, type RepositoryAnalysis } from './analyse.js';
import { openEnvironment, type EnvironmentView, type Runtime } from './runtime.js';
import { clockSkewMs } from './new-archive-tag.js';
import { checkSkipValues, firstBatch, selectPrevious, type PassedOver, type SelectionCriteria } from './select.js';
import { classifyTag, compareNewestFirst, grammarFor, type ArchiveTag } from './tags.js';
import type { TaskclusterConnection } from '../taskcluster-api/clients.js';
import type { PromotionRecord, UnattributedRecord } from './records.js';
import type { FailedPromotion } from './failed-promotions.js';
import type { ListingState, TagSource } from './source.js';

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
  deploys: HistoryDeploy[];
  ignored: IgnoredEntry[];
  warnings: string[];
  /** The default rollback target (previous-known-good with no --skip or --min-live) and why newer deploys are not. */
  rollbackTarget: { tag: string; passedOver: PassedOver[] } | null;
  /** How many of the newest deploys had their digests looked up (older rows: revision links only). */
  lookedUp: number;
  /** Promotion records from the Taskcluster index: read, unreachable, or not asked. */
  records: { state: 'read' | 'unreachable' | 'not-asked'; notes: string[] };
  /** Promotions that did not complete (recorded by their fallback task), newest first; read with the records. */
  failedPromotions: FailedPromotion[];
}

/** A deploy as history prints it: with the promotion record that made it, when the index has one. */
export type HistoryDeploy = Deploy & {
  promotion?: PromotionRecord;
  /** An index entry at this deploy's path that is not its promotion (another scheduler, another deploy named, or an unmatched digest), and why. */
  unattributedRecord?: UnattributedRecord;
  failedPromotions?: FailedPromotion[];
};

export interface HistoryOptions {
  /** Most archive tags to HEAD while looking for the one the moving tag points at. */
  lookupLimit?: number;
  /** Deploys looked up per batch after the first. */
  batchSize?: number;
  /** The newest deploys whose digests the first batch holds. */
  window?: number;
  /** Most deploys a selection looks up before it gives up (a --min-live nothing meets). */
  selectionLimit?: number;
}

const defaults: Required<HistoryOptions> = { lookupLimit: 200, batchSize: 16, window: 8, selectionLimit: 1000 };

/** One repository's archive tags (every environment sharing it), digests and moving tags. */
export class RepositoryHistory {
  /** Moving tag states by archive prefix. */
  readonly moving = new Map<string, MovingState>();
  private cached: { version: number; movingVersion: number; tagsVersion: number; analysis: RepositoryAnalysis } | undefined;
  private movingVersion = 0;
  private tagsVersion = 0;
  private readonly movingReads = new Map<string, Promise<MovingState>>();
  /** Archive tags of every configured environment, newest first. */
  archive: readonly ArchiveTag[] = [];
  ignored: readonly IgnoredEntry[] = [];
  /** What the tags alone say (environments, orders, revision groups), built once per listing read. */
  index!: RepositoryIndex;

  constructor(
    readonly runtime: Runtime,
    readonly source: TagSource,
    readonly repo: EnvironmentView['repo'],
    tags: readonly string[],
  ) {
    this.classify(tags);
  }

  /** Classify the tags listed so far (again, when more pages were read). */
  private classify(tags: readonly string[]): void {
    const grammar = grammarFor(this.runtime.config, this.runtime.nowMs);
    const archive: ArchiveTag[] = [];
    const ignored: IgnoredEntry[] = [];
    for (const tag of tags) {
      const parsed = classifyTag(tag, grammar);
      if (parsed.kind === 'archive') archive.push(parsed);
      else ignored.push({ tag: parsed.tag, reason: parsed.reason });
    }
    archive.sort(compareNewestFirst);
    ignored.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    this.archive = archive;
    this.ignored = ignored;
    this.index = indexRepository(archive);
    this.tagsVersion++;
  }

  /**
   * Read further pages of the listing (Docker Hub's, newest first) until `enough()` says the
   * answer can no longer change, or every tag is read. The registry API's listing is whole.
   */
  async readOn(enough: () => boolean = () => false): Promise<void> {
    while (!this.source.listing().complete && !enough()) {
      const tags = await this.source.readMore();
      if (tags === undefined) break;
      if (tags.length !== this.archive.length + this.ignored.length) this.classify(tags);
    }
  }

  /** The analysis of what is known now; recomputed only after a lookup added something. */
  get analysis(): RepositoryAnalysis {
    const version = this.source.version;
    if (!this.cached || this.cached.version !== version || this.cached.movingVersion !== this.movingVersion || this.cached.tagsVersion !== this.tagsVersion) {
      const analysis = analyseRepository(this.index, (tag) => this.source.knownDigest(tag), this.moving, this.runtime.nowMs);
      this.cached = { version, movingVersion: this.movingVersion, tagsVersion: this.tagsVersion, analysis };
    }
    return this.cached.analysis;
  }

  setMoving(prefix: string, state: MovingState): void {
    this.moving.set(prefix, state);
    this.movingVersion++;
  }

  /** Read the moving tag of an environment (by its view), once per run. */
  readMoving(view: EnvironmentView): Promise<MovingState> {
    const prefix = view.settings.archivePrefix;
    let reading = this.movingReads.get(prefix);
    if (!reading) {
      reading = this.source.liveDigest(view.settings.movingTag).then((digest) => this.recordMoving(view, digest));
      this.movingReads.set(prefix, reading);
    }
    return reading;
  }

  /** The moving tag's state from its digest, read elsewhere (at once with the tag list). */
  recordMoving(view: EnvironmentView, digest: string | null): MovingState {
    const { archivePrefix, movingTag } = view.settings;
    const known = this.moving.get(archivePrefix);
    if (known) return known;
    // Docker Hub's listing says when the tag was last pushed: when it was moved, if the listing saw this digest.
    const pushed = digest !== null && this.source.listedDigest(movingTag) === digest ? this.source.pushedAt(movingTag) : undefined;
    const state: MovingState = { digest, ...(pushed !== undefined && { movedAtMs: pushed }) };
    this.setMoving(archivePrefix, state);
    this.movingReads.set(archivePrefix, Promise.resolve(state));
    return state;
  }

  async lookUp(tags: readonly string[]): Promise<void> {
    if (tags.length) await this.source.digestsOf(tags);
  }
}

/** The loaded state of one environment's history, which plan extends with more lookups. */
export class EnvironmentHistory {
  readonly warnings: string[] = [];
  readonly options: Required<HistoryOptions>;

  constructor(
    readonly repository: RepositoryHistory,
    readonly view: EnvironmentView,
    options: HistoryOptions = {},
  ) {
    this.options = { ...defaults, ...options };
  }

  get runtime(): Runtime {
    return this.repository.runtime;
  }

  get prefix(): string {
    return this.view.settings.archivePrefix;
  }

  get analysis(): RepositoryAnalysis {
    return this.repository.analysis;
  }

  get environment(): EnvironmentAnalysis {
    return this.analysis.envs.get(this.prefix) ?? emptyEnvironment(this.prefix);
  }

  get deploys(): Deploy[] {
    return this.environment.deploys;
  }

  get currentIndex(): number {
    return this.environment.currentIndex;
  }

  get current(): Deploy | null {
    return this.deploys[this.currentIndex] ?? null;
  }

  get movingDigest(): string | null {
    return this.repository.moving.get(this.prefix)?.digest ?? null;
  }

  /** Archive tags of every environment in the repository, newest first. */
  get allArchive(): readonly ArchiveTag[] {
    return this.repository.archive;
  }

  /** Whether a looked-up tag no longer resolves to a manifest. */
  isGone(tag: string): boolean {
    return this.repository.source.knownDigest(tag) === null;
  }

  async lookUp(tags: readonly string[]): Promise<void> {
    await this.repository.lookUp(tags);
  }

  get lookedUpCount(): number {
    const { deploys } = this;
    let n = 0;
    while (n < deploys.length && this.repository.source.knownDigest(deploys[n]!.tag) !== undefined) n++;
    return n;
  }

  /**
   * Whether the listing read so far decides the answer for good. Docker Hub lists newest first
   * by push time, and an archive tag is pushed no earlier than its stamp (less the clock skew),
   * so every deploy dated after the oldest push time read (plus the skew) is read. Settled:
   * every tag is read; or the moving tag does not exist; or current, every deploy newer than
   * it, the previous-known-good under the criteria, every deploy that passes it over, and the
   * newest `rows` deploys are all dated after that line.
   */
  settled(settle: SettleOptions): boolean {
    const listing = this.repository.source.listing();
    if (listing.complete) return true;
    if (listing.completeAfterMs === undefined) return false;
    const line = listing.completeAfterMs + clockSkewMs;
    const moving = this.repository.moving.get(this.prefix);
    if (!moving) return false;
    if (moving.digest === null) return true;
    const env = this.environment;
    const after = (d: Deploy | undefined): boolean => d !== undefined && Date.parse(d.date) > line;
    if (settle.rows !== undefined && !after(env.deploys[settle.rows - 1])) return false;
    if (!after(env.deploys[env.currentIndex])) return false;
    if (!settle.criteria) return true;
    if (settle.criteria.skip.length && checkSkipValues(env, settle.criteria.skip).unmatched.length) return false;
    const selection = selectPrevious(this.analysis, this.prefix, settle.criteria);
    return selection.kind === 'target' && after(env.deploys[selection.index]);
  }

  /** How much of the repository's listing is read. */
  get listing(): ListingState {
    return this.repository.source.listing();
  }

  /** What of Docker Hub's listing was not read, for the output; undefined when every tag was. */
  get listingNote(): string | undefined {
    const listing = this.repository.source.listing();
    const notes: string[] = [];
    if (!listing.complete) {
      const since = listing.completeAfterMs !== undefined && Number.isFinite(listing.completeAfterMs) ? `, every tag pushed since ${new Date(listing.completeAfterMs).toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
      notes.push(
        `Docker Hub: read the newest ${listing.tagsRead} of ${listing.tagsTotal} tags (${listing.pagesRead} of ${listing.pagesTotal} pages${since}): current, the previous-known-good and every deploy passed over are among them; the ${listing.tagsTotal - listing.tagsRead} older tags were not read, so links to older deploys (promoted from, rebuild of) and image live times count only the deploys read`,
      );
    }
    if (listing.changed) notes.push(`Docker Hub: the repository changed while its pages were read (tags pushed or deleted meanwhile); run the command again for a settled listing`);
    if (listing.rateLimitNote) notes.push(listing.rateLimitNote);
    return notes.length ? notes.join('; ') : undefined;
  }

  /** The first batch, then newest-first batches until current is found or the lookup limit. */
  async findCurrent(early: Promise<unknown> = Promise.resolve()): Promise<void> {
    const moving = await this.repository.readMoving(this.view);
    const source = this.repository.source;
    // The rest of the first batch joins the lookups already in flight (a tag is never asked twice).
    await Promise.all([early, this.lookUp(firstBatch(this.repository.index, this.prefix, (tag) => source.knownDigest(tag) === undefined, { window: this.options.window, perRevision: 3, max: 48 }))]);
    while (moving.digest !== null && this.currentIndex < 0) {
      const analysis = this.analysis;
      const next = this.deploys
        .slice(0, this.options.lookupLimit)
        .filter((d) => analysis.isUnknown(d.tag))
        .slice(0, this.options.batchSize)
        .map((d) => d.tag);
      if (!next.length) break;
      await this.lookUp(next);
    }
    const elsewhere = moving.digest !== null && this.currentIndex < 0 ? await this.findInOtherEnvironments(moving.digest, this.options.window) : undefined;
    this.describeState(moving, elsewhere);
  }

  /**
   * A deploy of another environment (in the same repository) with this digest, looking up the
   * newest `limit` deploys of each other environment: the image a hand copy or a promotion may
   * have come from.
   */
  async findInOtherEnvironments(digest: string, limit: number): Promise<Deploy | undefined> {
    const others = [...this.analysis.envs.keys()].filter((e) => e !== this.prefix);
    const wanted = others.flatMap((e) => this.analysis.envs.get(e)!.deploys.slice(0, limit).map((d) => d.tag));
    await this.lookUp(wanted.filter((t) => this.analysis.isUnknown(t)));
    for (const e of others) {
      const found = this.analysis.envs.get(e)!.deploys.slice(0, limit).find((d) => d.digest === digest);
      if (found) return found;
    }
    return undefined;
  }

  private describeState(moving: MovingState, elsewhere?: Deploy): void {
    const { movingTag } = this.view.settings;
    const where = formatReference(this.view.repo);
    const env = this.environment;
    const index = env.currentIndex;
    if (moving.digest === null) {
      this.warnings.push(`moving tag ${movingTag} does not exist in ${where}: nothing is deployed from it`);
    } else if (index < 0) {
      const total = env.deploys.length;
      const checked = env.deploys.slice(0, this.options.lookupLimit).filter((d) => !this.analysis.isUnknown(d.tag)).length;
      const scope = checked < total ? `the newest ${checked} of its ${total} archive tags` : `its ${total} archive tag(s)`;
      const from = elsewhere ? `; it is the image of ${elsewhere.tag}, a deploy of ${elsewhere.env} (copied here without an archive tag?)` : '';
      this.warnings.push(
        `moving tag ${movingTag} points at ${moving.digest}, which none of ${scope} records: its archive tag push may have failed, or the tag was moved outside tc-promote${from}; current is unknown`,
      );
    } else if (env.movedBack && env.deploys.slice(0, index).every((d) => d.date === env.deploys[index]!.date)) {
      // Pushed in the same second: ties are ordered by tag name, and the moving tag names the one pushed last.
      const current = env.deploys[index]!;
      this.warnings.push(
        `moving tag ${movingTag} points at ${current.tag}, which has the same timestamp as ${index} archive tag(s) sorted before it by name (${env.deploys[0]!.tag}${index > 1 ? ', …' : ''}): they were pushed in the same second, and ties are ordered by tag name; ${env.deploys[0]!.tag} counts as newer, its live time unknown`,
      );
    } else if (env.movedBack) {
      const back = env.movedBack;
      const current = env.deploys[index]!;
      const newest = env.deploys[0]!;
      const when =
        back.movedAtMs !== undefined
          ? `at ${new Date(back.movedAtMs).toISOString().replace('.000Z', 'Z')}; ${newest.tag} was live ${formatDuration(newest.liveSeconds ?? 0)}`
          : `at an unknown time; ${newest.tag} is not live, and its live time is unknown (at most ${formatDuration(newest.liveSecondsAtMost ?? 0)}), so it counts as 0 for --min-live and "not proven"`;
      this.warnings.push(
        `moving tag ${movingTag} was moved back without an archive tag: it points at ${current.digest} of ${current.tag}, older than ${back.newer} archive tag(s) (newest ${newest.tag}); moved ${when}`,
      );
    }
  }

  /**
   * The previous-known-good under these criteria, looking up what the selection needs (in
   * batches), or why there is none.
   */
  async selectPrevious(criteria: SelectionCriteria): Promise<{ index: number; passedOver: PassedOver[] } | { index: -1; passedOver: PassedOver[]; reason: string }> {
    let looked = 0;
    for (;;) {
      const selection = selectPrevious(this.analysis, this.prefix, criteria);
      if (selection.kind === 'target') return selection;
      if (selection.kind === 'no-current') return { index: -1, passedOver: [], reason: 'current is unknown' };
      if (selection.kind === 'none') return { index: -1, passedOver: selection.passedOver, reason: 'no older deploy qualifies' };
      if (looked >= this.options.selectionLimit) {
        return { index: -1, passedOver: [], reason: `looked up ${looked} digests without deciding (--min-live or --skip reach too far back): name a target with --to` };
      }
      looked += selection.tags.length;
      await Promise.all([this.lookUp(selection.tags), ...selection.envs.map((e) => this.readMovingOf(e))]);
    }
  }

  /** Another environment's moving tag, by archive prefix (for image live times). */
  async readMovingOf(prefix: string): Promise<void> {
    const envName = Object.keys(this.runtime.config.environments).find((name) => this.runtime.config.environments[name]!.archivePrefix === prefix);
    if (envName === undefined) {
      this.repository.setMoving(prefix, { digest: null });
      return;
    }
    const other = openEnvironment(this.runtime, this.view.script, envName);
    if (formatReference(other.repo) !== formatReference(this.view.repo)) {
      this.repository.setMoving(prefix, { digest: null });
      return;
    }
    await this.repository.readMoving(other);
  }
}

function emptyEnvironment(env: string): EnvironmentAnalysis {
  return { env, deploys: [], currentIndex: -1, movingKnown: false, movedBack: null, gapIndexes: [], indexOfTag: () => -1 };
}

const repositories = new WeakMap<Runtime, Map<string, Promise<RepositoryHistory>>>();

/**
 * The newest `count` tags of the common form `<prefix>-<YYYYMMDDHHMMSS>-<40 hex>`, by a quick
 * look at their stamps (ties by tag name, descending, as deploys are ordered), before the
 * tags are classified: their digests are asked for while the rest of the list is read. A tag
 * the grammar later refuses (an impossible date, say) only cost a HEAD.
 */
export function newestByStamp(tags: readonly string[], prefix: string, count: number): string[] {
  const p = prefix.length + 1;
  const top: string[] = [];
  const newer = (a: string, b: string): boolean => {
    const sa = a.slice(p, p + 14);
    const sb = b.slice(p, p + 14);
    return sa !== sb ? sa > sb : a > b;
  };
  for (const tag of tags) {
    if (tag.length !== p + 55 || tag.charCodeAt(p - 1) !== 45 || !tag.startsWith(prefix) || tag.charCodeAt(p + 14) !== 45) continue;
    if (top.length === count && !newer(tag, top[count - 1]!)) continue;
    let i = top.length;
    while (i > 0 && newer(tag, top[i - 1]!)) i--;
    top.splice(i, 0, tag);
    if (top.length > count) top.pop();
  }
  return top;
}

/** What a reading command needs of the listing before its answer can no longer change. */
export interface SettleOptions {
  /** The previous-known-good under these criteria, and every deploy it passes over (absent: current only). */
  criteria?: SelectionCriteria;
  /** The newest this many deploys of the environment (history --limit). */
  rows?: number;
}

/**
 * The repository's tags, listed and classified once per run (environments in one repository
 * share them). `newestOnly`: Docker Hub's first page (newest first) to begin with, read on
 * by callers as far as their answer needs; otherwise every page.
 */
export async function loadRepository(runtime: Runtime, view: EnvironmentView, onTags?: (tags: readonly string[]) => void, options: { newestOnly?: boolean } = {}): Promise<RepositoryHistory> {
  let perRuntime = repositories.get(runtime);
  if (!perRuntime) repositories.set(runtime, (perRuntime = new Map()));
  const key = formatReference(view.repo);
  let loading = perRuntime.get(key);
  if (!loading) {
    loading = (async () => {
      const tags = await (options.newestOnly ? view.source.listNewest() : view.source.listTags());
      onTags?.(tags);
      return new RepositoryHistory(runtime, view.source, view.repo, tags);
    })();
    perRuntime.set(key, loading);
  }
  const repository = await loading;
  if (!options.newestOnly) await repository.readOn();
  return repository;
}

/**
 * Read one environment's history. With `settle`, only as much of Docker Hub's listing as the
 * answer needs (see EnvironmentHistory.settled); without, every tag.
 */
export async function loadHistory(runtime: Runtime, view: EnvironmentView, options: HistoryOptions & { settle?: SettleOptions } = {}): Promise<EnvironmentHistory> {
  // The tag list and the moving tag's HEAD at once; the newest deploys' digests as soon as the list is in.
  const window = options.window ?? defaults.window;
  let early: Promise<unknown> = Promise.resolve();
  const [repository, movingDigest] = await Promise.all([
    loadRepository(
      runtime,
      view,
      (tags) => {
        early = view.source.digestsOf(newestByStamp(tags, view.settings.archivePrefix, window));
        early.catch(() => undefined);
      },
      { newestOnly: options.settle !== undefined },
    ),
    view.source.liveDigest(view.settings.movingTag),
  ]);
  repository.recordMoving(view, movingDigest);
  const history = new EnvironmentHistory(repository, view, options);
  if (options.settle) await repository.readOn(() => history.settled(options.settle!));
  await history.findCurrent(early);
  return history;
}

export interface HistoryReadOptions extends HistoryOptions {
  limit?: number;
  /** Read the promotion records of the newest rows from the Taskcluster index (absent: not asked). */
  records?: { connection: TaskclusterConnection; timeoutMs?: number };
}

/** How many of the newest rows the index is asked about (one findTasksAtIndex request). */
const recordRows = 50;

export async function readHistory(runtime: Runtime, script: string | undefined, env: string | undefined, options: HistoryReadOptions = {}): Promise<HistoryResult> {
  const view = openEnvironment(runtime, script, env);
  // The whole pushlog, unless --limit asks for the newest rows only: then as much of Docker
  // Hub's listing as those rows, current and the default rollback target need.
  const settle: SettleOptions | undefined = options.limit !== undefined ? { criteria: { skip: [] }, rows: options.limit } : undefined;
  // The index is asked as soon as the tags are known, while the digests are looked up.
  const records = options.records
    ? loadRepository(runtime, view, undefined, { newestOnly: settle !== undefined }).then(async (repository) => {
        const { readPromotionRecords } = await import('./records.js');
        const rows = repository.archive.filter((t) => t.env === view.settings.archivePrefix).slice(0, Math.min(options.limit ?? recordRows, recordRows));
        return readPromotionRecords({
          connection: options.records!.connection,
          trustDomain: runtime.config.taskcluster.trustDomain,
          project: runtime.config.taskcluster.project,
          script: view.script,
          env: view.env,
          schedulerId: `${runtime.config.taskcluster.trustDomain}-level-${runtime.config.taskcluster.level}`,
          deploys: rows,
          ...(options.records!.timeoutMs !== undefined && { timeoutMs: options.records!.timeoutMs }),
        });
      })
    : undefined;
  // A failed tag list is the command's error; the records' wait must not outlive it unhandled.
  records?.catch(() => undefined);
  const failures = options.records
    ? import('./failed-promotions.js').then(({ readFailedPromotions }) =>
        readFailedPromotions(options.records!.connection, { trustDomain: runtime.config.taskcluster.trustDomain, project: runtime.config.taskcluster.project, script: view.script, env: view.env }, { ...(options.records!.timeoutMs !== undefined && { timeoutMs: options.records!.timeoutMs }) }),
      )
    : undefined;
  failures?.catch(() => undefined);
  const history = await loadHistory(runtime, view, { ...options, ...(settle && { settle }) });
  const selection = await history.selectPrevious({ skip: [] });
  const result = toResult(history, options.limit, selection.index >= 0 ? { tag: history.deploys[selection.index]!.tag, passedOver: selection.passedOver } : null);
  if (records) {
    const read = await records;
    const { digestMismatch, unattributedNote } = await import('./records.js');
    const unattributed: [string, UnattributedRecord][] = [];
    result.deploys = result.deploys.map((d) => {
      const promotion = read.byTag.get(d.tag);
      if (promotion) {
        // The record names this deploy's tag; the digest it moved must be this deploy's too.
        const why = digestMismatch(promotion, d.tag, d.digest);
        if (why === null) return { ...d, promotion };
        const entry = { taskId: promotion.taskId, schedulerId: promotion.schedulerId, why };
        unattributed.push([d.tag, entry]);
        return { ...d, unattributedRecord: entry };
      }
      const other = read.unattributed.get(d.tag);
      if (!other) return d;
      unattributed.push([d.tag, other]);
      return { ...d, unattributedRecord: other };
    });
    const note = unattributedNote(unattributed);
    result.records = { state: read.state, notes: note ? [...read.notes, note] : read.notes };
  }
  if (failures) {
    const read = await failures;
    result.failedPromotions = read.failed;
    result.records.notes.push(...read.notes);
    // Each against the deploy it targeted (its archive tag, else its digest).
    result.deploys = result.deploys.map((d) => {
      const against = read.failed.filter((f) => f.to === d.tag || (f.to !== null && d.digest !== undefined && f.to === d.digest));
      return against.length ? { ...d, failedPromotions: against } : d;
    });
  }
  return result;
}

export function toResult(history: EnvironmentHistory, limit?: number, rollbackTarget: HistoryResult['rollbackTarget'] = null): HistoryResult {
  const deploys = history.deploys;
  return {
    script: history.view.script,
    env: history.view.env,
    repository: formatReference(history.view.repo),
    movingTag: history.view.settings.movingTag,
    movingDigest: history.movingDigest,
    current: history.current,
    deploys: limit === undefined ? deploys : deploys.slice(0, limit),
    ignored: [...history.repository.ignored],
    warnings: history.listingNote !== undefined ? [...history.warnings, history.listingNote] : history.warnings,
    rollbackTarget,
    lookedUp: history.lookedUpCount,
    records: { state: 'not-asked', notes: [] },
    failedPromotions: [],
  };
}


