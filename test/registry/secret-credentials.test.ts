// Registry credentials from the Taskcluster secret's dockercfg, as scriptworker-scripts'
// push_image.sh reads it: a docker config.json; every problem names the secret and the field,
// never a value.
import { describe, expect, it } from 'vitest';
import { parseSecretDockercfg, secretCredentials } from '../../src/registry/secret-credentials.js';
import { registryCredentialSource } from '../../src/taskcluster/registry-credentials.js';

const name = 'project/releng/scriptworker-scripts/deploy';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const password = 'pw-Hq3xZ9vL2kP7';

describe('the secret’s dockercfg', () => {
  it('is used like a docker configuration: auth, identitytoken, Docker Hub’s keys', async () => {
    const source = secretCredentials(name, async () => ({
      dockercfg: { auths: { 'https://index.docker.io/v1/': { auth: b64(`mozillarelengservices:${password}`) }, '127.0.0.1:5000': { identitytoken: 'refresh-xyz' } } },
      github_token: 'ghp_x',
    }));
    expect(await source('registry-1.docker.io')).toEqual({ username: 'mozillarelengservices', password });
    expect(await source('127.0.0.1:5000')).toEqual({ identityToken: 'refresh-xyz' });
    expect(await source('ghcr.io')).toBeUndefined();
  });

  it('is read once, on the first registry that asks, and falls through to the docker configuration', async () => {
    let reads = 0;
    const source = secretCredentials(name, async () => (reads++, { dockercfg: JSON.stringify({ auths: { 'a.example': { auth: b64('u:p') } } }) }), async () => ({ username: 'from', password: 'docker-config' }));
    expect(reads).toBe(0);
    await source('a.example');
    await source('b.example');
    expect(reads).toBe(1);
    expect(await source('b.example')).toEqual({ username: 'from', password: 'docker-config' });
  });

  it.each([
    [{}, 'field dockercfg: missing'],
    [{ dockercfg: 'not json {' + password }, 'field dockercfg: is text but not JSON'],
    [{ dockercfg: [password] }, 'field dockercfg: must be a docker config.json object'],
    [{ dockercfg: { credsStore: 'desktop' } }, 'credHelpers and credsStore cannot be used from a secret'],
    [{ dockercfg: { auths: { 'r.example': { auth: `${password}!` } } } }, 'field dockercfg: auths["r.example"].auth: is not base64 of user:password'],
    [{ dockercfg: { auths: { 'r.example': { auth: b64(password) } } } }, 'auths["r.example"].auth: is not base64 of user:password'],
    [{ dockercfg: { auths: { 'r.example': { password } } } }, 'auths["r.example"]: has neither auth, identitytoken nor username and password'],
    [{ dockercfg: { auths: { 'r.example': { auth: 7 } } } }, 'auths["r.example"].auth: must be a string'],
  ])('refuses %j, naming the secret and the field and never the value', (secret, message) => {
    let error: Error | undefined;
    try {
      parseSecretDockercfg(secret as Record<string, unknown>, name);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toContain(`Taskcluster secret "${name}"`);
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain(password);
    expect(error?.message).not.toContain(b64(password));
    expect((error as { exitCode?: number }).exitCode).toBe(2);
  });

  it('is where credentials come from inside a task (TASKCLUSTER_PROXY_URL) or when a secret is named, and only then', async () => {
    const docker = async () => ({ username: 'docker', password: 'config' });
    const options = { configSecret: name, rootUrl: 'https://tc.example', flagRootUrl: undefined, dockerConfig: docker };
    expect(registryCredentialSource({ ...options, env: {}, secretName: undefined })).toBe(docker);
    expect(registryCredentialSource({ ...options, env: { TASKCLUSTER_PROXY_URL: 'http://127.0.0.1:1' }, secretName: undefined })).not.toBe(docker);
    expect(registryCredentialSource({ ...options, env: {}, secretName: 'project/other' })).not.toBe(docker);
    expect(() => registryCredentialSource({ ...options, env: {}, secretName: '' })).toThrow('--registry-secret');
    // A proxy that answers 404: one error naming the secret.
    const missing = registryCredentialSource({ ...options, env: { TASKCLUSTER_PROXY_URL: 'http://127.0.0.1:9' }, secretName: undefined });
    await expect(missing('r.example')).rejects.toThrow(`Taskcluster secret "${name}" through TASKCLUSTER_PROXY_URL`);
  });
});
