/**
 * Where a repository's tags and digests come from: the registry API (tags/list, then a HEAD
 * per digest needed), or Docker Hub's API (tags with digests in one listing). Digests are
 * cached and looked up with bounded concurrency; only those asked for are fetched.
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
  private tags?: Promise<string[]>;
  private readonly concurrency: number;

  constructor(
    readonly client: RegistryClient,
    readonly repo: Pick<ImageReference, 'registry' | 'repository'>,
    private readonly options: TagSourceOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 8;
  }

  listTags(): Promise<string[]> {
    this.tags ??= this.fetchTags();
    return this.tags;
  }

  private async fetchTags(): Promise<string[]> {
    if (this.options.hubApi) {
      const hubTags = await listHubTags(this.client.sendPlain, this.options.hubApi, this.repo.repository, undefined, this.client.listing);
      for (const t of hubTags) if (t.digest) this.digests.set(t.name, t.digest);
      return hubTags.map((t) => t.name);
    }
    return this.client.listTags(this.repo, this.options.pageSize ?? 1000);
  }

  knownDigest(tag: string): string | null | undefined {
    return this.digests.get(tag);
  }

  /** Digests of these tags (null: the tag is gone), fetched where not yet known. */
  async digestsOf(tags: readonly string[]): Promise<Map<string, string | null>> {
    const missing = [...new Set(tags.filter((t) => !this.digests.has(t)))];
    await mapLimit(missing, this.concurrency, async (tag) => {
      const head = await this.client.headManifest({ ...this.repo, tag });
      this.digests.set(tag, head?.digest ?? null);
    });
    return new Map(tags.map((t) => [t, this.digests.get(t) ?? null]));
  }

  async digestOf(tag: string): Promise<string | null> {
    return (await this.digestsOf([tag])).get(tag) ?? null;
  }

  /** The digest a tag points at now, always asked of the registry (moving tags move). */
  async liveDigest(tag: string): Promise<string | null> {
    const head = await this.client.headManifest({ ...this.repo, tag });
    this.digests.set(tag, head?.digest ?? null);
    return head?.digest ?? null;
  }

  /** Whether a manifest with this digest exists in the repository. */
  async hasDigest(digest: string): Promise<boolean> {
    return (await this.client.headManifest({ ...this.repo, digest })) !== undefined;
  }

  /** All digests known so far, for analysis. */
  knownDigests(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [tag, digest] of this.digests) if (digest) out.set(tag, digest);
    return out;
  }
}
