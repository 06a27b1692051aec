/**
 * Where a repository's tags and digests come from: the registry API (tags/list, then a HEAD
 * per digest needed), or Docker Hub's API (tags with digests and push times in one listing).
 * Digests are cached; a batch of lookups is sent at once (up to `concurrency` in flight,
 * which matches the transport's connections), and only those asked for are fetched.
 */
import type { RegistryClient } from '../registry/client.js';
import { listHubTags } from '../registry/hub.js';
import type { ImageReference } from '../registry/reference.js';
import { mapLimit } from '../util/concurrency.js';

export interface TagSourceOptions {
  pageSize?: number;
  concurrency?: number;
  /** Docker Hub API base URL; when set, tags and digests are listed from it. */
  hubApi?: string;
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

  listTags(): Promise<string[]> {
    this.tags ??= this.fetchTags();
    return this.tags;
  }

  private async fetchTags(): Promise<string[]> {
    if (this.options.hubApi) {
      const hubTags = await listHubTags(this.client.sendPlain, this.options.hubApi, this.repo.repository, undefined, this.client.listing);
      for (const t of hubTags) {
        if (t.digest) this.digests.set(t.name, t.digest);
        const pushed = Date.parse(t.lastPushed ?? t.lastUpdated ?? '');
        this.listed.set(t.name, { ...(t.digest && { digest: t.digest }), ...(!Number.isNaN(pushed) && { pushedAtMs: pushed }) });
      }
      this.version++;
      return hubTags.map((t) => t.name);
    }
    return this.client.listTags(this.repo, this.options.pageSize ?? 1000);
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
