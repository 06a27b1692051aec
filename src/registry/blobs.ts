/**
 * Blob operations for copies: existence checks, cross-repository mounts, and streamed
 * copies between registries that never touch disk.
 */
import type { Readable } from 'node:stream';
import { RemoteError } from '../errors.js';
import { expectOk, followRedirect, pullScope, pushScope, type RegistryClient } from './client.js';
import type { Descriptor } from './manifest.js';
import { formatReference, type ImageReference } from './reference.js';

type Repo = Pick<ImageReference, 'registry' | 'repository'>;

export async function blobExists(client: RegistryClient, repo: Repo, digest: string): Promise<boolean> {
  const where = `${formatReference(repo)}@${digest}`;
  const response = await client.request({ method: 'HEAD', url: `${client.repositoryUrl(repo)}/blobs/${digest}`, scope: pullScope(repo), idempotent: true }, where);
  if (response.status === 404) return false;
  expectOk(response, `blob ${where}`);
  return true;
}

export type BlobTransfer = 'present' | 'mounted' | 'streamed';

/** Make `blob` exist in `dst`, cheapest way first: already there, mounted, or streamed. */
export async function transferBlob(client: RegistryClient, src: Repo, dst: Repo, blob: Descriptor): Promise<BlobTransfer> {
  if (await blobExists(client, dst, blob.digest)) return 'present';
  const where = `blob ${blob.digest} into ${formatReference(dst)}`;
  let uploadUrl: string | undefined;
  if (src.registry === dst.registry) {
    const mountUrl = `${client.repositoryUrl(dst)}/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(src.repository)}`;
    const response = await client.request({ method: 'POST', url: mountUrl, scope: `${pushScope(dst)} ${pullScope(src)}`, idempotent: true }, where);
    if (response.status === 201) return 'mounted';
    // 202: the registry refused to mount but opened an upload session; stream into it.
    if (response.status === 202 && response.headers.location) uploadUrl = new URL(response.headers.location, mountUrl).toString();
    else expectOk(response, where);
  }
  // Streams cannot be replayed by the transport's retry layer: retry the whole transfer here.
  for (let attempt = 1; ; attempt++) {
    try {
      await streamBlob(client, src, dst, blob, uploadUrl);
      return 'streamed';
    } catch (error) {
      uploadUrl = undefined;
      if (attempt >= 3 || !(error instanceof RemoteError) || /does not match|refus/.test(error.message)) throw error;
    }
  }
}

async function openBlob(client: RegistryClient, src: Repo, blob: Descriptor): Promise<Readable> {
  const where = `blob ${formatReference(src)}@${blob.digest}`;
  let url = `${client.repositoryUrl(src)}/blobs/${blob.digest}`;
  let response = await client.request({ method: 'GET', url, scope: pullScope(src), idempotent: true, stream: true }, where);
  // Registries (Docker Hub among them) redirect blob downloads to storage; follow without credentials.
  for (let hops = 0; response.status >= 300 && response.status < 400 && response.headers.location; hops++) {
    if (hops >= 5) throw new RemoteError(`${where}: too many redirects`);
    url = followRedirect(response.headers.location, url, where);
    response = await client.request({ method: 'GET', url, idempotent: true, stream: true }, where, { withoutAuth: true });
  }
  expectOk(response, where);
  if (!response.stream) throw new RemoteError(`${where}: no body`);
  return response.stream;
}

async function streamBlob(client: RegistryClient, src: Repo, dst: Repo, blob: Descriptor, session?: string): Promise<void> {
  const where = `blob ${blob.digest} into ${formatReference(dst)}`;
  let location = session;
  if (!location) {
    const start = `${client.repositoryUrl(dst)}/blobs/uploads/`;
    const opened = await client.request({ method: 'POST', url: start, scope: pushScope(dst), idempotent: true }, where);
    if (opened.status !== 202 || !opened.headers.location) {
      expectOk(opened, where);
      throw new RemoteError(`${where}: registry opened no upload session (HTTP ${opened.status})`);
    }
    location = new URL(opened.headers.location, start).toString();
  }
  const body = await openBlob(client, src, blob);
  const put = new URL(location);
  put.searchParams.set('digest', blob.digest);
  const response = await client.request(
    {
      method: 'PUT',
      url: put.toString(),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      body,
      scope: pushScope(dst),
      idempotent: false,
    },
    where,
  );
  if (response.status === 400) throw new RemoteError(`${where}: the registry refused the upload: the bytes do not match ${blob.digest}`);
  expectOk(response, where);
}
