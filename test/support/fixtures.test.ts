import { execFile } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  archiveTag,
  buildImage,
  buildIndex,
  getManifest,
  headManifest,
  listTags,
  MEDIA_TYPES,
  pushRawManifest,
  randomCommit,
  sha256Digest,
  tagExisting,
  writeTagsDirectly,
} from './fixtures.js';
import { startRegistry, type AuthMode, type RunningRegistry } from './registry.js';

const run = promisify(execFile);

/** First file of a (gzipped) layer tar. Tolerates umoci 0.4.7's missing tar padding/trailer. */
function firstTarEntry(gz: Buffer): { name: string; data: Buffer } {
  const tar = gunzipSync(gz);
  const name = tar.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
  const size = parseInt(tar.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
  return { name, data: tar.subarray(512, 512 + size) };
}

async function blob(reg: RunningRegistry, repository: string, digest: string): Promise<Buffer> {
  const res = await reg.fetch(`/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(sha256Digest(bytes)).toBe(digest);
  return bytes;
}

async function skopeoRawDigest(reg: RunningRegistry, ref: string): Promise<string> {
  const args = ['inspect', '--raw', '--tls-verify=false', ...(reg.skopeoCreds ? ['--creds', reg.skopeoCreds] : []), `docker://${reg.host}/${ref}`];
  const { stdout } = await run('skopeo', args, { encoding: 'buffer' });
  return sha256Digest(stdout);
}

describe('buildImage (anonymous registry)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'anonymous' });
  }, 20_000);
  afterAll(() => reg?.stop());

  test('pushes the moving tag then the archive tag; digest matches what the registry serves', async () => {
    const repository = 'mozilla/releng-beetmoverscript';
    const commit = randomCommit();
    const archive = archiveTag('production', new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), commit);
    expect(archive).toBe(`production-20250102030405-${commit}`);
    await reg.accessLog();
    reg.clearAccessLog();
    const img = await buildImage(reg, { repository, commit, tags: ['production', archive], source: 'https://example.test/src', build: 'b-1' });
    expect(img.mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(img.digest).toBe(sha256Digest(img.manifest));
    expect(await skopeoRawDigest(reg, `${repository}:production`)).toBe(img.digest);
    expect(await skopeoRawDigest(reg, `${repository}:${archive}`)).toBe(img.digest);
    expect((await headManifest(reg, repository, archive))?.digest).toBe(img.digest);

    // the moving tag was written first, then the archive tag
    const puts = (await reg.accessLog()).filter((e) => e.method === 'PUT' && e.path.includes('/manifests/'));
    expect(puts.map((e) => e.path)).toEqual([`/v2/${repository}/manifests/production`, `/v2/${repository}/manifests/${archive}`]);

    // /app/version.json is in the last layer
    expect(img.layerDigests).toHaveLength(1);
    const entry = firstTarEntry(await blob(reg, repository, img.layerDigests.at(-1)!));
    expect(entry.name).toBe('app/version.json');
    expect(JSON.parse(entry.data.toString('utf8'))).toEqual({ commit, source: 'https://example.test/src', build: 'b-1' });
    expect(entry.data.equals(img.versionJson)).toBe(true);

    const config = JSON.parse((await blob(reg, repository, img.configDigest)).toString('utf8')) as { architecture: string; os: string };
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux' });
  }, 20_000);

  test('distinct per call; extra layers are shared between builds; version.json stays last', async () => {
    const repository = 'mozilla/releng-treescript';
    const c1 = randomCommit();
    const c2 = randomCommit();
    const a = await buildImage(reg, { repository, commit: c1, tags: ['dev'], layers: 3 });
    const b = await buildImage(reg, { repository, commit: c2, tags: ['dev'], layers: 3 });
    const again = await buildImage(reg, { repository, commit: c1, tags: ['dev-again'], layers: 3 });
    expect(new Set([a.digest, b.digest, again.digest]).size).toBe(3);
    expect(a.layerDigests).toHaveLength(3);
    expect(a.layerDigests.slice(0, 2)).toEqual(b.layerDigests.slice(0, 2));
    expect(a.layerDigests[2]).not.toBe(b.layerDigests[2]);
    const last = firstTarEntry(await blob(reg, repository, b.layerDigests[2]!));
    expect(last.name).toBe('app/version.json');
    expect((JSON.parse(last.data.toString()) as { commit: string }).commit).toBe(c2);
    expect((await headManifest(reg, repository, 'dev'))?.digest).toBe(b.digest);
  }, 20_000);

  test('platform and Docker schema 2 format', async () => {
    const repository = 'mozilla/releng-addonscript';
    const img = await buildImage(reg, { repository, commit: randomCommit(), tags: ['production', 'other'], platform: 'linux/arm64', format: 'v2s2' });
    expect(img.mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect((await headManifest(reg, repository, 'other'))?.digest).toBe(img.digest);
    const config = JSON.parse((await blob(reg, repository, img.configDigest)).toString('utf8')) as { architecture: string };
    expect(config.architecture).toBe('arm64');
  }, 20_000);

  test('rejects a commit that is not 40 lowercase hex', async () => {
    await expect(buildImage(reg, { repository: 'x/y', commit: 'ABC', tags: ['t'] })).rejects.toThrow(/40 lowercase hex/);
  });

  test.each(['oci', 'docker'] as const)('buildIndex (%s): index digest is stable and children are pushed by digest', async (format) => {
    const repository = `mozilla/releng-index-${format}`;
    const commit = randomCommit();
    const idx = await buildIndex(reg, { repository, commit, tags: ['production', `production-20250101000000-${commit}`], platforms: ['linux/amd64', 'linux/arm64'], format });
    expect(idx.mediaType).toBe(format === 'oci' ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerManifestList);
    expect(idx.digest).toBe(sha256Digest(idx.manifest));
    const served = await getManifest(reg, repository, 'production');
    expect(served.digest).toBe(idx.digest);
    expect(served.mediaType).toBe(idx.mediaType);
    expect(served.manifest.equals(idx.manifest)).toBe(true);
    expect(idx.children.map((c) => c.platform.architecture)).toEqual(['amd64', 'arm64']);
    for (const child of idx.children) {
      expect(child.mediaType).toBe(format === 'oci' ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest);
      expect((await headManifest(reg, repository, child.digest))?.digest).toBe(child.digest);
    }
    expect((await listTags(reg, repository)).sort()).toEqual(['production', `production-20250101000000-${commit}`]);
  }, 20_000);
});

