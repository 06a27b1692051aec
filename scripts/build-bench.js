// Compile the benchmarks into .bench/ (npm run bench runs this after the build).
//
// bench/ and test/support/ import the tool's sources (../src/…, ../../src/…); tsc compiles
// those imports into .bench/src/, one folder deeper than src/ and without what the build
// writes beside dist/ (dist/config/default-config.json, dist/graph/templates.json,
// dist/cli/help.json, dist/validators/). Code there that finds the repository by its own
// place (../../package.json, ../../config/, ../../taskcluster/) found nothing: the copy and
// status benchmarks ended at once in "Cannot find module '../../package.json'". So the
// compiled copy of src/ is dropped and .bench/src is a link to dist/: the benchmarks run the
// built tool, the same files bin/tc-promote.js runs, and a module reached as
// .bench/src/x.js and as dist/x.js is one module (Node resolves the link).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}.bench`;
const link = `${out}/src`;
if (!existsSync(`${root}dist/cli/main.js`) || !existsSync(`${root}dist/cli/help.json`)) {
  console.error('build-bench: dist/ is not built; run npm run build first (npm run bench does)');
  process.exit(1);
}
// The link first, on its own: tsc must never write through it into dist/.
if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(link);
rmSync(out, { recursive: true, force: true });
const tsc = `${root}node_modules/typescript/bin/tsc`;
execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.bench.json`], { cwd: root, stdio: 'inherit' });
rmSync(link, { recursive: true, force: true });
symlinkSync('../dist', link, 'dir');
