import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import { validateBranchName, validateRevision } from '../../src/github/names.js';
import { allowedBranches, backupRefFor, deployBranchFor, requireForcePushableBranch } from '../../src/github/policy.js';

const config = loadConfig();

function refusal(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.usage);
    return error as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('branch policy', () => {
  it('allows exactly each environment deploy branch for each configured script', () => {
    const allowed = allowedBranches(config);
    expect(allowed.size).toBe(config.scripts.length * 2);
    expect(allowed.get('production-signingscript')).toEqual({ branch: 'production-signingscript', env: 'production', script: 'signingscript' });
    expect(allowed.get('dev-treescript')).toEqual({ branch: 'dev-treescript', env: 'dev', script: 'treescript' });
    expect(allowed.has('master')).toBe(false);
    expect(allowed.has('production')).toBe(false);
  });

  it.each([
    ['master', /is the default branch/],
    ['production', /shared deploy branch of environment "production"/],
    ['dev', /shared deploy branch of environment "dev"/],
    ['production-unknownscript', /"unknownscript" is not a configured script/],
    ['dev-', /is not a deploy branch/],
    ['feature/x', /is not a deploy branch/],
    ['tc-promote-backup/production-signingscript/20240101000000-aaaa', /is not a deploy branch/],
  ])('refuses %s', (branch, why) => {
    const error = refusal(() => requireForcePushableBranch(config, branch, '--branch'));
    expect(error.message).toMatch(/^--branch: /);
    expect(error.message).toContain(JSON.stringify(branch));
    expect(error.message).toMatch(why);
  });

  it.each([
    ['production-signingscript;rm -rf /', /contains white space|contains ";"/],
    ['production-signingscript;id', /contains ";"/],
    ['../x', /contains "\.\."|starts with "\."/],
    ['production-signingscript\nmaster', /control character/],
    ['production signingscript', /white space/],
    ['-production-signingscript', /starts with "-"/],
    ['refs/heads/production-signingscript', /without "refs\/heads\/"/],
    ['production-signingscript.lock', /\.lock/],
    ['production-$(id)', /contains "\$"/],
    ['', /missing/],
  ])('refuses the malformed name %j with the field and the quoted value', (branch, why) => {
    const error = refusal(() => requireForcePushableBranch(config, branch, '--branch'));
    expect(error.message).toMatch(/^--branch: /);
    expect(error.message).toMatch(why);
    if (branch.includes('\n')) expect(error.message).toContain('\\n');
    expect(error.message).not.toContain('\n');
  });

  it('expands the deploy branch of a script and environment', () => {
    expect(deployBranchFor(config, 'production', 'signingscript')).toBe('production-signingscript');
    expect(deployBranchFor(config, 'dev', 'beetmoverscript')).toBe('dev-beetmoverscript');
    refusal(() => deployBranchFor(config, 'staging', 'signingscript'));
    refusal(() => deployBranchFor(config, 'production', 'nosuchscript'));
  });

  it('names backup refs by time and old head', () => {
    const head = 'a'.repeat(40);
    expect(backupRefFor('production-signingscript', head, Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe(`refs/heads/tc-promote-backup/production-signingscript/20240102030405-${head}`);
    expect(validateBranchName(backupRefFor('production-signingscript', head, 0).slice('refs/heads/'.length))).toBeTruthy();
  });
});

describe('revisions', () => {
  it('accepts 40 hex characters, in lowercase', () => {
    expect(validateRevision('7995C5BB123BBFC25E3D7F81C46F3D7BA49CBE89')).toBe('7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89');
  });
  it.each(['7995c5b', 'master', `${'a'.repeat(40)}\n`, `${'a'.repeat(39)}g`, `${'a'.repeat(40)};ls`, ' ' + 'a'.repeat(40)])('refuses %j', (value) => {
    const error = refusal(() => validateRevision(value, '--revision'));
    expect(error.message).toMatch(/^--revision: ".*" is not a full commit id/);
  });
});
