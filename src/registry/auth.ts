/**
 * The auth layer: learns each registry's challenge from its first 401 (or a `GET /v2/` ping
 * before a request that cannot be replayed), then sends Basic credentials or Bearer tokens
 * obtained for the request's scope. Tokens are cached per
 * registry and scope until shortly before they expire. Anonymous bearer tokens serve reads.
 */
import { RemoteError, UsageError, quote } from '../errors.js';
import { parseChallenge, type Challenge } from './challenge.js';
import type { Credential, CredentialSource } from './credentials.js';
import type { Redactor } from './redact.js';
import { isInsecureRegistry } from './reference.js';
import { redactUrl, type RegistryRequest, type RegistryResponse, type Transport } from './transport.js';

export interface AuthOptions {
  credentials: CredentialSource;
  /** Base URL for a registry host, e.g. `http://127.0.0.1:5000`. */
  baseUrl: (registry: string) => string;
  now?: () => number;
  /** Every credential this layer sends is registered here, for redaction of remote text. */
  redactor?: Redactor;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export function withAuth(next: Transport, options: AuthOptions): Transport {
  const now = options.now ?? Date.now;
  const challenges = new Map<string, Promise<Challenge | undefined>>();
  const tokens = new Map<string, Promise<CachedToken>>();
  // What a registry is sent is what it could echo: each credential is known to the redactor first.
  const credentialsFor = async (registry: string): Promise<Credential | undefined> => {
    const credential = await options.credentials(registry);
    if (credential && options.redactor) {
      if (credential.password !== undefined) options.redactor.addCredentialPair(credential.username ?? '', credential.password);
      options.redactor.add(credential.identityToken);
    }
    return credential;
  };
  // When each cached token was asked for: requests that failed together (history sends the tag
  // list and a HEAD at once) renew it once, not once each.
  const askedAt = new Map<string, number>();
  let sequence = 0;

  // What each registry asked for. Unknown until its first 401: requests go out without
  // credentials and learn the challenge from the answer, so an anonymous registry costs no
  // extra round trip. Only a request whose body cannot be sent twice pings `/v2/` first.
  const challengeFor = (registry: string, replayable: boolean): Promise<Challenge | undefined> => {
    let found = challenges.get(registry);
    if (!found && !replayable) {
      found = ping(next, options.baseUrl(registry));
      challenges.set(registry, found);
      found.catch(() => challenges.delete(registry));
    }
    return found ?? Promise.resolve(undefined);
  };

  const tokenFor = async (registry: string, challenge: Challenge, scope: string | undefined, fresh: boolean, sentAt = Infinity): Promise<string> => {
    const key = `${registry} ${scope ?? ''}`;
    const cached = tokens.get(key);
    if (cached && (!fresh || (askedAt.get(key) ?? -1) > sentAt)) {
      const value = await cached.catch(() => undefined);
      if (value && value.expiresAt > now()) return value.token;
    }
    const pending = (async () => {
      const token = await fetchToken(next, challenge, scope, await credentialsFor(registry), now(), options.baseUrl(registry));
      options.redactor?.add(token.token);
      return token;
    })();
    tokens.set(key, pending);
    askedAt.set(key, ++sequence);
    pending.catch(() => tokens.delete(key));
    return (await pending).token;
  };

  const authorize = async (req: RegistryRequest, registry: string, fresh: boolean, sentAt?: number): Promise<RegistryRequest> => {
    const challenge = await challengeFor(registry, isReplayable(req));
    if (!challenge) return req;
    let authorization: string | undefined;
    if (challenge.scheme === 'basic') {
      const credential = await credentialsFor(registry);
      if (credential?.username !== undefined && credential.password !== undefined) {
        authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      }
    } else {
      authorization = `Bearer ${await tokenFor(registry, challenge, req.scope, fresh, sentAt)}`;
    }
    return authorization ? { ...req, headers: { ...req.headers, authorization } } : req;
  };

  return async (req) => {
    const registry = new URL(req.url).host;
    const authorized = await authorize(req, registry, false);
    const sentAt = sequence;
    const first = await next(authorized);
    if (first.status !== 401 || !isReplayable(req)) return first;
    // The cached token may have expired early or lacked a scope, or the registry began to
    // ask for auth after the ping: learn the challenge it sends now and try once more.
    const challenge = parseChallenge(first.headers['www-authenticate']);
    if (!challenge) return first;
    challenges.set(registry, Promise.resolve(challenge));
    return next(await authorize(req, registry, true, sentAt));
  };
}

function isReplayable(req: RegistryRequest): boolean {
  return !(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body));
}

