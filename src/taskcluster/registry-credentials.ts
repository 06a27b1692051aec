/**
 * Registry credentials from a Taskcluster secret, as a credential source for the registry
 * client: the registry reads a secret's dockercfg (src/registry/secret-credentials.ts) through
 * a loader it is handed, and never imports Taskcluster; this module hands it one.
 */
import { UsageError } from '../errors.js';
import type { CredentialSource } from '../registry/credentials.js';
import { secretCredentials } from '../registry/secret-credentials.js';

/**
 * Where `copy` and the commands inside tasks get registry credentials: inside a task
 * (`TASKCLUSTER_PROXY_URL`), or when a secret is named (`--registry-secret`), the secret's
 * `dockercfg` first; the docker configuration (`DOCKER_CONFIG`, `~/.docker/config.json`)
 * for registries the secret does not name, and always outside a task.
 */
export function registryCredentialSource(options: { env: NodeJS.ProcessEnv; secretName: string | undefined; configSecret: string; rootUrl: string; flagRootUrl: string | undefined; dockerConfig: CredentialSource }): CredentialSource {
  const { env } = options;
  const inTask = env.TASKCLUSTER_PROXY_URL !== undefined && env.TASKCLUSTER_PROXY_URL !== '';
  const name = options.secretName ?? (inTask ? options.configSecret : undefined);
  if (name === undefined) return options.dockerConfig;
  if (name === '') throw new UsageError('--registry-secret: give the name of a Taskcluster secret');
  return secretCredentials(
    name,
    async () => {
      // Loaded only when a registry asks for credentials.
      const [{ resolveConnection }, { readTaskclusterSecret }] = await Promise.all([import('../taskcluster-api/clients.js'), import('./secrets.js')]);
      return readTaskclusterSecret(resolveConnection(env, options.flagRootUrl, options.rootUrl), name);
    },
    options.dockerConfig,
  );
}