describe.each(['basic', 'token'] as AuthMode[])('fixtures against auth=%s', (auth) => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth });
  }, 20_000);
  afterAll(() => reg?.stop());

  test('buildImage, buildIndex, tagExisting and pushRawManifest authenticate', async () => {
    const repository = 'mozilla/releng-pushapkscript';
    const commit = randomCommit();
    const img = await buildImage(reg, { repository, commit, tags: ['production', `production-20250101000000-${commit}`], layers: 2 });
    await tagExisting(reg, repository, img.digest, 'rollback');
    expect((await headManifest(reg, repository, 'rollback'))?.digest).toBe(img.digest);
    expect(await pushRawManifest(reg, repository, 'raw', img.manifest, img.mediaType)).toBe(img.digest);
    const idx = await buildIndex(reg, { repository, commit, tags: ['multi'] });
    expect((await headManifest(reg, repository, 'multi'))?.digest).toBe(idx.digest);
    if (auth === 'token') expect(reg.tokenRequests()).toBeGreaterThan(0);
  }, 30_000);
});

describe('writeTagsDirectly', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token' });
  }, 20_000);
  afterAll(() => reg?.stop());

  test('2,000 archive tags in a few seconds, listed and resolvable by the registry', async () => {
    const repository = 'mozilla/releng-balrogscript';
    const images = await Promise.all([0, 1].map(() => buildImage(reg, { repository, commit: randomCommit(), tags: ['seed'] })));
    const start = Date.now();
    const base = Date.UTC(2021, 0, 1);
    const entries = [...Array(2000).keys()].map((i) => {
      const commit = randomCommit();
      return { tag: archiveTag('production', new Date(base + i * 3_600_000), commit), digest: images[i % 2]!.digest };
    });
    await writeTagsDirectly(reg, repository, entries);
    const elapsed = Date.now() - start;
    expect(elapsed).toBeLessThan(5000);
    const tags = await listTags(reg, repository, { anonymous: true });
    expect(tags).toHaveLength(2001);
    for (const e of [entries[0]!, entries[1]!, entries[1999]!]) {
      expect((await headManifest(reg, repository, e.tag, { anonymous: true }))?.digest).toBe(e.digest);
    }
  }, 30_000);

  test('refuses digests that are not in the repository', async () => {
    await expect(writeTagsDirectly(reg, 'mozilla/releng-balrogscript', [{ tag: 't', digest: `sha256:${'0'.repeat(64)}` }])).rejects.toThrow(/push it first/);
  });
});
