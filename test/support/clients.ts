// Scopes for the emulator's clients in tests: a release engineer who runs `tc-promote submit`
// holds exactly what `tc-promote grants` lists for the configuration (so every submit test
// also proves that list is enough), the UI user who triggers the promotion hook, and so on.
import { loadConfig, type Config } from '../../src/config/load.js';
import { requiredGrants } from '../../src/taskcluster/grants.js';

export function submitterScopes(config: Config = loadConfig()): string[] {
  const grants = requiredGrants(config);
  // The graph's, the in-flight entry's and cancel's exactly as `grants` lists them (the person's section).
  return [...grants.scopes.map((entry) => entry.scope), holdScope(config), ...grants.inFlight.map((entry) => entry.scope), ...grants.cancel.map((entry) => entry.scope)];
}

/** What rollback's hold (and hold, release) writes: the index entries of holds. */
export function holdScope(config: Config = loadConfig()): string {
  return `index:insert-task:${config.taskcluster.trustDomain}.v2.${config.taskcluster.project}.hold.*`;
}

export const projectRepository = 'github.com/mozilla-releng/tc-promote';

/**
 * Firefox-CI's roles as they would be for tc-promote's own repository (it is not in the
 * reference fxci-config): its default branch's decision tasks hold the in-tree hook scope of
 * level 3, and its promotion action role holds what `tc-promote grants` lists.
 */
export function grantProjectAction(tc: { defineRole(roleId: string, scopes: string[]): void }, config: Config = loadConfig()): void {
  const level = config.taskcluster.level;
  const domain = config.taskcluster.trustDomain;
  tc.defineRole(`repo:${projectRepository}:branch:main`, [`in-tree:hook-action:project-${domain}/in-tree-action-${level}-*`, `queue:scheduler-id:${domain}-level-${level}`]);
  tc.defineRole(`hook-id:project-${domain}/in-tree-action-${level}-release-promotion/*`, [`assume:repo:${projectRepository}:action:release-promotion`, 'assume:repo:github.com/mozilla-releng/scriptworker-scripts:action:release-promotion']);
  tc.defineRole(`repo:${projectRepository}:action:release-promotion`, [`queue:create-task:highest:${domain}-${level}/*`, ...submitterScopes(config)]);
}

/** A person who may fire the promotion hooks (what hooks:trigger-hook grants). */
export function triggerScopes(config: Config = loadConfig()): string[] {
  return [`hooks:trigger-hook:project-${config.taskcluster.trustDomain}/in-tree-action-${config.taskcluster.level}-release-promotion/*`];
}
