/**
 * Which branches tc-promote may move: exactly the configured deploy branches (each
 * environment's `deployBranch` expanded for each configured script), never the default
 * branch nor an environment's shared branch. Decided from the configuration alone, before
 * any request.
 */
import { expandPattern, requireEnvironment, requireScript, type Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { validateBranchName } from './names.js';

export interface DeployBranch {
  branch: string;
  env: string;
  script: string;
}

/** Where backup refs live: a namespace of branch names no configuration can make a deploy branch. */
export const backupNamespace = 'tc-promote-backup';

/** Every branch the configuration allows a force-push to, keyed by branch name. */
export function allowedBranches(config: Config): Map<string, DeployBranch> {
  const forbidden = forbiddenBranches(config);
  const allowed = new Map<string, DeployBranch>();
  for (const [env, settings] of Object.entries(config.environments)) {
    for (const script of config.scripts) {
      const branch = expandPattern(settings.deployBranch, script);
      if (!forbidden.has(branch) && !branch.startsWith(`${backupNamespace}/`)) allowed.set(branch, { branch, env, script });
    }
  }
  return allowed;
}

/** The default branch and every shared branch, with the reason each is off limits. */
function forbiddenBranches(config: Config): Map<string, string> {
  const forbidden = new Map<string, string>();
  for (const [env, settings] of Object.entries(config.environments)) {
    forbidden.set(settings.sharedBranch, `is the shared deploy branch of environment ${quote(env)} (it deploys every script); only one script's deploy branch may be force-pushed`);
  }
  forbidden.set(config.github.defaultBranch, 'is the default branch; tc-promote never force-pushes it');
  return forbidden;
}

/**
 * Check a branch against the policy. Returns the environment and script it deploys;
 * anything else is a UsageError (exit 2) whose message says why.
 */
export function requireForcePushableBranch(config: Config, value: string | undefined, field = 'branch'): DeployBranch {
  const branch = validateBranchName(value, field);
  const allowed = allowedBranches(config).get(branch);
  if (allowed) return allowed;
  const reason = forbiddenBranches(config).get(branch);
  if (reason) throw new UsageError(`${field}: ${quote(branch)} ${reason}`);
  for (const [env, settings] of Object.entries(config.environments)) {
    const [before, after] = settings.deployBranch.split('{script}') as [string, string];
    if (branch.length > before.length + after.length && branch.startsWith(before) && branch.endsWith(after)) {
      const script = branch.slice(before.length, branch.length - after.length);
      throw new UsageError(
        `${field}: ${quote(branch)} has the form of environment ${quote(env)}'s deploy branch (${settings.deployBranch}) but ${quote(script)} is not a configured script; configured: ${config.scripts.join(', ')}`,
      );
    }
  }
  const patterns = Object.values(config.environments).map((e) => e.deployBranch);
  throw new UsageError(`${field}: ${quote(branch)} is not a deploy branch; tc-promote force-pushes only ${patterns.join(', ')} for a configured script`);
}

/** The deploy branch of one script in one environment (the fallback task's branch). */
export function deployBranchFor(config: Config, env: string, script: string): string {
  const [, settings] = requireEnvironment(config, env, 'env');
  const branch = expandPattern(settings.deployBranch, requireScript(config, script));
  return requireForcePushableBranch(config, branch, `environments.${env}.deployBranch`).branch;
}

/**
 * The backup ref kept before a branch moves, named like an archive tag:
 * `refs/heads/tc-promote-backup/<branch>/<YYYYMMDDHHMMSS>-<old head>`. Backups sort by time,
 * and a second backup of the same head in the same second is the same ref (reused).
 *
 * A branch rather than a tag: tags feed `git describe` and version tooling (setuptools-scm)
 * and release pages, a backup should not; a branch under its own namespace is listed and
 * deleted with ordinary branch commands, and no deploy-branch pattern or `.taskcluster.yml`
 * push filter (which builds only master, production, dev, production-<script>, dev-<script>)
 * matches it, so creating one builds and deploys nothing.
 */
export function backupRefFor(branch: string, oldHead: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/\.\d+Z$/, '').replace(/[-:T]/g, '');
  return `refs/heads/${backupNamespace}/${branch}/${stamp}-${oldHead}`;
}
