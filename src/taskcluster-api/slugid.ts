/**
 * Task ids: "nice" slugids, as taskcluster-client's `slugid()` makes them (a v4 UUID with the
 * first bit cleared, so an id never starts with `-`, in URL-safe base64 without padding).
 * Made here with node:crypto so that rendering never loads the HTTP client.
 */
import { loadCrypto } from '../util/builtins.js';
import { sha256Hex } from '../util/sha256.js';

export const slugidPattern = /^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/;

export function niceSlugid(): string {
  const bytes = Buffer.from(loadCrypto().randomUUID().replaceAll('-', ''), 'hex');
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('base64url');
}

export function isSlugid(value: unknown): value is string {
  return typeof value === 'string' && slugidPattern.test(value);
}

/**
 * A slugid derived from a key (a name-based UUID, version 4 bits set so that the Queue's
 * pattern accepts it): the same key always gives the same task id. Promotions use it to make
 * the Queue serialise them: createTask is atomic, so of two graphs that would move the same tag
 * from the same digest, only the first creates its promote task; the other gets 409.
 */
export function keyedSlugid(key: string): string {
  const bytes = Buffer.from(sha256Hex(`tc-promote:${key}`), 'hex').subarray(0, 16);
  bytes[0] = bytes[0]! & 0x7f;
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return Buffer.from(bytes).toString('base64url');
}
