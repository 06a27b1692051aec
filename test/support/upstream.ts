// The real code of the systems tc-promote plugs into: ../shared/upstream beside the reference
// folder (see its README): taskgraph and its Python dependencies, fxci-config's generators.
// Never run in place: copies, in a cache folder (the compiled msgspec core) or a temp folder.
//
//   const pythonPath = await taskgraphPythonPath();   // PYTHONPATH holding taskgraph & co.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedReferenceDir } from './reference.js';

function locate(): string {
  const given = process.env.TC_PROMOTE_UPSTREAM;
  const dir = given ? path.resolve(given) : path.resolve(sharedReferenceDir, '../upstream');
  if (!existsSync(path.join(dir, 'python', 'taskgraph'))) throw new Error(`the shared upstream folder (taskgraph, fxci-config's generators) is not at ${dir}; set TC_PROMOTE_UPSTREAM to it`);
  return dir;
}

export const upstreamDir = locate();
export const upstreamPath = (...parts: string[]): string => path.join(upstreamDir, ...parts);

/**
 * Debian's Python (/usr/bin/python3, where python3-yaml and the others install), not whatever
 * python3 comes first on PATH (a pyenv shim lacks Debian's modules).
 */
export const python3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const python3Config = existsSync('/usr/bin/python3-config') ? '/usr/bin/python3-config' : 'python3-config';

/** Debian's Python modules taskgraph and ciadmin import (scripts/test.sh installs them). */
const debianModules = ['yaml', 'voluptuous', 'requests', 'appdirs', 'attr'];

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * A copy of ../shared/upstream/python with msgspec's C core compiled, and of fxci-config's
 * ciadmin package (once: the folder is cached under ~/.cache/tc-promote, keyed by the sources
 * and the Python it was built for): the PYTHONPATH for taskgraph and ciadmin.
 */
export function taskgraphPythonPath(): string {
  const source = upstreamPath('python');
  const ciadmin = upstreamPath('fxci-config', 'src', 'ciadmin');
  const missing = debianModules.filter((m) => {
    try {
      execFileSync(python3, ['-c', `import ${m}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`python3 lacks ${missing.join(', ')}: run scripts/test.sh, which installs python3-${missing.join(', python3-')}`);
  const suffix = execFileSync(python3Config, ['--extension-suffix'], { encoding: 'utf8' }).trim();
  const includes = execFileSync(python3Config, ['--includes'], { encoding: 'utf8' }).trim().split(/\s+/);
  const hash = createHash('sha256').update('layout 2').update(suffix).update(includes.join(' '));
  for (const f of filesOf(source)) hash.update(path.relative(source, f)).update(readFileSync(f));
  for (const f of filesOf(ciadmin)) hash.update(path.relative(ciadmin, f)).update(readFileSync(f));
  const key = hash.digest('hex').slice(0, 16);
  const cacheBase = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tc-promote');
  const target = path.join(cacheBase, `taskgraph-python-${key}`);
  if (existsSync(path.join(target, '.complete'))) return target;
  mkdirSync(cacheBase, { recursive: true });
  const building = `${target}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  cpSync(source, building, { recursive: true });
  cpSync(ciadmin, path.join(building, 'ciadmin'), { recursive: true });
  execFileSync('chmod', ['-R', 'u+w', building]);
  const msgspec = path.join(building, 'msgspec');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', ...includes, path.join(msgspec, '_core.c'), '-lm', '-o', path.join(msgspec, `_core${suffix}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(path.join(msgspec, '_version.py'), '__version__ = "0.19.0"\n');
  // The distribution metadata pip would write: taskgraph reads its own version from it.
  const distInfo = path.join(building, 'taskcluster_taskgraph-24.2.0.dist-info');
  mkdirSync(distInfo);
  writeFileSync(path.join(distInfo, 'METADATA'), 'Metadata-Version: 2.1\nName: taskcluster-taskgraph\nVersion: 24.2.0\n');
  writeFileSync(path.join(building, '.complete'), key + '\n');
  try {
    renameSync(building, target);
  } catch (error) {
    // Another worker built it meanwhile: theirs is the same.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(path.join(target, '.complete'))) throw error;
  }
  return target;
}

/** Whether a path exists and is a folder. */
export const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
