/**
 * Docker Hub's own API lists a repository's tags with their digests and push times, 100 a
 * page, so history on Hub needs no HEAD per tag. Response shape (documented):
 * `{count, next, previous, results: [{name, digest, last_updated, tag_last_pushed, …}]}`.
 */
import { NotFoundError, RemoteError, quote } from '../errors.js';
import { defaultListingLimits, listingCapError, type ListingLimits } from './client.js';
import type { Transport } from './transport.js';
import { redactUrl } from './transport.js';

export const defaultHubApi = 'https://hub.docker.com';

export interface HubTag {
  name: string;
  digest?: string;
  lastUpdated?: string;
  lastPushed?: string;
}

export async function listHubTags(send: Transport, apiBase: string, repository: string, pageSize = 100, limits: ListingLimits = defaultListingLimits): Promise<HubTag[]> {
  const [namespace, ...rest] = repository.split('/');
  const name = rest.join('/');
  let url: string | null = `${apiBase.replace(/\/$/, '')}/v2/namespaces/${encodeURIComponent(namespace!)}/repositories/${encodeURIComponent(name)}/tags?page_size=${pageSize}`;
  const tags: HubTag[] = [];
  const seen = new Set<string>();
  const where = `Docker Hub API ${repository}`;
  for (let page = 1; url; page++) {
    if (page > limits.maxPages) throw listingCapError(where, 'pages', limits, page);
    if (seen.has(url)) throw new RemoteError(`${where}: pagination loops back to ${redactUrl(url)}`);
    seen.add(url);
    let response;
    try {
      response = await send({ method: 'GET', url, headers: { accept: 'application/json' }, idempotent: true, maxBodyBytes: 16 * 1024 * 1024 });
    } catch (error) {
      throw new RemoteError(`${where}: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 404) throw new NotFoundError(`${where}: repository not found (HTTP 404)`);
    if (response.status !== 200) throw new RemoteError(`${where}: HTTP ${response.status}`);
    let body: { next?: unknown; results?: unknown };
    try {
      body = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new RemoteError(`${where}: response is not valid JSON`);
    }
    if (body === null || typeof body !== 'object' || !Array.isArray(body.results)) throw new RemoteError(`${where}: response has no results array`);
    for (const entry of body.results as unknown[]) {
      const e = entry as { name?: unknown; digest?: unknown; last_updated?: unknown; tag_last_pushed?: unknown };
      if (typeof e?.name !== 'string') throw new RemoteError(`${where}: a result has no name`);
      tags.push({
        name: e.name,
        ...(typeof e.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(e.digest) && { digest: e.digest }),
        ...(typeof e.last_updated === 'string' && { lastUpdated: e.last_updated }),
        ...(typeof e.tag_last_pushed === 'string' && { lastPushed: e.tag_last_pushed }),
      });
    }
    if (tags.length > limits.maxTags) throw listingCapError(where, 'tags', limits, page);
    if (body.next !== null && body.next !== undefined && typeof body.next !== 'string') throw new RemoteError(`${where}: next is not a URL`);
    let next: string | null = null;
    if (typeof body.next === 'string' && body.next) {
      try {
        next = new URL(body.next, url).toString();
      } catch {
        throw new RemoteError(`${where}: next is not a URL`);
      }
    }
    if (next !== null && new URL(next).origin !== new URL(url).origin) throw new RemoteError(`${where}: next links to another host, ${quote(redactUrl(next))}`);
    url = next;
  }
  return tags;
}
