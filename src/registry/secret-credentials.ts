/**
 * Registry credentials from a Taskcluster secret, as scriptworker-scripts' production
 * pipeline reads them (taskcluster/docker/skopeo/push_image.sh: the secret's field
 * `dockercfg`, a docker `config.json` with `auths` entries holding `auth`, base64 of
 * user:password, or `identitytoken`). The secret is read once, on the first registry that
 * asks for credentials, and used like a docker configuration; helpers (`credHelpers`,
 * `credsStore`) cannot run from a secret and are refused. Every problem is one error naming
 * the secret and the field, never a value.
 */
import { UsageError, quote } from '../errors.js';
import { credentialFromAuths, type Credential, type CredentialSource } from './credentials.js';

/** The field of the secret that holds the docker configuration. */
export const dockercfgField = 'dockercfg';

type Auths = Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;

/** Check the secret's `dockercfg` (an object, or JSON text of one) and return its `auths`. */
export function parseSecretDockercfg(secret: Record<string, unknown>, secretName: string): Auths {
  const where = `Taskcluster secret ${quote(secretName)}: field ${dockercfgField}`;
  let value = secret[dockercfgField];
  if (value === undefined) throw new UsageError(`${where}: missing; the secret must hold a docker config.json (with "auths") in ${quote(dockercfgField)}`);
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw new UsageError(`${where}: is text but not JSON`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${where}: must be a docker config.json object`);
  const config = value as { auths?: unknown; credHelpers?: unknown; credsStore?: unknown };
  if (config.credHelpers !== undefined || config.credsStore !== undefined) throw new UsageError(`${where}: credHelpers and credsStore cannot be used from a secret; give auths`);
  if (config.auths === null || typeof config.auths !== 'object' || Array.isArray(config.auths)) throw new UsageError(`${where}: has no "auths" object`);
  for (const [host, entry] of Object.entries(config.auths as Record<string, unknown>)) {
    const at = `${where}: auths[${quote(host)}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new UsageError(`${at}: must be an object`);
    const e = entry as Record<string, unknown>;
    for (const key of ['auth', 'username', 'password', 'identitytoken']) {
      if (e[key] !== undefined && typeof e[key] !== 'string') throw new UsageError(`${at}.${key}: must be a string`);
    }
    if (typeof e.auth === 'string') {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(e.auth) || !Buffer.from(e.auth, 'base64').toString('utf8').includes(':')) throw new UsageError(`${at}.auth: is not base64 of user:password`);
    } else if (typeof e.identitytoken !== 'string' && !(typeof e.username === 'string' && typeof e.password === 'string')) {
      throw new UsageError(`${at}: has neither auth, identitytoken nor username and password`);
    }
  }
  return config.auths as Auths;
}

/**
 * A credential source reading the secret (through `load`) on first use. A registry the
 * secret has no entry for falls through to `otherwise` (anonymous by default).
 */
export function secretCredentials(secretName: string, load: () => Promise<Record<string, unknown>>, otherwise?: CredentialSource): CredentialSource {
  let auths: Promise<Auths> | undefined;
  return async (registry: string): Promise<Credential | undefined> => {
    auths ??= load().then((secret) => parseSecretDockercfg(secret, secretName));
    const found = credentialFromAuths(await auths, registry, `Taskcluster secret ${quote(secretName)}: field ${dockercfgField}`);
    return found ?? (otherwise ? otherwise(registry) : undefined);
  };
}
