// A seeded deploy history in a real registry, built the way production builds images (umoci
// insert of /app/version.json, skopeo copy to the tags). It covers every case SPEC section 3
// names: all three tag eras, duplicate timestamps, a branch-rebuild rollback, a retag
// rollback, noise tags, a second environment, a moving tag whose digest no archive tag has,
// and an archive tag whose image is gone.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildImage, tagExisting, type BuiltImage } from './fixtures.js';
import type { RunningRegistry } from './registry.js';

/** Revisions; r2 and r3 share the 7-character prefix abcdef1 (ambiguous on purpose). */
export const rev = {
  r1: '1111111111111111111111111111111111111111',
  rG: '9999999999999999999999999999999999999999',
  r2: 'abcdef1000000000000000000000000000000002',
  r3: 'abcdef1300000000000000000000000000000003',
  r4: '4444444444444444444444444444444444444444',
  r5: '5555555555555555555555555555555555555555',
  r6: '6666666666666666666666666666666666666666',
  r7: '7777777777777777777777777777777777777777',
  r8: '8888888888888888888888888888888888888888',
  rb1: 'b100000000000000000000000000000000000001',
  rb2: 'b200000000000000000000000000000000000002',
  rb3: 'b300000000000000000000000000000000000003',
  rb4: 'b400000000000000000000000000000000000004',
} as const;

export const signing = 'mozilla/releng-signingscript';
export const beetmover = 'mozilla/releng-beetmoverscript';

/** Production archive tags of signingscript, oldest first (P1 … P10). */
export const P = {
  P1: `production-4.1.2-20200115093000-${rev.r1}`,
  P2: 'production-20200701120000-',
  P3: `production-20210101000000-${rev.r2}`,
  P4: `production-20210101000000-${rev.r3}`,
  P5: `production-20210105000000-${rev.r4}`,
  P6: `production-20210110000000-${rev.r5}`,
  P7: `production-20210110060000-${rev.r4}`,
  P8: `production-20210120000000-${rev.r6}`,
  P9: `production-20210201000000-${rev.r7}`,
  P10: `production-20210201030000-${rev.r6}`,
} as const;

export const D = {
  D1: `dev-20201220000000-${rev.r2}`,
  D2: `dev-20210115000000-${rev.r6}`,
  D3: `dev-20210130000000-${rev.r7}`,
  D4: `dev-20210205000000-${rev.r8}`,
} as const;

export const B = {
  B1: `production-20210101000000-${rev.rb1}`,
  B2: `production-20210201000000-${rev.rb2}`,
  B3: `production-20210301000000-${rev.rb3}`,
  BD1: `dev-20210101000000-${rev.rb1}`,
} as const;

export const noise = ['latest', 'pr-123', 'abc1234', `production-20211301000000-${rev.r8}`];

/** The pinned clock the tests run at (TC_PROMOTE_NOW). */
export const now = '2021-03-01T00:00:00Z';

export interface SeededHistory {
  images: Record<string, BuiltImage>;
  /** digest by tag, for every tag written */
  digestOf: Record<string, string>;
  /** beetmoverscript's dev moving tag: a digest no archive tag has */
  unarchivedDigest: string;
  /** beetmoverscript B2: listed, but its image is gone */
  goneDigest: string;
}

export async function seedHistory(reg: RunningRegistry, options: { layers?: number } = {}): Promise<SeededHistory> {
  const images: Record<string, BuiltImage> = {};
  const digestOf: Record<string, string> = {};
  const build = async (name: string, repository: string, commit: string, tags: string[]): Promise<BuiltImage> => {
    const image = await buildImage(reg, { repository, commit, tags, layers: options.layers ?? 1 });
    images[name] = image;
    for (const t of tags) digestOf[`${repository}:${t}`] = image.digest;
    return image;
  };
  const tag = async (repository: string, digest: string, t: string): Promise<void> => {
    await tagExisting(reg, repository, digest, t);
    digestOf[`${repository}:${t}`] = digest;
  };

  // signingscript, production
  await build('img1', signing, rev.r1, [P.P1, 'abc1234']);
  await build('imgG', signing, rev.rG, [P.P2]);
  await build('img2', signing, rev.r2, [P.P3]);
  await build('img3', signing, rev.r3, [P.P4]);
  await build('img4', signing, rev.r4, [P.P5]);
  await build('img5', signing, rev.r5, [P.P6]);
  // Branch-rebuild rollback: r4 rebuilt, a new digest for an old revision.
  await build('img4b', signing, rev.r4, [P.P7]);
  const img6 = await build('img6', signing, rev.r6, [P.P8]);
  const img7 = await build('img7', signing, rev.r7, [P.P9, 'pr-123', noise[3]!]);
  // Retag rollback by tc-promote: the moving tag back at img6, and a new archive tag for it.
  await tag(signing, img6.digest, P.P10);
  await tag(signing, img6.digest, 'production');
  await tag(signing, img6.digest, 'latest');
  // signingscript, dev
  await build('imgD1', signing, rev.r2, [D.D1]);
  await build('imgD2', signing, rev.r6, [D.D2]);
  await build('imgD3', signing, rev.r7, [D.D3]);
  const d4 = await build('imgD4', signing, rev.r8, ['dev', D.D4]);
  void img7;
  void d4;

  // beetmoverscript: production B1, B2 (gone), B3 current; dev moving tag without archive tag.
  await build('imgB1', beetmover, rev.rb1, [B.B1]);
  const goneDigest = `sha256:${'0'.repeat(63)}1`;
  writeTagLink(reg, beetmover, B.B2, goneDigest);
  await build('imgB3', beetmover, rev.rb3, ['production', B.B3]);
  await build('imgBD1', beetmover, rev.rb1, [B.BD1]);
  const unarchived = await build('imgBD2', beetmover, rev.rb4, ['dev']);
  return { images, digestOf, unarchivedDigest: unarchived.digest, goneDigest };
}

/** A tag link to a manifest the repository does not have: listed by tags/list, 404 on HEAD. */
function writeTagLink(reg: RunningRegistry, repository: string, tag: string, digest: string): void {
  const dir = path.join(reg.storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags', tag, 'current');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'link'), digest);
}
