/**
 * What every reading command shares: the configuration, one registry client, the registry
 * override, one clock, and one tag source per repository (production and dev archive tags
 * usually live in the same repository, listed once).
 */
import { expandPattern, requireEnvironment, requireScript, type Config, type EnvironmentConfig } from '../config/load.js';
import type { CommitsBetween } from '../github/commits.js';
import type { DeployBranchCheck } from '../github/deploy-branch.js';
import type { RegistryClient } from '../registry/client.js';
import { defaultHubApi } from '../registry/hub.js';
import { isDockerHub, normalizeRegistry, validateRepository, type ImageReference } from '../registry/reference.js';
import { TagSource } from './source.js';

export interface Runtime {
  config: Config;
  client: RegistryClient;
  /** `--registry`: replaces the host of every configured repository. */
  registryOverride?: string;
  /** `--hub-api`: Docker Hub API base; by default used for Hub repositories only. */
  hubApi?: string;
  pageSize?: number;
  nowMs: number;
  /**
   * Compare the environment's deploy branch of the script with the target revision (plan's
   * "rollbacks that stay put"); absent: plan does not check (no GitHub configured, --no-branch-check).
   */
  checkDeployBranch?: (env: string, script: string, targetRevision: string | null) => Promise<DeployBranchCheck>;
  /** The commits from current's revision to the target's (GitHub's compare); absent: not listed. */
  listCommits?: (from: string | null, to: string | null) => Promise<CommitsBetween>;
}

export interface EnvironmentView {
  script: string;
  env: string;
  settings: EnvironmentConfig;
  repo: Pick<ImageReference, 'registry' | 'repository'>;
  source: TagSource;
}

const sources = new WeakMap<Runtime, Map<string, TagSource>>();

export function openEnvironment(runtime: Runtime, scriptName: string | undefined, envName: string | undefined, envField = '--env'): EnvironmentView {
  const script = requireScript(runtime.config, scriptName);
  const [env, settings] = requireEnvironment(runtime.config, envName, envField);
  const repository = validateRepository(expandPattern(settings.source.repository, script), `environments.${env}.source.repository`);
  const registry = runtime.registryOverride ?? normalizeRegistry(settings.source.registry);
  const repo = { registry, repository };
  let perRuntime = sources.get(runtime);
  if (!perRuntime) sources.set(runtime, (perRuntime = new Map()));
  const key = `${registry}/${repository}`;
  let source = perRuntime.get(key);
  if (!source) {
    const hubApi = runtime.hubApi ?? (isDockerHub(registry) ? defaultHubApi : undefined);
    source = new TagSource(runtime.client, repo, { ...(runtime.pageSize !== undefined && { pageSize: runtime.pageSize }), ...(hubApi !== undefined && { hubApi }) });
    perRuntime.set(key, source);
  }
  return { script, env, settings, repo, source };
}

