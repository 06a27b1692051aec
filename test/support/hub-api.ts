// A stand-in for Docker Hub's tag API on loopback (Hub's API cannot run here; see README.md).
// It answers in Hub's documented shapes (docs.docker.com/reference/api/hub/latest, "List
// repository tags"):
//   GET /v2/namespaces/{namespace}/repositories/{repository}/tags?page=N&page_size=M&ordering=O
//   → 200 {count, next, previous, results: [{name, digest, last_updated, tag_last_pushed, images[], …}]}
// page defaults to 1, page_size to 10 and is capped at 100 (asked for more, Hub serves 100);
// ordering last_updated is newest first (as Hub's site sorts "newest"), -last_updated oldest
// first, name / -name by name; a page past the last is 404, as an unknown repository is.
// Every answer carries Hub's rate-limit headers (X-RateLimit-Limit, -Remaining, -Reset: a Unix
// time); past the limit it answers 429 with Retry-After (seconds), as Hub documents.
// Run it behind test/support/delay-proxy.ts to put it at Hub's distance.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { headManifest, listTags } from './fixtures.js';
import type { RunningRegistry } from './registry.js';

export interface HubEntry {
  name: string;
  digest: string;
  /** When the tag was last pushed (ms since the epoch): last_updated and tag_last_pushed. */
  pushedMs: number;
}

export interface HubRateLimitSettings {
  /** Calls allowed a window. */
  limit: number;
  windowMs: number;
}

export interface HubRequest {
  path: string;
  page: number;
  pageSize: number;
  status: number;
}

export interface HubApi {
  url: string;
  /** The repositories served (namespace/name → tags); set a new array to push or delete tags between requests. */
  repositories: Map<string, HubEntry[]>;
  requests(): HubRequest[];
  clear(): void;
  /** Limit calls (undefined: Hub's headers with a large limit, never reached). */
  setRateLimit(settings: HubRateLimitSettings | undefined): void;
  /** The scheme its next and previous links name (https when it sits behind the TLS delay proxy, as Hub is HTTPS). */
  scheme: 'http' | 'https';
  /** Answer a request in place of the stand-in (faults); return false to let it answer. */
  intercept?: (request: http.IncomingMessage, response: http.ServerResponse) => boolean;
  stop(): Promise<void>;
}

// Hub's times have microseconds: 2021-01-05T21:06:53.506400Z.
const iso = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

function entryJson(e: HubEntry, id: number): Record<string, unknown> {
  const pushed = iso(e.pushedMs);
  return {
    creator: 7,
    id,
    images: [{ architecture: 'amd64', features: '', variant: null, digest: e.digest, os: 'linux', os_features: '', os_version: null, size: 28_000_000, status: 'active', last_pulled: null, last_pushed: pushed }],
    last_updated: pushed,
    last_updater: 7,
    last_updater_username: 'mozillarelengbot',
    name: e.name,
    repository: 1,
    full_size: 28_000_000,
    v2: true,
    tag_status: 'active',
    tag_last_pulled: null,
    tag_last_pushed: pushed,
    media_type: 'application/vnd.oci.image.manifest.v1+json',
    content_type: 'image',
    digest: e.digest,
  };
}

const sortedCache = new WeakMap<readonly HubEntry[], Map<string, { length: number; sorted: HubEntry[] }>>();

/** The entries in the order asked, sorted once per repository and order (again when entries were added or removed). */
function ordered(entries: readonly HubEntry[], ordering: string | null): HubEntry[] {
  let byOrdering = sortedCache.get(entries);
  if (!byOrdering) sortedCache.set(entries, (byOrdering = new Map()));
  const key = ordering ?? '';
  const hit = byOrdering.get(key);
  if (hit && hit.length === entries.length) return hit.sorted;
  const sorted = sortEntries(entries, ordering);
  byOrdering.set(key, { length: entries.length, sorted });
  return sorted;
}

