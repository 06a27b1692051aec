/** Plain-text tables for humans: columns padded to the widest cell, no colours. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function shortDigest(digest: string | undefined | null): string {
  return digest ? digest.slice(0, 19) : '-';
}

export function shortRevision(revision: string | null): string {
  return revision ? revision.slice(0, 12) : '-';
}
