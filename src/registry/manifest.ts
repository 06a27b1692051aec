/** Manifest media types, and the digest check every manifest passes before use. */
import { RemoteError } from '../errors.js';
import { sha256Hex } from '../util/sha256.js';


export const mediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const manifestAccept = Object.values(mediaTypes).join(', ');
export const indexMediaTypes: ReadonlySet<string> = new Set([mediaTypes.ociIndex, mediaTypes.dockerList]);
/** The distribution registry refuses manifests over 4 MiB; so do we. */
export const maxManifestBytes = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface Manifest {
  /** The digest of `bytes`, checked. */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  layers: Descriptor[];
  config?: Descriptor;
  /** Children of an index or manifest list. */
  manifests: Descriptor[];
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${sha256Hex(bytes)}`;
}

function isDescriptor(value: unknown): value is Descriptor {
  const v = value as Descriptor;
  return typeof v === 'object' && v !== null && typeof v.digest === 'string' && /^sha256:[a-f0-9]{64}$/.test(v.digest) && typeof v.size === 'number' && Number.isInteger(v.size) && v.size >= 0;
}

/**
 * Parse manifest bytes served for `where`. The bytes must hash to `expectedDigest` when one is
 * known (asked by digest, or sent in Docker-Content-Digest): a mismatch is never accepted.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string, expectedDigest?: string): Manifest {
  const digest = sha256Digest(bytes);
  if (expectedDigest && expectedDigest !== digest) {
    throw new RemoteError(`${where}: manifest bytes hash to ${digest}, not ${expectedDigest}; refusing a manifest that does not match its digest`);
  }
  let json: { mediaType?: unknown; schemaVersion?: unknown; layers?: unknown; manifests?: unknown; config?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RemoteError(`${where}: manifest is not valid JSON`);
  }
  if (json === null || typeof json !== 'object' || json.schemaVersion !== 2) {
    throw new RemoteError(`${where}: not a schema version 2 manifest`);
  }
  const mediaType = typeof json.mediaType === 'string' ? json.mediaType : (contentType?.split(';')[0]?.trim() ?? '');
  const known: readonly string[] = Object.values(mediaTypes);
  const resolved = known.includes(mediaType) ? mediaType : Array.isArray(json.manifests) ? mediaTypes.ociIndex : Array.isArray(json.layers) ? mediaTypes.ociManifest : '';
  if (!resolved) throw new RemoteError(`${where}: unsupported manifest media type ${JSON.stringify(mediaType)}`);
  const list = (value: unknown, field: string): Descriptor[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(isDescriptor)) throw new RemoteError(`${where}: manifest field ${field} is malformed`);
    return value;
  };
  const manifests = indexMediaTypes.has(resolved) ? list(json.manifests, 'manifests') : [];
  const layers = indexMediaTypes.has(resolved) ? [] : list(json.layers, 'layers');
  if (json.config !== undefined && !isDescriptor(json.config)) throw new RemoteError(`${where}: manifest field config is malformed`);
  return { digest, mediaType: resolved, bytes, layers, manifests, ...(json.config !== undefined && { config: json.config as Descriptor }) };
}
