/**
 * Image references in docker form: `[registry/]repository[:tag][@digest]`.
 * `docker.io` (and no registry at all) means Docker Hub, whose API host is
 * `registry-1.docker.io`; single-name Hub repositories live under `library/`.
 */
import { UsageError, quote, quoteUrl } from '../errors.js';

export const dockerHubHost = 'registry-1.docker.io';
const hubAliases = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

export interface ImageReference {
  /** Host (and port) the registry API is served from, e.g. `registry-1.docker.io`, `127.0.0.1:5000`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const repositoryComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
const hostPattern = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$/;

export function normalizeRegistry(host: string): string {
  const lower = host.toLowerCase();
  return hubAliases.has(lower) ? dockerHubHost : lower;
}

export function isDockerHub(registry: string): boolean {
  return normalizeRegistry(registry) === dockerHubHost;
}

/** Loopback registries speak plain HTTP, as docker does for them. */
export function isInsecureRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host ?? '');
}

/**
 * Loopback registries are spoken to over plain HTTP, others over HTTPS, unless `--registry`
 * said otherwise (`http://host` for a plain one, `https://127.0.0.1:5000` for a TLS one).
 */
export function registryBaseUrl(registry: string, plainHttpHosts: ReadonlySet<string> = new Set(), httpsHosts: ReadonlySet<string> = new Set()): string {
  const plain = !httpsHosts.has(registry) && (isInsecureRegistry(registry) || plainHttpHosts.has(registry));
  return `${plain ? 'http' : 'https'}://${registry}`;
}

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

export function isValidTag(value: string): boolean {
  return tagPattern.test(value);
}

export function validateRepository(repository: string, field = 'repository'): string {
  if (repository.length > 255 || !repository.split('/').every((part) => repositoryComponent.test(part))) {
    throw new UsageError(`${field}: ${quote(repository)} is not a valid repository name`);
  }
  return repository;
}

export function parseReference(text: string, field = 'image'): ImageReference {
  if (text.length === 0 || text.length > 512 || /[\s\u0000-\u001f\u007f]/.test(text)) {
    throw new UsageError(`${field}: ${quote(text)} is not an image reference`);
  }
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new UsageError(`${field}: ${quote(digest)} in ${quote(text)} is not a sha256 digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw new UsageError(`${field}: ${quote(tag)} in ${quote(text)} is not a valid tag`);
  }
  let registry = 'docker.io';
  const firstSlash = rest.indexOf('/');
  if (firstSlash > 0) {
    const first = rest.slice(0, firstSlash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      registry = first;
      rest = rest.slice(firstSlash + 1);
    }
  }
  if (!hostPattern.test(registry)) throw new UsageError(`${field}: ${quote(registry)} in ${quote(text)} is not a registry host`);
  registry = normalizeRegistry(registry);
  if (registry === dockerHubHost && !rest.includes('/')) rest = `library/${rest}`;
  validateRepository(rest, field);
  return { registry, repository: rest, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** `--registry URL` names a host that replaces every configured repository's own. */
export function parseRegistryOverride(url: string): { registry: string; plainHttp: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url.includes('://') ? url : `http://${url}`);
  } catch {
    throw new UsageError(`--registry: ${quoteUrl(url)} is not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || parsed.pathname.replace(/\/$/, '') !== '' || parsed.username) {
    throw new UsageError(`--registry: ${quoteUrl(url)} must be http(s)://host[:port] with no path or credentials`);
  }
  return { registry: normalizeRegistry(parsed.host), plainHttp: parsed.protocol === 'http:' };
}

export function formatReference(ref: ImageReference): string {
  const host = ref.registry === dockerHubHost ? 'docker.io' : ref.registry;
  return `${host}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
