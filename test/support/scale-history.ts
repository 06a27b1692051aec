// A realistic pushlog at scale for the history benchmark and the scale test: years of deploys to production and
// dev, nearly every deploy a build of its own (a distinct image), with retag rollbacks (an
// older image again), branch-rebuild rollbacks (an older revision, a new image) and promotions
// from dev (dev's image as it is). Tens of thousands of distinct images are made the way a
// registry stores them, written straight into its filesystem storage: the manifest of one
// real image with a distinct annotation (so its own digest), as a blob and a manifest
// revision of the repository; tags then point at them (writeTagsDirectly).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { archiveTag, buildImage, getManifest, tagExisting, writeTagsDirectly } from './fixtures.js';
import type { RunningRegistry } from './registry.js';

/** Write `count` distinct manifests (the base manifest with an annotation each); returns their digests. */
export function writeManifestsDirectly(reg: RunningRegistry, repository: string, base: Buffer, count: number): string[] {
  const manifest = JSON.parse(base.toString('utf8')) as Record<string, unknown>;
  const root = path.join(reg.storageDir, 'docker', 'registry', 'v2');
  const digests: string[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(JSON.stringify({ ...manifest, annotations: { 'org.mozilla.tc-promote.bench': `${i}-${randomBytes(4).toString('hex')}` } }));
    const hex = createHash('sha256').update(bytes).digest('hex');
    const blob = path.join(root, 'blobs', 'sha256', hex.slice(0, 2), hex);
    mkdirSync(blob, { recursive: true });
    writeFileSync(path.join(blob, 'data'), bytes);
    const revision = path.join(root, 'repositories', ...repository.split('/'), '_manifests', 'revisions', 'sha256', hex);
    mkdirSync(revision, { recursive: true });
    writeFileSync(path.join(revision, 'link'), `sha256:${hex}`);
    digests.push(`sha256:${hex}`);
  }
  return digests;
}

export interface ScaleHistory {
  repository: string;
  tags: number;
  /** The production moving tag's digest. */
  current: string;
  /** Every archive tag written, oldest first, and both moving tags (last), with their digests. */
  entries: { name: string; digest: string }[];
}

/**
 * Seed `count` archive tags (about 2/3 production, 1/3 dev), one deploy every two hours on
 * average, and both moving tags. With `images` fewer than `count`, builds reuse images (a
 * redeploy of an older deploy's image and revision) once the distinct images run out.
 */
export async function seedScaleHistory(reg: RunningRegistry, repository: string, count: number, seed = 1, images = count): Promise<ScaleHistory> {
  let state = seed >>> 0;
  const rand = (): number => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const base = await buildImage(reg, { repository, commit: randomBytes(20).toString('hex'), tags: ['bench-base'] });
  const distinct = writeManifestsDirectly(reg, repository, (await getManifest(reg, repository, base.digest)).manifest, images);
  const deployed: Record<'production' | 'dev', { revision: string; digest: string }[]> = { production: [], dev: [] };
  const entries: { tag: string; digest: string }[] = [];
  let next = 0;
  const all: { revision: string; digest: string }[] = [];
  const fresh = (revision: string): { revision: string; digest: string } => {
    if (next < distinct.length || all.length === 0) return { revision, digest: distinct[next++ % distinct.length]! };
    return all[Math.floor(rand() * all.length)]!;
  };
  // Two hours apart on average, ending before now (a tag dated in the future is not a deploy).
  const step = (): number => Math.floor(rand() * 4 * 3600) * 1000 + 60_000;
  let t = Date.now() - count * (2 * 3600_000 + 60_000) - 86_400_000;
  for (let i = 0; i < count; i++) {
    t = Math.min(t + step(), Date.now() - 3600_000 - (count - i) * 1000);
    const env = rand() < 0.66 ? 'production' : 'dev';
    const own = deployed[env];
    const k = rand();
    let pick: { revision: string; digest: string };
    if (k < 0.04 && own.length > 2) pick = own[own.length - 2 - Math.floor(rand() * Math.min(5, own.length - 2))]!; // retag rollback
    else if (k < 0.06 && own.length > 2 && next < distinct.length) pick = fresh(own[own.length - 2]!.revision); // branch rebuild
    else if (k < 0.2 && env === 'production' && deployed.dev.length) pick = deployed.dev[deployed.dev.length - 1]!; // promotion from dev
    else pick = fresh(randomBytes(20).toString('hex'));
    own.push(pick);
    all.push(pick);
    entries.push({ tag: archiveTag(env, new Date(t), pick.revision), digest: pick.digest });
  }
  await writeTagsDirectly(reg, repository, entries, { verify: false });
  await tagExisting(reg, repository, deployed.production.at(-1)!.digest, 'production');
  await tagExisting(reg, repository, deployed.dev.at(-1)!.digest, 'dev');
  const moving = [
    { name: 'production', digest: deployed.production.at(-1)!.digest },
    { name: 'dev', digest: deployed.dev.at(-1)!.digest },
  ];
  return { repository, tags: count, current: deployed.production.at(-1)!.digest, entries: [{ name: 'bench-base', digest: base.digest }, ...entries.map((e) => ({ name: e.tag, digest: e.digest })), ...moving] };
}
