// The pictures of docs/: every image a page shows exists, every file of docs/img is shown
// somewhere, and every screenshot of the Taskcluster UI (docs/img/ui-*.png) is one that
// scripts/ui-screenshots-to-docs.sh copies from the UI click-through's artifacts (so that the
// how-to's pictures are the test's, replaced together).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from './support/reference.js';

const docs = path.join(repositoryRoot, 'docs');
const pages = readdirSync(docs).filter((f) => f.endsWith('.md'));
const shown = pages.flatMap((page) =>
  [...readFileSync(path.join(docs, page), 'utf8').matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => ({ page, target: m[1]! })),
);

describe('the pictures of docs/', () => {
  it('every image a page shows exists', () => {
    const missing = shown.filter(({ target }) => !/^https?:/.test(target) && !existsSync(path.join(docs, target)));
    expect(missing).toEqual([]);
  });

  it('every file of docs/img is shown by a page', () => {
    const files = existsSync(path.join(docs, 'img')) ? readdirSync(path.join(docs, 'img')) : [];
    const used = new Set(shown.map(({ target }) => path.normalize(target)));
    expect(files.filter((f) => !used.has(path.join('img', f)))).toEqual([]);
  });

  it("every UI screenshot in docs/img is one the click-through takes (scripts/ui-screenshots-to-docs.sh)", () => {
    const script = readFileSync(path.join(repositoryRoot, 'scripts', 'ui-screenshots-to-docs.sh'), 'utf8');
    const copied = new Set([...script.matchAll(/^\s+"\S+\.png (ui-\S+\.png)"$/gm)].map((m) => m[1]));
    const files = readdirSync(path.join(docs, 'img')).filter((f) => f.startsWith('ui-'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !copied.has(f))).toEqual([]);
    expect([...copied].filter((f) => !files.includes(f!))).toEqual([]);
  });
});
