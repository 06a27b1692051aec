/** Plain-text tables for humans: columns padded to the widest cell, no colours. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...rows): a history of 200,000 rows is more arguments than a call takes.
  const widths = headers.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** Column widths for rows given one at a time (a history of 200,000 rows is not held twice). */
export function columnWidths(headers: readonly string[], rows: Iterable<readonly string[]>): number[] {
  const widths = headers.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, (r[i] ?? '').length);
  return widths;
}

/** One table line, as table() prints it. */
export function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
}

export function shortDigest(digest: string | undefined | null): string {
  return digest ? digest.slice(0, 19) : '-';
}

export function shortRevision(revision: string | null): string {
  return revision ? revision.slice(0, 12) : '-';
}
