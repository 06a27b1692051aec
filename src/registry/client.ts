/**
 * Registry operations over the layered transport (http → retry → auth). Operations are short
 * because the layers below handle auth challenges, tokens and retries.
 */
import { NotFoundError, PromoteError, RemoteError, UsageError, quote } from '../errors.js';
import { withAuth } from './auth.js';
import { anonymous, type CredentialSource } from './credentials.js';
import { manifestAccept, maxManifestBytes, parseManifest, type Manifest } from './manifest.js';
import { formatReference, isDigest, registryBaseUrl, type ImageReference } from './reference.js';
import { withRetry, type RetryOptions } from './retry.js';
import { Redactor, withRedaction } from './redact.js';
import { BodyTooLargeError, TransportError, httpTransport, redactUrl, type RegistryRequest, type RegistryResponse, type Transport } from './transport.js';

export interface RegistryClientOptions {
  credentials?: CredentialSource;
  /** Hosts reached over plain HTTP besides loopback ones (from `--registry http://…`). */
  plainHttpHosts?: ReadonlySet<string>;
  /** Hosts reached over HTTPS even on loopback (from `--registry https://127.0.0.1:…`). */
  httpsHosts?: ReadonlySet<string>;
  retry?: RetryOptions;
  /** Idle timeout: for the answer's head, and between body chunks. */
  timeoutMs?: number;
  /** Whole-request deadline: status line, headers and body together. */
  deadlineMs?: number;
  /** The command's stop signal (its deadline). */
  signal?: AbortSignal;
  /** When the command's deadline passes (ms since the epoch): no retry waits past it. */
  deadlineAtMs?: number;
  /** Credentials sent are registered here and removed from every remote text (default: a new one). */
  redactor?: Redactor;
  /** Caps on a tag listing, which a registry could otherwise page through forever. */
  listing?: Partial<ListingLimits>;
  /** Replace the HTTP layer (tests); retry and auth still wrap it. */
  transport?: Transport;
  /** Most connections kept per registry host (default 16). */
  connections?: number;
  /**
   * Where a registry host came from, for a refused connection's message ("--registry", "the
   * configuration's environments.production.source"): the way to point elsewhere.
   */
  describeRegistry?: (host: string) => string | undefined;
}

export interface ListingLimits {
  /** Most pages of one listing (`Link: rel="next"`, Hub's `next`). */
  maxPages: number;
  /** Most tags of one repository. */
  maxTags: number;
}

/** Big enough for Docker Hub's largest repositories at 100 a page; small enough to end a loop. */
export const defaultListingLimits: ListingLimits = { maxPages: 10_000, maxTags: 1_000_000 };

