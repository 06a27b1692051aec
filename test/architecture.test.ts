// The layers of docs/architecture.md, held: every import between files of src/ (static,
// `import type`, `export … from` and `import()`) runs down the layer list, never up and never sideways into a peer; no file
// imports src/cli/ but src/cli/ itself; and no circle of imports exists, inside a folder either.
// Imports are read by a small scanner (TypeScript 7, the project's compiler, has no JavaScript
// API): it skips comments, strings, template literals and regular expressions, and takes the
// string after `from`, after `import` and inside `import(`: static imports, `import type`,
// `export … from` and `import()` alike. The checker is run on small made-up trees first, so
// that it is known to fail on each of them.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcRoot = fileURLToPath(new URL('../src/', import.meta.url));

/**
 * The layers, lowest first: a module may import from a lower layer only (and its own folder).
 * The same list, drawn, is docs/architecture.md.
 */
export const layers: readonly (readonly string[])[] = [
  ['errors.ts', 'types'],
  ['util'],
  ['config', 'taskcluster-api'],
  ['registry'],
  ['github'],
  ['history', 'drill'],
  ['graph'],
  ['taskcluster'],
  ['operations'],
  // Presentation the commands share (text that fits the width, summaries): below the CLI only.
  ['present'],
  ['cli'],
];

/** A source file's module: its top folder under src/ (or the file itself at the top, errors.ts). */
function moduleOf(file: string): string {
  return file.split('/')[0]!;
}

function rankOf(module: string): number | undefined {
  const rank = layers.findIndex((layer) => layer.includes(module));
  return rank < 0 ? undefined : rank;
}

interface Token {
  kind: 'word' | 'string' | 'other';
  text: string;
}

/** The words, string literals and punctuation of a TypeScript file; comments, templates and regular expressions skipped. */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  // A '/' starts a regular expression unless it follows a value (a name, a number, ')' or ']').
  const regexAllowed = (): boolean => {
    const last = out.at(-1);
    if (!last) return true;
    if (last.kind === 'word') return /^(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(last.text);
    if (last.kind === 'string') return false;
    return !/^[)\]}]$/.test(last.text);
  };
  const skipString = (quote: string): string => {
    let value = '';
    i += 1;
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') i += 1;
      value += text[i];
      i += 1;
    }
    i += 1;
    return value;
  };
  const skipTemplate = (): void => {
    i += 1;
    while (i < text.length && text[i] !== '`') {
      if (text[i] === '\\') i += 2;
      else if (text[i] === '$' && text[i + 1] === '{') {
        i += 2;
        code('}');
      } else i += 1;
    }
    i += 1;
  };
  const code = (until?: string): void => {
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (until && c === '{') depth += 1;
      if (until && c === until) {
        if (depth === 0) {
          i += 1;
          return;
        }
        depth -= 1;
      }
      if (c === '/' && text[i + 1] === '/') i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
      else if (c === '/' && text[i + 1] === '*') i = text.indexOf('*/', i + 2) < 0 ? text.length : text.indexOf('*/', i + 2) + 2;
      else if (c === "'" || c === '"') out.push({ kind: 'string', text: skipString(c) });
      else if (c === '`') {
        skipTemplate();
        out.push({ kind: 'other', text: '`' });
      } else if (c === '/' && regexAllowed()) {
        // A regular expression: to its closing '/', past classes ([…]) and escapes.
        let inClass = false;
        i += 1;
        while (i < text.length && (inClass || text[i] !== '/') && text[i] !== '\n') {
          if (text[i] === '\\') i += 1;
          else if (text[i] === '[') inClass = true;
          else if (text[i] === ']') inClass = false;
          i += 1;
        }
        i += 1;
        out.push({ kind: 'other', text: '/re/' });
      } else if (/[A-Za-z_$]/.test(c)) {
        const word = /^[\w$]+/.exec(text.slice(i, i + 200))![0];
        out.push({ kind: 'word', text: word });
        i += word.length;
      } else if (/\s/.test(c)) i += 1;
      else {
        if (/[0-9]/.test(c)) {
          const number = /^[\w.]+/.exec(text.slice(i, i + 100))![0];
          out.push({ kind: 'word', text: number });
          i += number.length;
          continue;
        }
        out.push({ kind: 'other', text: c });
        i += 1;
      }
    }
  };
  code();
  return out;
}

/** Every module specifier a file names: `… from 'x'`, `import 'x'`, `import('x')`. */
export function specifiersOf(text: string): string[] {
  const list = tokens(text);
  const found: string[] = [];
  list.forEach((token, k) => {
    const next = list[k + 1];
    if (token.kind !== 'word' || !next) return;
    if ((token.text === 'from' || token.text === 'import') && next.kind === 'string') found.push(next.text);
    else if (token.text === 'import' && next.text === '(' && list[k + 2]?.kind === 'string') found.push(list[k + 2]!.text);
  });
  return found;
}

/** Relative imports of one file, resolved to files under src/ (`./x.js` is `x.ts`). */
function importsOf(file: string, text: string): string[] {
  return specifiersOf(text)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
}

export interface Violation {
  kind: 'unplaced' | 'upward' | 'sideways' | 'cli' | 'cycle' | 'missing';
  detail: string;
}

