/**
 * Docker Hub's own API lists a repository's tags with their digests and push times, 100 a
 * page, so history on Hub needs no HEAD per tag. Documented (docs.docker.com/reference/api/hub):
 * `GET /v2/namespaces/{namespace}/repositories/{repository}/tags?page=N&page_size=M` (M at most
 * 100), answering `{count, next, previous, results: [{name, digest, last_updated,
 * tag_last_pushed, images[], …}]}`, and 404 for a page past the last. With
 * `ordering=last_updated` the newest tags come first.
 *
 * The first page gives `count`, so every other page is known at once: they are read
 * concurrently (in rounds of `concurrency` sent at once), or only as far as a caller needs (the
 * newest pages hold the current deploy and what a rollback would choose). Hub's rate limit
 * (`X-RateLimit-Limit`, `-Remaining`, `-Reset`; a 429 with `Retry-After`) is recorded and, when
 * reached, said plainly with the time it resets.
 */
import { NotFoundError, RemoteError } from '../errors.js';
import { defaultListingLimits, type ListingLimits } from './client.js';
import type { RegistryResponse, Transport } from './transport.js';

export const defaultHubApi = 'https://hub.docker.com';
/** Hub serves at most 100 tags a page. */
export const hubMaxPageSize = 100;
/** Pages read at once after the first (5,000 tags: the first page, then 49 in five rounds). */
export const defaultHubConcurrency = 10;

export interface HubTag {
  name: string;
  digest?: string;
  lastUpdated?: string;
  lastPushed?: string;
}

/** What Hub's rate-limit headers said last (absent: not sent). */
export interface HubRateLimit {
  limit?: number;
  remaining?: number;
  /** When the remaining calls reset, ms since the epoch. */
  resetAtMs?: number;
}

export interface HubListingOptions {
  /** Tags asked for a page (Hub caps it at 100). */
  pageSize?: number;
  /** Pages in flight at once after the first. */
  concurrency?: number;
  limits?: ListingLimits;
  /** The command's deadline (ms since the epoch): a rate limit that resets after it is said so. */
  deadlineAtMs?: number;
  now?: () => number;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** One repository's tag listing on Docker Hub, read page by page as far as asked. */
export class HubTagListing {
  readonly where: string;
  readonly rateLimit: HubRateLimit = {};
  /** Tags the first page counted. */
  count = 0;
  /** Pages of that count at the page size Hub serves. */
  totalPages = 0;
  /** The newest tags come first, each page's no newer than the one before (false: read every page before trusting a prefix). */
  ordered = true;
  /** A later page counted another number of tags than the first: the repository changed while it was read. */
  changed = false;
  private readonly pages: HubTag[][] = [];
  private readonly pageSize: number;
  private servedPageSize = 0;
  private readonly concurrency: number;
  private readonly limits: ListingLimits;
  private readonly now: () => number;
  private firstRead?: Promise<void>;
  private reading?: Promise<void>;
  private readonly base: string;

  constructor(
    private readonly send: Transport,
    apiBase: string,
    readonly repository: string,
    private readonly options: HubListingOptions = {},
  ) {
    const [namespace, ...rest] = repository.split('/');
    this.base = `${apiBase.replace(/\/$/, '')}/v2/namespaces/${encodeURIComponent(namespace!)}/repositories/${encodeURIComponent(rest.join('/'))}/tags`;
    this.where = `Docker Hub API ${repository}`;
    this.pageSize = Math.max(1, Math.min(hubMaxPageSize, options.pageSize ?? hubMaxPageSize));
    this.concurrency = Math.max(1, options.concurrency ?? defaultHubConcurrency);
    this.limits = options.limits ?? defaultListingLimits;
    this.now = options.now ?? Date.now;
  }

  pageUrl(page: number): string {
    return `${this.base}?page=${page}&page_size=${this.pageSize}&ordering=last_updated`;
  }

  /** Pages read, contiguous from the first (the newest). */
  get pagesRead(): number {
    let n = 0;
    while (this.pages[n] !== undefined) n++;
    return n;
  }

  get complete(): boolean {
    return this.firstRead !== undefined && this.pages[0] !== undefined && this.pagesRead >= this.totalPages;
  }

  /** Every tag of the pages read from the first on, newest first (a tag seen twice, as tags shift while pages are read, once). */
  tags(): HubTag[] {
    const out: HubTag[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < this.pagesRead; i++) {
      for (const tag of this.pages[i]!) {
        if (seen.has(tag.name)) continue;
        seen.add(tag.name);
        out.push(tag);
      }
    }
    return out;
  }

  /**
   * Every tag pushed after this time (ms since the epoch) is on the pages read: Hub orders by
   * last_updated, newest first. Undefined when the order cannot be trusted, or nothing is read.
   */
  get completeAfterMs(): number | undefined {
    if (!this.ordered) return undefined;
    const read = this.pagesRead;
    if (read === 0) return undefined;
    if (read >= this.totalPages) return -Infinity;
    const last = this.pages[read - 1]!.at(-1);
    const ms = Date.parse(last?.lastUpdated ?? '');
    return Number.isNaN(ms) ? undefined : ms;
  }

