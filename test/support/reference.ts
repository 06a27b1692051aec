// Where the real artifacts are: ../shared/reference beside the repository (see its README).
// They are read in place, never copied into the project. Found, in order, from
// TC_PROMOTE_REFERENCE (a folder laid out like shared/reference), the folder beside this
// checkout, or the folder beside the checkout this one was cloned from (a clone made in a
// temporary folder for a CI rehearsal). No reference folder is an error, not a skipped test.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const repositoryRoot = ((): string => {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

function originCheckout(): string | undefined {
  try {
    const url = execFileSync('git', ['-C', repositoryRoot, 'remote', 'get-url', 'origin'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const local = url.startsWith('file://') ? url.slice('file://'.length) : url;
    return path.isAbsolute(local) && existsSync(local) ? local.replace(/\/\.git\/?$/, '') : undefined;
  } catch {
    return undefined;
  }
}

function locate(): string {
  const given = process.env.TC_PROMOTE_REFERENCE;
  const candidates = given !== undefined && given !== '' ? [path.resolve(given)] : [path.resolve(repositoryRoot, '../shared/reference')];
  if (given === undefined || given === '') {
    const origin = originCheckout();
    if (origin !== undefined) candidates.push(path.resolve(origin, '../shared/reference'));
  }
  const found = candidates.find((dir) => existsSync(path.join(dir, 'taskcluster/schemas')));
  if (found === undefined) {
    throw new Error(`the shared reference folder (Taskcluster schemas, fxci-config, the consumer's .taskcluster.yml) is not at ${candidates.join(' or ')}; set TC_PROMOTE_REFERENCE to it`);
  }
  return found;
}

/** The shared reference folder: taskcluster/, consumers/, fxci-config/, taskgraph/. */
export const sharedReferenceDir = locate();
/** Taskcluster's published schemas and API references. */
export const referenceDir = path.join(sharedReferenceDir, 'taskcluster');
export const referencePath = (...parts: string[]): string => path.join(sharedReferenceDir, ...parts);
