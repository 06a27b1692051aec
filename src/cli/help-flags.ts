/** The flags a command's help text defines: its option lines (`  --env E  …`, `  -n, --limit N  …`). */
export function flagsOf(help: string): string[] {
  const flags = new Set<string>();
  for (const match of help.matchAll(/^ {2,}(?:(-[a-zA-Z]), )?(--[a-z][a-z0-9-]*)/gm)) {
    if (match[1]) flags.add(match[1]);
    flags.add(match[2]!);
  }
  return [...flags];
}
