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

/** Default width of a table: 120 columns (`--wide` lifts it and shows whole values). */
export const tableWidth = 120;

export interface FitOptions {
  /** Show whole values, whatever the width. */
  wide?: boolean;
  /** Total width (default 120). */
  width?: number;
  /** Most characters of each column (undefined: no cap); longer cells end in `…`. */
  maxWidths?: readonly (number | undefined)[];
  /**
   * Columns that give up room (cut with `…`, down to their header's width) before the last
   * column is cut: the last column's widest cell fits when these can make room for it.
   */
  shrink?: readonly number[];
  /** Colour a cell after it was padded (marks are invisible: they must not count in widths). */
  paint?: (column: number, cell: string, row: readonly string[]) => string;
}

/** Cut a cell to `width` characters, ending in `…`. */
export function cut(text: string, width: number): string {
  return text.length <= width ? text : width <= 1 ? '…'.slice(0, width) : `${text.slice(0, width - 1)}…`;
}

/**
 * A table that fits: every column capped at its maximum, then the last column cut so that no
 * line is longer than the width. With `wide`, whole values.
 */
export function fitTable(headers: readonly string[], rows: readonly (readonly string[])[], options: FitOptions = {}): string {
  const width = options.width ?? tableWidth;
  let capped = options.wide ? rows : rows.map((r) => r.map((c, i) => (options.maxWidths?.[i] !== undefined ? cut(c, Math.max(options.maxWidths[i]!, headers[i]!.length)) : c)));
  let widths = columnWidths(headers, capped);
  const last = headers.length - 1;
  if (!options.wide && options.shrink?.length) {
    let over = widths.reduce((sum, w) => sum + w + 2, -2) - width;
    const limits = new Map<number, number>();
    for (const i of options.shrink) {
      if (over <= 0) break;
      const give = Math.min(over, widths[i]! - headers[i]!.length);
      if (give <= 0) continue;
      limits.set(i, widths[i]! - give);
      over -= give;
    }
    if (limits.size) {
      capped = capped.map((r) => r.map((c, i) => (limits.has(i) ? cut(c, limits.get(i)!) : c)));
      widths = columnWidths(headers, capped);
    }
  }
  const before = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
  const room = Math.max(8, width - before);
  const line = (cells: readonly string[], isHeader: boolean): string =>
    cells
      .map((c, i) => {
        const text = i === last ? (options.wide ? c : cut(c, room)) : c.padEnd(widths[i]!);
        return isHeader || !options.paint ? text : options.paint(i, text, cells);
      })
      .join('  ')
      .trimEnd();
  return [line(headers, true), ...capped.map((r) => line(r, false))].join('\n');
}
