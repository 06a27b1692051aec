/**
 * Where a repository's tags and digests come from: the registry API (tags/list, then a HEAD
 * per digest needed), or Docker Hub's API (tags with digests and push times, 100 a page,
 * newest first: read whole, or from the newest page on as far as a caller needs, `readMore`).
 * Digests are cached; a batch of lookups is sent at once (up to `concurrency` in flight,
 * which matches the transport's connections), and only those asked for are fetched.
 */
import type { RegistryClient } from '../registry/client.js';
import { defaultHubConcurrency, HubTagListing, type HubRateLimit } from '../registry/hub.js';
import type { ImageReference } from '../registry/reference.js';
import { mapLimit } from '../util/concurrency.js';

export interface TagSourceOptions {
  pageSize?: number;
  concurrency?: number;
  /** Docker Hub API base URL; when set, tags and digests are listed from it. */
  hubApi?: string;
  /** Hub pages read at once. */
  hubConcurrency?: number;
}

/** How much of the repository's tag listing has been read. */
export interface ListingState {
  /** Every tag is read (always so for the registry API, whose pages have no order to stop on). */
  complete: boolean;
  /** Tags and pages read of Hub's count (0 for the registry API). */
  tagsRead: number;
  tagsTotal: number;
  pagesRead: number;
  pagesTotal: number;
  /** Every tag pushed after this (ms since the epoch) is read; undefined when that cannot be said. */
  completeAfterMs?: number;
  /** The repository changed while it was read (Hub's count moved). */
  changed: boolean;
  rateLimit?: HubRateLimit;
  /** Hub's rate limit is reached, said plainly (undefined when it is not). */
  rateLimitNote?: string;
}

export class TagSource {
  private readonly digests = new Map<string, string | null>();
  /** What Docker Hub's listing said: digest and last push time of each tag. */
  private readonly listed = new Map<string, { digest?: string; pushedAtMs?: number }>();
  private tags?: Promise<string[]>;
  private readonly concurrency: number;
  /** Grows whenever a digest becomes known: analyses cached on it know when to recompute. */
  version = 0;

  constructor(
    readonly client: RegistryClient,
    readonly repo: Pick<ImageReference, 'registry' | 'repository'>,
    private readonly options: TagSourceOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 16;
  }

  /** Every tag (every page). */
  listTags(): Promise<string[]> {
    if (this.hub) return this.hub.readMore().then(() => this.recordHub());
    this.tags ??= this.options.hubApi ? this.openHub().readMore().then(() => this.recordHub()) : this.client.listTags(this.repo, this.options.pageSize ?? 1000);
    return this.tags;
  }

  /** The newest tags: Docker Hub's first page (newest first); the registry API's whole list (it has no order). */
  listNewest(): Promise<string[]> {
    if (!this.options.hubApi) return this.listTags();
    return this.openHub().readFirst().then(() => this.recordHub());
  }

  /**
   * Read on: the next round of Hub's pages (one page per connection). The tags read so far,
   * or undefined when there was nothing left to read.
   */
  async readMore(): Promise<string[] | undefined> {
    if (!this.hub || this.hub.complete) return undefined;
    await this.hub.readMore(this.options.hubConcurrency ?? defaultHubConcurrency);
    return this.recordHub();
  }

  /** How much of the listing is read. */
  listing(): ListingState {
    const hub = this.hub;
    // The registry API's listing is read whole (its order says nothing of age).
    if (!hub) return { complete: true, tagsRead: 0, tagsTotal: 0, pagesRead: 0, pagesTotal: 0, changed: false };
    const after = hub.completeAfterMs;
    const note = hub.rateLimitNote();
    return {
      complete: hub.complete,
      tagsRead: this.names.length,
      tagsTotal: Math.max(hub.count, this.names.length),
      pagesRead: hub.pagesRead,
      pagesTotal: hub.totalPages,
      ...(after !== undefined && { completeAfterMs: after }),
      changed: hub.changed,
      rateLimit: { ...hub.rateLimit },
      ...(note !== undefined && { rateLimitNote: note }),
    };
  }

  private hub?: HubTagListing;
  private names: string[] = [];

  private openHub(): HubTagListing {
    this.hub ??= new HubTagListing(this.client.sendPlain, this.options.hubApi!, this.repo.repository, {
      limits: this.client.listing,
      ...(this.options.hubConcurrency !== undefined && { concurrency: this.options.hubConcurrency }),
      ...(this.client.deadlineAtMs !== undefined && { deadlineAtMs: this.client.deadlineAtMs }),
    });
    return this.hub;
  }

  /** What the Hub pages read say: each tag's digest and push time; the names, newest first. */
  private recordHub(): string[] {
    const tags = this.hub!.tags();
    if (tags.length === this.names.length) return this.names;
    for (const t of tags.slice(this.names.length)) {
      if (t.digest) this.digests.set(t.name, t.digest);
      const pushed = Date.parse(t.lastPushed ?? t.lastUpdated ?? '');
      this.listed.set(t.name, { ...(t.digest && { digest: t.digest }), ...(!Number.isNaN(pushed) && { pushedAtMs: pushed }) });
    }
    this.version++;
    this.names = tags.map((t) => t.name);
    return this.names;
  }

  /** A tag's digest as known: a digest, null (gone: listed, no manifest), undefined (not looked up). */
  knownDigest(tag: string): string | null | undefined {
    return this.digests.get(tag);
  }

  /** The digest a listing (Docker Hub's) gave for a tag, if any. */
  listedDigest(tag: string): string | undefined {
    return this.listed.get(tag)?.digest;
  }

  /** When the tag was last pushed, if the listing says (Docker Hub's tag_last_pushed). */
  pushedAt(tag: string): number | undefined {
    return this.listed.get(tag)?.pushedAtMs;
  }

  /** Digests of these tags (null: the tag is gone), fetched where not yet known, all at once; a tag in flight is not asked twice. */
  async digestsOf(tags: readonly string[]): Promise<Map<string, string | null>> {
    const missing = [...new Set(tags.filter((t) => !this.digests.has(t) && !this.inFlight.has(t)))];
    const waiting = [...new Set(tags.filter((t) => this.inFlight.has(t)))].map((t) => this.inFlight.get(t)!);
    const batch = mapLimit(missing, this.concurrency, async (tag) => {
      const head = await this.client.headManifest({ ...this.repo, tag });
      this.digests.set(tag, head?.digest ?? null);
      this.version++;
    });
    const settled = batch.then(() => undefined);
    for (const tag of missing) this.inFlight.set(tag, settled);
    try {
      await Promise.all([batch, ...waiting]);
    } finally {
      for (const tag of missing) this.inFlight.delete(tag);
    }
    return new Map(tags.map((t) => [t, this.digests.get(t) ?? null]));
  }

  private readonly inFlight = new Map<string, Promise<void>>();

  async digestOf(tag: string): Promise<string | null> {
    return (await this.digestsOf([tag])).get(tag) ?? null;
  }

  /** The digest a tag points at now, always asked of the registry (moving tags move). */
  async liveDigest(tag: string): Promise<string | null> {
    const head = await this.client.headManifest({ ...this.repo, tag });
    return head?.digest ?? null;
  }

  /** Whether a manifest with this digest exists in the repository. */
  async hasDigest(digest: string): Promise<boolean> {
    return (await this.client.headManifest({ ...this.repo, digest })) !== undefined;
  }
}