  /** The first page: the count, and with it every other page's address. */
  readFirst(): Promise<void> {
    this.firstRead ??= this.readPage(1).then((page) => {
      this.pages[0] = page.tags;
      this.count = page.count;
      // Hub may serve fewer a page than asked (its cap): the pages are counted at what it serves.
      this.servedPageSize = page.tags.length < this.pageSize && page.count > page.tags.length && page.tags.length > 0 ? page.tags.length : this.pageSize;
      this.totalPages = Math.max(1, Math.ceil(page.count / this.servedPageSize));
      // The count says how far the listing goes: a cap is refused before a second page is asked.
      if (page.count > this.limits.maxTags) throw new RemoteError(`${this.where}: counts ${page.count} tags, more than the tag cap of ${this.limits.maxTags} (TC_PROMOTE_MAX_TAGS); raise it if the repository really holds that many`);
      if (this.totalPages > this.limits.maxPages) {
        throw new RemoteError(`${this.where}: counts ${page.count} tags in ${this.totalPages} pages of ${this.servedPageSize}, more than the page cap of ${this.limits.maxPages} (TC_PROMOTE_MAX_TAG_PAGES); raise it if the repository really holds that many`);
      }
      this.checkCount(1, page);
      this.checkOrder();
    });
    return this.firstRead;
  }

  /** Read the next `pages` pages (every one left when undefined), at most `concurrency` at once. */
  async readMore(pages?: number): Promise<void> {
    await this.readFirst();
    // One round of reading at a time: callers asking meanwhile share it.
    while (this.reading) await this.reading;
    if (this.complete) return;
    const from = this.pagesRead + 1;
    const to = Math.min(this.totalPages, pages === undefined ? this.totalPages : from + pages - 1);
    const numbers = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    // The first page that fails stops the others: nothing is left running, or retrying, behind the error.
    const stop = new AbortController();
    const readOne = async (n: number): Promise<void> => {
      try {
        const page = await this.readPage(n, stop.signal);
        if (page.count !== this.count) this.changed = true;
        this.checkCount(n, page);
        this.pages[n - 1] = page.tags;
      } catch (error) {
        stop.abort(new Error(`another page of ${this.repository} failed`));
        throw error;
      }
    };
    // In rounds of `concurrency` pages, each sent at once: n pages cost ceil(n / concurrency)
    // round trips, whatever order the answers come in.
    this.reading = (async () => {
      for (let i = 0; i < numbers.length; i += this.concurrency) await Promise.all(numbers.slice(i, i + this.concurrency).map(readOne));
    })().then(() => this.checkOrder());
    try {
      await this.reading;
    } finally {
      this.reading = undefined;
    }
  }

  private checkOrder(): void {
    let previous = Infinity;
    for (const tag of this.tags()) {
      const ms = Date.parse(tag.lastUpdated ?? '');
      if (Number.isNaN(ms) || ms > previous) {
        this.ordered = false;
        return;
      }
      previous = ms;
    }
  }

  private recordRateLimit(response: RegistryResponse): void {
    const number = (name: string): number | undefined => {
      const text = response.headers[name]?.trim();
      return text !== undefined && /^\d{1,12}$/.test(text) ? Number(text) : undefined;
    };
    const limit = number('x-ratelimit-limit');
    const remaining = number('x-ratelimit-remaining');
    const reset = number('x-ratelimit-reset');
    if (limit !== undefined) this.rateLimit.limit = limit;
    const resetAtMs = reset !== undefined ? reset * 1000 : undefined;
    const recorded = this.rateLimit.resetAtMs;
    // A later reset is a new window (a reset waited for): its count of calls left replaces the old
    // window's 0. An answer of an earlier window (answers of a round land in any order) says nothing now.
    if (resetAtMs !== undefined && recorded !== undefined && resetAtMs < recorded) return;
    const newWindow = resetAtMs !== undefined && recorded !== undefined && resetAtMs > recorded;
    if (remaining !== undefined) this.rateLimit.remaining = this.rateLimit.remaining === undefined || newWindow ? remaining : Math.min(this.rateLimit.remaining, remaining);
    if (resetAtMs !== undefined) this.rateLimit.resetAtMs = resetAtMs;
  }

  /** A sentence for the output when the limit is reached (no calls left), else undefined. */
  rateLimitNote(): string | undefined {
    const { limit, remaining, resetAtMs } = this.rateLimit;
    if (remaining !== 0) return undefined;
    return `Docker Hub API rate limit reached: 0 of ${limit ?? '?'} calls left${resetAtMs !== undefined ? `; it resets at ${iso(resetAtMs)}` : ''} (the next command that lists Hub's tags before then is refused)`;
  }