function sortEntries(entries: readonly HubEntry[], ordering: string | null): HubEntry[] {
  const byName = (a: HubEntry, b: HubEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const copy = [...entries];
  switch (ordering) {
    case '-last_updated':
      return copy.sort((a, b) => a.pushedMs - b.pushedMs || byName(a, b));
    case 'name':
      return copy.sort(byName);
    case '-name':
      return copy.sort((a, b) => byName(b, a));
    default:
      // last_updated, and no ordering: newest first.
      return copy.sort((a, b) => b.pushedMs - a.pushedMs || byName(a, b));
  }
}

export async function startHubApi(repositories: Map<string, HubEntry[]> = new Map()): Promise<HubApi> {
  let log: HubRequest[] = [];
  let rate: HubRateLimitSettings | undefined;
  let windowStart = Date.now();
  let used = 0;
  const api: HubApi = {
    url: '',
    scheme: 'http',
    repositories,
    requests: () => [...log],
    clear: () => {
      log = [];
    },
    setRateLimit: (settings) => {
      rate = settings;
      windowStart = Date.now();
      used = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const page = url.searchParams.has('page') ? Number(url.searchParams.get('page')) : 1;
    const asked = url.searchParams.has('page_size') ? Number(url.searchParams.get('page_size')) : 10;
    const pageSize = Math.min(100, asked);
    const entry: HubRequest = { path: req.url ?? '/', page, pageSize, status: 0 };
    log.push(entry);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    if (api.intercept?.(req, res)) {
      entry.status = res.statusCode;
      return;
    }
    // Hub's rate limit: a fixed window, counted per call.
    const now = Date.now();
    const settings = rate ?? { limit: 1_000_000, windowMs: 60_000 };
    if (now - windowStart >= settings.windowMs) {
      windowStart = now;
      used = 0;
    }
    const resetAt = windowStart + settings.windowMs;
    const limited = used >= settings.limit;
    if (!limited) used++;
    const limits = { 'x-ratelimit-limit': String(settings.limit), 'x-ratelimit-remaining': String(Math.max(0, settings.limit - used)), 'x-ratelimit-reset': String(Math.ceil(resetAt / 1000)) };
    if (limited) {
      send(429, { message: 'Too Many Requests' }, { ...limits, 'retry-after': String(Math.max(1, Math.ceil((resetAt - now) / 1000))) });
      return;
    }
    const match = /^\/v2\/namespaces\/([^/]+)\/repositories\/([^/]+)\/tags\/?$/.exec(url.pathname);
    const entries = match ? repositories.get(`${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`) : undefined;
    if (!entries) {
      send(404, { message: 'object not found', errinfo: {} }, limits);
      return;
    }
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(asked) || asked < 1) {
      send(400, { message: 'invalid page or page_size', errinfo: {} }, limits);
      return;
    }
    const sorted = ordered(entries, url.searchParams.get('ordering'));
    const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
    if (page > pages) {
      send(404, { message: 'page not found', errinfo: {} }, limits);
      return;
    }
    const link = (n: number): string => {
      const next = new URL(`http://${req.headers.host ?? 'hub'}${url.pathname}`);
      next.protocol = `${api.scheme}:`;
      next.searchParams.set('page', String(n));
      next.searchParams.set('page_size', String(pageSize));
      if (url.searchParams.has('ordering')) next.searchParams.set('ordering', url.searchParams.get('ordering')!);
      return next.toString();
    };
    const start = (page - 1) * pageSize;
    send(
      200,
      {
        count: sorted.length,
        next: page < pages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
        results: sorted.slice(start, start + pageSize).map((e, i) => entryJson(e, start + i + 1)),
      },
      limits,
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

/**
 * Hub's view of a repository of a real registry: every tag with its digest (HEAD), pushed a
 * little after its archive tag's stamp (the pipeline pushes the tag when it deploys); a
 * moving tag when the newest archive tag of its image was, else at `nowMs`.
 */
export async function hubEntriesFromRegistry(reg: RunningRegistry, repository: string, nowMs = Date.now()): Promise<HubEntry[]> {
  const tags = await listTags(reg, repository);
  const withDigests = await Promise.all(tags.map(async (name) => ({ name, digest: (await headManifest(reg, repository, name))!.digest })));
  return hubEntriesOf(withDigests, nowMs);
}

/** Push times for tags with digests: an archive tag's stamp + 30 s, a moving tag its newest archive tag's + 60 s. */
export function hubEntriesOf(tags: readonly { name: string; digest: string }[], nowMs = Date.now()): HubEntry[] {
  const stamp = (name: string): number | undefined => {
    const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})-[0-9a-f]{40}$/.exec(name);
    return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
  };
  const newestByDigest = new Map<string, number>();
  for (const t of tags) {
    const s = stamp(t.name);
    if (s !== undefined) newestByDigest.set(t.digest, Math.max(newestByDigest.get(t.digest) ?? 0, s));
  }
  return tags.map((t) => {
    const s = stamp(t.name);
    const pushedMs = s !== undefined ? s + 30_000 : newestByDigest.has(t.digest) ? newestByDigest.get(t.digest)! + 60_000 : nowMs;
    return { name: t.name, digest: t.digest, pushedMs };
  });
}