/** Thrown when a listing reaches a cap: which cap, its value, and where it was hit. */
export function listingCapError(where: string, cap: 'pages' | 'tags', limits: ListingLimits, page: number): RemoteError {
  return cap === 'pages'
    ? new RemoteError(`${where}: stopped after ${limits.maxPages} pages, the page cap (TC_PROMOTE_MAX_TAG_PAGES): the registry keeps linking to a next page`)
    : new RemoteError(`${where}: more than ${limits.maxTags} tags by page ${page}, the tag cap (TC_PROMOTE_MAX_TAGS); raise it if the repository really holds that many`);
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** A refused connection names the registry and what chose it: nothing listens there, so the way out is to point elsewhere. */
function namingRefusedRegistry(inner: Transport, describe: (host: string) => string | undefined): Transport {
  return async (request) => {
    try {
      return await inner(request);
    } catch (error) {
      if (!(error instanceof TransportError) || error.code !== 'ECONNREFUSED') throw error;
      let host = '';
      try {
        host = new URL(request.url).host;
      } catch {
        throw error;
      }
      const origin = describe(host);
      throw new TransportError(`${error.message}: nothing listens at ${host}${origin ? `, the registry named by ${origin}` : ''}`, error.code, { cause: error });
    }
  };
}

export class RegistryClient {
  readonly send: Transport;
  /** Retries but no registry auth: for other APIs (Docker Hub's), whose hosts are not registries. */
  readonly sendPlain: Transport;
  readonly redactor: Redactor;
  readonly listing: ListingLimits;
  /** The retry layer's settings (copy's guarded PUT waits as the layer would between its own attempts). */
  readonly retry: RetryOptions;
  /** When the command's deadline passes, if known (ms since the epoch). */
  readonly deadlineAtMs: number | undefined;
  private readonly plainHttpHosts: ReadonlySet<string>;
  private readonly httpsHosts: ReadonlySet<string>;

  constructor(options: RegistryClientOptions = {}) {
    this.plainHttpHosts = options.plainHttpHosts ?? new Set();
    this.httpsHosts = options.httpsHosts ?? new Set();
    this.redactor = options.redactor ?? new Redactor();
    this.listing = { ...defaultListingLimits, ...options.listing };
    this.retry = { ...options.retry };
    this.deadlineAtMs = options.deadlineAtMs;
    const base =
      options.transport ??
      httpTransport({
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
        ...(options.signal && { signal: options.signal }),
        ...(options.connections !== undefined && { connections: options.connections }),
      });
    const retried = withRetry(options.describeRegistry ? namingRefusedRegistry(base, options.describeRegistry) : base, { ...options.retry, ...(options.signal && { signal: options.signal }), ...(options.deadlineAtMs !== undefined && { deadlineAtMs: options.deadlineAtMs }) });
    // http → retry → auth → redaction: the operations read answers with every credential removed.
    this.sendPlain = withRedaction(retried, this.redactor);
    this.send = withRedaction(
      withAuth(retried, {
        credentials: options.credentials ?? anonymous,
        baseUrl: (registry) => this.baseUrl(registry),
        redactor: this.redactor,
      }),
      this.redactor,
    );
  }

  baseUrl(registry: string): string {
    return registryBaseUrl(registry, this.plainHttpHosts, this.httpsHosts);
  }

  repositoryUrl(ref: Pick<ImageReference, 'registry' | 'repository'>): string {
    return `${this.baseUrl(ref.registry)}/v2/${ref.repository}`;
  }

  /** Every tag of a repository, following `Link` pagination with `n` tags a page. */
  async listTags(ref: Pick<ImageReference, 'registry' | 'repository'>, pageSize = 1000, onPage?: (page: number) => void): Promise<string[]> {
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = `${this.repositoryUrl(ref)}/tags/list?n=${pageSize}`;
    const where = `${formatReference(ref)} tags`;
    for (let page = 1; url; page++) {
      if (page > this.listing.maxPages) throw listingCapError(where, 'pages', this.listing, page);
      if (seen.has(url)) throw new RemoteError(`${where}: pagination loops back to ${redactUrl(url)}`);
      seen.add(url);
      const response = await this.request({ method: 'GET', url, scope: pullScope(ref), idempotent: true, maxBodyBytes: 32 * 1024 * 1024 }, where);
      if (response.status === 404) throw new NotFoundError(`${where}: repository not found (HTTP 404)`);
      expectOk(response, where);
      let body: { tags?: unknown };
      try {
        body = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new RemoteError(`${where}: page ${page} is not valid JSON`);
      }
      if (body === null || typeof body !== 'object' || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))) {
        throw new RemoteError(`${where}: page ${page} has no tags array`);
      }
      for (const tag of (body.tags as unknown[] | null | undefined) ?? []) {
        if (typeof tag !== 'string') throw new RemoteError(`${where}: page ${page} lists a tag that is not a string`);
        tags.push(tag);
      }
      if (tags.length > this.listing.maxTags) throw listingCapError(where, 'tags', this.listing, page);
      onPage?.(page);
      let next: string | undefined;
      try {
        next = nextLink(response.headers.link, url);
      } catch (error) {
        throw new RemoteError(`${where}: page ${page}: ${(error as Error).message}`);
      }
      // The next page comes from the same registry: a Link elsewhere is not followed.
      if (next !== undefined && new URL(next).origin !== new URL(url).origin) {
        throw new RemoteError(`${where}: page ${page} links its next page to another host, ${quote(redactUrl(next))}`);
      }
      url = next;
    }
    return tags;
  }

  /** HEAD a manifest: its digest without downloading it (HEAD is not counted by Hub pull limits). */
  async headManifest(ref: ImageReference): Promise<ManifestHead | undefined> {
    const where = formatReference(ref);
    const response = await this.request({ method: 'HEAD', url: this.manifestUrl(ref), headers: { accept: manifestAccept }, scope: pullScope(ref), idempotent: true }, where);
    if (response.status === 404) return undefined;
    expectOk(response, where);
    const digest = response.headers['docker-content-digest'];
    if (!digest) {
      // Some registries omit the header on HEAD: fall back to GET, which is checked by hash.
      const manifest = await this.getManifest(ref);
      return manifest && { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.bytes.length };
    }
    if (!isDigest(digest)) throw new RemoteError(`${where}: registry sent a malformed digest ${quote(digest)}`);
    if (ref.digest && digest !== ref.digest) throw new RemoteError(`${where}: registry answered for ${digest}`);
    return { digest, mediaType: response.headers['content-type']?.split(';')[0] ?? '', size: Number(response.headers['content-length'] ?? 0) };
  }

  /** GET a manifest; its bytes are checked against the digest asked for or announced. */
  async getManifest(ref: ImageReference): Promise<Manifest | undefined> {
    const where = formatReference(ref);
    let response: RegistryResponse;
    try {
      response = await this.request({ method: 'GET', url: this.manifestUrl(ref), headers: { accept: manifestAccept }, scope: pullScope(ref), idempotent: true, maxBodyBytes: maxManifestBytes }, where);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw new RemoteError(`${where}: manifest larger than ${maxManifestBytes} bytes`);
      throw error;
    }
    if (response.status === 404) return undefined;
    expectOk(response, where);
    const announced = response.headers['docker-content-digest'];
    if (announced !== undefined && !isDigest(announced)) throw new RemoteError(`${where}: registry sent a malformed digest ${quote(announced)}`);
    return parseManifest(response.body, response.headers['content-type'], where, ref.digest ?? announced);
  }

  manifestUrl(ref: ImageReference): string {
    const reference = ref.digest ?? ref.tag;
    if (!reference) throw new UsageError(`${formatReference(ref)}: needs a tag or a digest`);
    return `${this.repositoryUrl(ref)}/manifests/${reference}`;
  }

  /** Send through the stack; network failures become one clear RemoteError. */
  async request(req: RegistryRequest, where: string, options: { withoutAuth?: boolean } = {}): Promise<RegistryResponse> {
    try {
      return await (options.withoutAuth ? this.sendPlain : this.send)(req);
    } catch (error) {
      if (error instanceof PromoteError) throw error;
      throw new RemoteError(`${where}: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function pullScope(ref: Pick<ImageReference, 'repository'>): string {
  return `repository:${ref.repository}:pull`;
}

export function pushScope(ref: Pick<ImageReference, 'repository'>): string {
  return `repository:${ref.repository}:pull,push`;
}

export function expectOk(response: RegistryResponse, where: string): void {
  if (response.status >= 200 && response.status < 300) return;
  const detail = registryErrorDetail(response);
  if (response.status === 401 || response.status === 403) {
    throw new RemoteError(`${where}: access denied (HTTP ${response.status})${detail}; check the registry credentials (docker login)`);
  }
  throw new RemoteError(`${where}: HTTP ${response.status}${detail}`);
}

/** The registry's `{errors: [{code, message}]}` body, shortened; never echoes headers. */
function registryErrorDetail(response: RegistryResponse): string {
  try {
    const parsed = JSON.parse(response.body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first?.code) return ` ${first.code}${first.message ? `: ${first.message.slice(0, 200)}` : ''}`;
  } catch {
    // not a registry error body
  }
  return '';
}

/** Where a redirect (a blob sent to storage) leads: an http(s) URL, or a clear error. */
export function followRedirect(location: string, current: string, where: string): string {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new RemoteError(`${where}: the registry redirects to ${quote(location)}, which is not a URL`);
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new RemoteError(`${where}: the registry redirects to a ${quote(next.protocol)} URL; only http(s) redirects are followed`);
  return next.toString();
}

/** The `rel="next"` target of a Link header, resolved against the current URL. */
export function nextLink(header: string | undefined, current: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (!match || !/rel\s*=\s*"?next"?/i.test(match[2]!)) continue;
    try {
      return new URL(match[1]!, current).toString();
    } catch {
      throw new RemoteError(`the Link header's next page ${quote(match[1])} is not a URL`);
    }
  }
  return undefined;
}
