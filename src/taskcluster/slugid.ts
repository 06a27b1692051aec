/**
 * Task ids: "nice" slugids, as taskcluster-client's `slugid()` makes them (a v4 UUID with the
 * first bit cleared, so an id never starts with `-`, in URL-safe base64 without padding).
 * Made here with node:crypto so that rendering never loads the HTTP client.
 */
import { randomUUID } from 'node:crypto';

export const slugidPattern = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;

export function niceSlugid(): string {
  const bytes = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('base64url');
}

export function isSlugid(value: unknown): value is string {
  return typeof value === 'string' && slugidPattern.test(value);
}