async function ping(next: Transport, baseUrl: string): Promise<Challenge | undefined> {
  const response = await next({ method: 'GET', url: `${baseUrl}/v2/`, idempotent: true, maxBodyBytes: 64 * 1024 });
  if (response.status === 401) {
    const challenge = parseChallenge(response.headers['www-authenticate']);
    if (!challenge) throw new RemoteError(`${baseUrl}/v2/: 401 without a usable WWW-Authenticate challenge`);
    return challenge;
  }
  if (response.status >= 200 && response.status < 300) return undefined;
  if (response.status === 404) throw new RemoteError(`${baseUrl}/v2/: 404, not a registry API (docker distribution v2)`);
  throw new RemoteError(`${baseUrl}/v2/: HTTP ${response.status}`);
}

async function fetchToken(next: Transport, challenge: Challenge, scope: string | undefined, credential: Credential | undefined, now: number, registryUrl: string): Promise<CachedToken> {
  const realm = challenge.params.realm;
  if (!realm) throw new RemoteError('registry bearer challenge names no realm');
  let realmUrl: URL;
  try {
    realmUrl = new URL(realm);
  } catch {
    throw new RemoteError(`registry bearer challenge realm is not a URL`);
  }
  if (realmUrl.protocol !== 'https:' && realmUrl.protocol !== 'http:') throw new RemoteError(`registry bearer challenge realm ${quote(redactUrl(realmUrl.toString()))} is not an http(s) URL`);
  // An https registry never sends its credentials to a plain-http token service.
  if (credential && realmUrl.protocol === 'http:' && registryUrl.startsWith('https:') && !isInsecureRegistry(realmUrl.host)) {
    throw new RemoteError(`${registryUrl}: its bearer challenge names the token service ${quote(redactUrl(`${realmUrl.origin}${realmUrl.pathname}`))} over plain http: the credentials would travel in clear; refusing to send them`);
  }
  const service = challenge.params.service;
  let response: RegistryResponse;
  if (credential?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'tc-promote' });
    if (service) form.set('service', service);
    // The OAuth2 form takes scopes space-delimited in one parameter.
    if (scope) form.set('scope', scope);
    response = await next({
      method: 'POST',
      url: realmUrl.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      idempotent: true,
      maxBodyBytes: 1024 * 1024,
    });
  } else {
    if (service) realmUrl.searchParams.set('service', service);
    // Several scopes (a blob mount reads one repository and writes another) are several parameters.
    for (const one of scope?.split(' ').filter(Boolean) ?? []) realmUrl.searchParams.append('scope', one);
    const headers: Record<string, string> = {};
    if (credential?.username !== undefined && credential.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
      realmUrl.searchParams.set('account', credential.username);
    }
    response = await next({ method: 'GET', url: realmUrl.toString(), headers, idempotent: true, maxBodyBytes: 1024 * 1024 });
  }
  const where = `token service ${redactUrl(`${realmUrl.origin}${realmUrl.pathname}`)}`;
  if (response.status === 401 || response.status === 403) {
    throw new UsageError(`${where}: credentials refused (HTTP ${response.status}) for scope ${scope ?? '(none)'}`);
  }
  if (response.status !== 200) throw new RemoteError(`${where}: HTTP ${response.status}`);
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new RemoteError(`${where}: response is not JSON`);
  }
  const token = typeof parsed.token === 'string' ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : undefined;
  if (!token) throw new RemoteError(`${where}: response has no token`);
  // The token spec's default lifetime is 60 s; renew 10 s early to absorb clock skew.
  const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
  const issued = typeof parsed.issued_at === 'string' && !Number.isNaN(Date.parse(parsed.issued_at)) ? Math.min(Date.parse(parsed.issued_at), now) : now;
  return { token, expiresAt: issued + Math.max(1, lifetime - 10) * 1000 };
}
