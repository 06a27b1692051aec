/**
 * Strict checks of the branch names and revisions that reach GitHub. They run before any
 * request, and each message names the field and quotes the value (control characters escaped).
 */
import { UsageError, quote } from '../errors.js';

/** Longest branch name accepted; GitHub refuses refs much longer, and ours are short. */
const maxBranchLength = 200;

/**
 * A branch name as git's check-ref-format allows it, narrowed to the characters deploy
 * branches use: letters, digits, `.`, `_`, `-` and `/` between components.
 */
export function validateBranchName(value: string | undefined, field = 'branch'): string {
  if (value === undefined || value === '') throw new UsageError(`${field}: missing; give a branch name such as production-signingscript`);
  const refuse = (why: string): never => {
    throw new UsageError(`${field}: ${quote(value)} is not an acceptable branch name: ${why}`);
  };
  if (/[\u0000-\u001f\u007f]/.test(value)) refuse('it contains a control character');
  if (/\s/.test(value)) refuse('it contains white space');
  const odd = value.match(/[^A-Za-z0-9._/-]/);
  if (odd) refuse(`it contains ${quote(odd[0])}; only letters, digits, ".", "_", "-" and "/" are allowed`);
  if (value.length > maxBranchLength) refuse(`it is longer than ${maxBranchLength} characters`);
  if (value.includes('..')) refuse('it contains ".."');
  if (value.startsWith('-')) refuse('it starts with "-"');
  if (value.startsWith('refs/')) refuse('give the short branch name, without "refs/heads/"');
  for (const component of value.split('/')) {
    if (component === '') refuse('it has an empty path component ("//", or "/" at either end)');
    if (component.startsWith('.')) refuse('a path component starts with "."');
    if (component.endsWith('.lock')) refuse('a path component ends with ".lock"');
  }
  if (value.endsWith('.')) refuse('it ends with "."');
  if (value === 'HEAD') refuse('"HEAD" is not a branch');
  return value;
}

/** A full 40-hex commit id; returned in lowercase, as GitHub reports them. */
export function validateRevision(value: string | undefined, field = 'revision'): string {
  if (value === undefined || value === '') throw new UsageError(`${field}: missing; give a full 40-character commit id`);
  if (!/^[0-9a-fA-F]{40}$/.test(value)) {
    throw new UsageError(`${field}: ${quote(value)} is not a full commit id (40 hexadecimal characters)`);
  }
  return value.toLowerCase();
}
