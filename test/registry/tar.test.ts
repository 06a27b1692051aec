import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { findInTar } from '../../src/registry/tar.js';

function header(name: string, size: number, type = '0', prefix = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write(prefix, 345, 155, 'utf8');
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function entry(name: string, content: string, type = '0', prefix = ''): Buffer {
  const data = Buffer.from(content);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header(name, data.length, type, prefix), data, pad]);
}

/** Feed in small chunks, so headers and data straddle chunk boundaries. */
function chunked(buf: Buffer, size = 100): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

const end = Buffer.alloc(1024);
const version = '{"commit":"abc","source":"s","build":"b"}';

describe('findInTar', () => {
  it('finds a file after others, across chunk boundaries', async () => {
    const tar = Buffer.concat([entry('app/other.txt', 'x'.repeat(700)), entry('app/version.json', version), end]);
    expect((await findInTar(chunked(tar), 'app/version.json', 1024))?.toString()).toBe(version);
  });

  it('accepts ./-prefixed names and ustar prefixes', async () => {
    expect((await findInTar(chunked(Buffer.concat([entry('./app/version.json', version), end])), 'app/version.json', 1024))?.toString()).toBe(version);
    expect((await findInTar(chunked(Buffer.concat([entry('version.json', version, '0', 'app'), end])), 'app/version.json', 1024))?.toString()).toBe(version);
  });

  it('follows pax and GNU long names', async () => {
    const pax = '30 path=app/version.json\n';
    const paxRecord = `${String(pax.length).length + pax.length - 2 + 2} path=app/version.json\n`;
    void paxRecord;
    const tar = Buffer.concat([entry('PaxHeader', pax, 'x'), entry('ignored-short-name', version), end]);
    expect((await findInTar(chunked(tar), 'app/version.json', 1024))?.toString()).toBe(version);
    const gnu = Buffer.concat([entry('././@LongLink', 'app/version.json\0', 'L'), entry('short', version), end]);
    expect((await findInTar(chunked(gnu), 'app/version.json', 1024))?.toString()).toBe(version);
  });

  it('returns the last entry even without its padding or end blocks (umoci 0.4 layers)', async () => {
    const data = Buffer.from(version);
    const tar = Buffer.concat([header('app/version.json', data.length), data]);
    expect((await findInTar(chunked(tar), 'app/version.json', 1024))?.toString()).toBe(version);
  });

  it('returns undefined when the file is absent, and refuses an oversized one', async () => {
    expect(await findInTar(chunked(Buffer.concat([entry('app/x', 'y'), end])), 'app/version.json', 1024)).toBeUndefined();
    await expect(findInTar(chunked(Buffer.concat([entry('app/version.json', 'z'.repeat(2000)), end])), 'app/version.json', 1024)).rejects.toThrow(/over the limit/);
  });
});
