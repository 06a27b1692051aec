/**
 * A small streaming tar reader: finds one file by path in a layer and stops reading as soon as
 * it has it. Handles ustar prefixes, pax (`x`) and GNU long names (`L`); sizes are bounded.
 */
import type { Readable } from 'node:stream';

const block = 512;

function parseOctal(buf: Buffer): number {
  const text = buf.toString('ascii').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
}

function normalize(path: string): string {
  return path.replace(/^\.?\/+/, '').replace(/^\.\//, '');
}

export class TarFormatError extends Error {}

/** Read `stream` as a tar archive; return the content of `wanted` (no leading slash), or undefined. */
export async function findInTar(stream: Readable, wanted: string, maxFileBytes: number): Promise<Buffer | undefined> {
  const target = normalize(wanted);
  let buffer: Buffer = Buffer.alloc(0);
  let state: { kind: 'header' } | { kind: 'data'; remaining: number; padding: number; name: string; type: string; keep: boolean; chunks: Buffer[] } = { kind: 'header' };
  let longName: string | undefined;
  try {
    for await (const chunk of stream) {
      buffer = buffer.length ? Buffer.concat([buffer, chunk as Buffer]) : (chunk as Buffer);
      for (;;) {
        if (state.kind === 'header') {
          if (buffer.length < block) break;
          const header = buffer.subarray(0, block);
          buffer = buffer.subarray(block);
          if (header.every((b) => b === 0)) return undefined;
          const size = parseOctal(header.subarray(124, 136));
          const type = String.fromCharCode(header[156] || 48);
          const magic = header.subarray(257, 263).toString('ascii');
          let name = cString(header.subarray(0, 100));
          if (magic.startsWith('ustar')) {
            const prefix = cString(header.subarray(345, 500));
            if (prefix) name = `${prefix}/${name}`;
          }
          if (longName !== undefined) {
            name = longName;
            longName = undefined;
          }
          const isMeta = type === 'x' || type === 'L';
          const keep = isMeta || ((type === '0' || type === '\0') && normalize(name) === target);
          if (keep && size > (isMeta ? 1024 * 1024 : maxFileBytes)) throw new TarFormatError(`${name}: ${size} bytes is over the limit`);
          state = { kind: 'data', remaining: size, padding: (block - (size % block)) % block, name, type, keep, chunks: [] };
        }
        if (state.kind === 'data') {
          const take = Math.min(state.remaining, buffer.length);
          if (state.keep && take) state.chunks.push(buffer.subarray(0, take));
          buffer = buffer.subarray(take);
          state.remaining -= take;
          if (state.remaining > 0) break;
          // The wanted file is complete: return without waiting for padding, which some
          // writers (umoci 0.4) leave off the last entry of a layer.
          if (state.keep && state.type !== 'L' && state.type !== 'x') return Buffer.concat(state.chunks);
          if (buffer.length < state.padding) break;
          buffer = buffer.subarray(state.padding);
          const done = state;
          state = { kind: 'header' };
          if (!done.keep) continue;
          const content = Buffer.concat(done.chunks);
          if (done.type === 'L') longName = cString(content);
          else if (done.type === 'x') {
            const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString('utf8'));
            if (path) longName = path[1];
          } else return content;
        }
      }
    }
  } finally {
    stream.destroy();
  }
  return undefined;
}