  private rateLimitError(response: RegistryResponse): RemoteError {
    const { limit } = this.rateLimit;
    const now = this.now();
    const retryAfter = response.headers['retry-after']?.trim();
    let resetAtMs = this.rateLimit.resetAtMs;
    if (retryAfter && /^\d+$/.test(retryAfter)) resetAtMs = now + Number(retryAfter) * 1000;
    // An HTTP-date only (RFC 9110: "Wed, 21 Oct 2015 07:28:00 GMT"): Date.parse reads "-5" or "soon 12" as a day in 2001.
    else if (retryAfter && /^[A-Za-z]{3,9}, .*\d{2}:\d{2}:\d{2} GMT$/.test(retryAfter) && !Number.isNaN(Date.parse(retryAfter))) resetAtMs = Date.parse(retryAfter);
    // A time no Date can hold (a Retry-After of 10^20 s) is no reset time: said as not given.
    if (resetAtMs !== undefined && !(Math.abs(resetAtMs) <= 8.64e15)) resetAtMs = undefined;
    const when = resetAtMs !== undefined ? `; it resets at ${iso(resetAtMs)}, in ${Math.max(1, Math.ceil((resetAtMs - now) / 1000))} s` : '; Hub did not say when it resets';
    const deadline = this.options.deadlineAtMs;
    const why =
      resetAtMs !== undefined && resetAtMs - now > 60_000
        ? ', longer than tc-promote waits for a rate limit (60 s)'
        : resetAtMs !== undefined && deadline !== undefined && resetAtMs >= deadline
          ? ", after this command's deadline (TC_PROMOTE_COMMAND_TIMEOUT_MS), so it was not waited for"
          : '';
    return new RemoteError(`${this.where}: rate limit reached (HTTP 429${limit !== undefined ? `, ${limit} calls a period` : ''})${when}${why}; run the command again after that`);
  }

  private async readPage(page: number, signal?: AbortSignal): Promise<{ count: number; tags: HubTag[]; next?: boolean }> {
    const url = this.pageUrl(page);
    let response: RegistryResponse;
    try {
      response = await this.send({ method: 'GET', url, headers: { accept: 'application/json' }, idempotent: true, maxBodyBytes: 16 * 1024 * 1024, ...(signal && { signal }) });
    } catch (error) {
      throw new RemoteError(`${this.where}: ${(error as Error).message}`, { cause: error });
    }
    this.recordRateLimit(response);
    if (response.status === 404) {
      if (page === 1) throw new NotFoundError(`${this.where}: repository not found (HTTP 404)`);
      // Past the last page: tags were deleted since the first page counted them.
      this.changed = true;
      return { count: this.count, tags: [] };
    }
    if (response.status === 429) throw this.rateLimitError(response);
    if (response.status !== 200) throw new RemoteError(`${this.where}: page ${page}: HTTP ${response.status}`);
    let body: { count?: unknown; results?: unknown; next?: unknown };
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new RemoteError(`${this.where}: page ${page}: response is not valid JSON`);
    }
    if (body === null || typeof body !== 'object' || !Array.isArray(body.results)) throw new RemoteError(`${this.where}: response has no results array`);
    if (typeof body.count !== 'number' || !Number.isSafeInteger(body.count) || body.count < 0) throw new RemoteError(`${this.where}: page ${page}: response has no count of tags`);
    const tags: HubTag[] = [];
    for (const entry of body.results as unknown[]) {
      const e = entry as { name?: unknown; digest?: unknown; last_updated?: unknown; tag_last_pushed?: unknown };
      if (typeof e?.name !== 'string') throw new RemoteError(`${this.where}: page ${page}: a result has no name`);
      tags.push({
        name: e.name,
        ...(typeof e.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(e.digest) && { digest: e.digest }),
        ...(typeof e.last_updated === 'string' && { lastUpdated: e.last_updated }),
        ...(typeof e.tag_last_pushed === 'string' && { lastPushed: e.tag_last_pushed }),
      });
    }
    if (tags.length > this.pageSize) throw new RemoteError(`${this.where}: page ${page} holds ${tags.length} tags, more than the ${this.pageSize} asked for`);
    return { count: body.count, tags, next: typeof body.next === 'string' && body.next !== '' };
  }

  /** The last page the count allows still links a next one, or holds more than the count: the count lies. */
  private checkCount(n: number, page: { count: number; tags: HubTag[]; next?: boolean }): void {
    if (page.count !== this.count) return;
    const lies = (n >= this.totalPages && page.next) || (n === 1 && page.tags.length > page.count);
    if (lies) throw new RemoteError(`${this.where}: page ${n} counts ${page.count} tags in ${this.totalPages} pages, but ${page.next ? 'links a next page' : `holds ${page.tags.length}`}: Hub's count disagrees with its pages, so the listing cannot be known to be whole; run the command again, or list from the registry API (without --hub-api)`);
  }
}

/** Every tag of a repository (every page, the first then the rest at once). */
export async function listHubTags(send: Transport, apiBase: string, repository: string, options: HubListingOptions = {}): Promise<HubTag[]> {
  const listing = new HubTagListing(send, apiBase, repository, options);
  await listing.readMore();
  return listing.tags();
}
