/** "Did you mean": the closest of the known names to a mistyped one, when one is close enough. */

/** Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known names a mistyped one most likely meant: a unique name it is a prefix of (3
 * characters at least), else those within an edit distance of 2 (1 for names of up to 4
 * characters), closest first. Empty when nothing is close: no guess is better than a wild one.
 */
export function suggest(typed: string, known: readonly string[]): string[] {
  const text = typed.toLowerCase();
  if (text.length >= 3) {
    const prefixed = known.filter((k) => k.startsWith(text));
    if (prefixed.length === 1) return prefixed;
  }
  const limit = text.length <= 4 ? 1 : 2;
  return known
    // Lengths further apart than the limit are further apart in edit distance too: a name as
    // long as an argument can be (128 KiB) is not compared cell by cell with every known one.
    .filter((k) => Math.abs(k.length - text.length) <= limit)
    .map((k) => ({ k, d: editDistance(text, k) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .slice(0, 3)
    .map(({ k }) => k);
}

/** `; did you mean X?` (or `X or Y?`), or '' when nothing is close. */
export function didYouMean(typed: string, known: readonly string[], prefix = ''): string {
  const close = suggest(typed, known);
  if (!close.length) return '';
  const names = close.map((c) => `${prefix}${c}`);
  return `; did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`}?`;
}
