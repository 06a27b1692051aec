// The JavaScript SHA-256 against node:crypto: the FIPS 180-4 examples, every length around the
// padding boundaries, random inputs, and the size where node:crypto takes over.
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/util/sha256.js';

const native = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('sha256Hex', () => {
  it('gives the FIPS 180-4 example digests', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('equals node:crypto for every length from 0 to 300 bytes and for random inputs up to past the hand-over', () => {
    for (let n = 0; n <= 300; n++) {
      const data = randomBytes(n);
      expect(sha256Hex(data), `length ${n}`).toBe(native(data));
    }
    for (const n of [4095, 4096, 65_537, 256 * 1024, 256 * 1024 + 1, 1024 * 1024]) {
      const data = randomBytes(n);
      expect(sha256Hex(data), `length ${n}`).toBe(native(data));
    }
    expect(sha256Hex('é ✓ 🙂')).toBe(native(Buffer.from('é ✓ 🙂', 'utf8')));
  });
});