/** Every violation of the rules in a tree of files (path under src/ → text). */
export function checkArchitecture(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const from = moduleOf(file);
    const fromRank = rankOf(from);
    if (fromRank === undefined) violations.push({ kind: 'unplaced', detail: `${file}: src/${from} is in no layer of test/architecture.test.ts (and docs/architecture.md)` });
    const targets = importsOf(file, text);
    graph.set(file, targets);
    for (const target of targets) {
      if (target.startsWith('..')) continue; // outside src/ (package.json is read, not imported)
      if (!files.has(target)) {
        violations.push({ kind: 'missing', detail: `${file} imports ${target}, which is not a source file` });
        continue;
      }
      const to = moduleOf(target);
      if (to === from) continue;
      if (to === 'cli') violations.push({ kind: 'cli', detail: `${file} imports ${target}: only src/cli/ may import src/cli/` });
      const toRank = rankOf(to);
      if (fromRank === undefined || toRank === undefined) continue;
      if (toRank > fromRank) violations.push({ kind: 'upward', detail: `${file} imports ${target}: src/${to} is above src/${from}` });
      else if (toRank === fromRank) violations.push({ kind: 'sideways', detail: `${file} imports ${target}: src/${to} and src/${from} are peers in one layer` });
    }
  }
  for (const cycle of cyclesOf(graph)) violations.push({ kind: 'cycle', detail: cycle.join(' -> ') });
  return violations;
}

/** One circle per strongly connected component of more than one file (or a file importing itself). */
function cyclesOf(graph: ReadonlyMap<string, string[]>): string[][] {
  // Tarjan's algorithm, then a path round each component found.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return components.map((component) => {
    // Walk from the first member, staying inside the component, until a file repeats.
    const members = new Set(component);
    const start = component.sort()[0]!;
    const walk = [start];
    let at = start;
    for (;;) {
      at = (graph.get(at) ?? []).find((next) => members.has(next))!;
      const seen = walk.indexOf(at);
      if (seen >= 0) return [...walk.slice(seen), at];
      walk.push(at);
    }
  });
}

function sourceTree(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) files.set(path.relative(srcRoot, full).split(path.sep).join('/'), readFileSync(full, 'utf8'));
    }
  };
  walk(srcRoot);
  return files;
}

describe('the import scanner', () => {
  it('takes every kind of import and nothing in comments, strings, templates or regular expressions', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const f = () => import('./f.js');",
      "type G = typeof import('./g.js');",
      "// import { no } from './comment.js';",
      "/* import('./block.js') */",
      "const s = \"import { no } from './string.js'\";",
      "const t = `${x.map((y) => `import('./template.js')`)} from './t.js'`;",
      "const r = /'(from)' /.test(q) ? 1 : 2; const k = a / b / c;",
      "import { h } from './h.js';",
    ].join('\n');
    expect(specifiersOf(text)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', './g.js', './h.js']);
  });
});

describe('the checker fails where it should', () => {
  const tree = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));
  it('on a circle of imports, also through import() and inside one folder', () => {
    const found = checkArchitecture(
      tree({
        'cli/main.ts': "export const load = () => import('./rollback.js');",
        'cli/rollback.ts': "import { x } from './main.js';",
        'cli/commands.ts': "import type { Io } from './common.js';",
        'cli/common.ts': 'export type Io = {};',
      }),
    );
    expect(found).toEqual([{ kind: 'cycle', detail: 'cli/main.ts -> cli/rollback.ts -> cli/main.ts' }]);
  });
  it('on an import from a lower layer into a higher one, and between peers', () => {
    const found = checkArchitecture(
      tree({
        'registry/secret-credentials.ts': "const c = await import('../taskcluster/clients.js');",
        'taskcluster/clients.ts': "import type { X } from '../errors.js';",
        'errors.ts': '',
        'config/load.ts': "import { taskDefinitionSchema } from '../taskcluster-api/task-schema.js';",
        'taskcluster-api/task-schema.ts': '',
      }),
    );
    expect(found.map((v) => v.kind).sort()).toEqual(['sideways', 'upward']);
  });
  it('on an import of src/cli/ from anywhere else, and on a folder in no layer', () => {
    const found = checkArchitecture(tree({ 'operations/rollback.ts': "export { commands } from '../cli/commands.js';", 'cli/commands.ts': '', 'extra/x.ts': '' }));
    expect(found.map((v) => v.kind).sort()).toEqual(['cli', 'unplaced', 'upward']);
  });
  it('not on imports that run down the layers', () => {
    expect(checkArchitecture(tree({ 'cli/copy.ts': "import { copyImage } from '../operations/copy.js';", 'operations/copy.ts': "import type { CopyResult } from '../registry/copy.js';", 'registry/copy.ts': "import { x } from '../util/y.js';", 'util/y.ts': '' }))).toEqual([]);
  });
});

describe('src/', () => {
  const files = sourceTree();
  it('has every import running down the layers, none into src/cli/ from outside it, and no circle', () => {
    expect(files.size).toBeGreaterThan(100);
    expect(checkArchitecture(files).map((v) => `${v.kind}: ${v.detail}`)).toEqual([]);
  });
});
