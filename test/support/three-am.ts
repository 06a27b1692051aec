// A realistic pushlog in a real registry, the one a release engineer meets at 3 a.m.: five
// months of production deploys of signingscript, a bad deploy rolled back by a branch rebuild
// (an old revision, a new digest), a retag rollback by tc-promote (an old digest, a new
// archive tag) followed 15 s later by a new deploy that is bad, and dev ahead of production
// (a revision production never had, current in dev for 6h52m). Images are built the way
// production builds them (umoci insert of /app/version.json, skopeo copy); a retag is the
// same manifest bytes under another tag.
import { buildImage, tagExisting, type BuiltImage } from './fixtures.js';
import type { RunningRegistry } from './registry.js';

export const repository = 'mozilla/releng-signingscript';
/** The pinned clock: 2021-06-01T03:00:00Z (TC_PROMOTE_NOW). */
export const now = '2021-06-01T03:00:00Z';

const r = (n: number): string => n.toString(16).padStart(2, '0').repeat(20);
/** Revisions r01 … r16 (40 hex each). */
export const rev = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`r${String(i + 1).padStart(2, '0')}`, r(0xa0 + i + 1)])) as Record<string, string>;

const prod = (stamp: string, revision: string): string => `production-${stamp}-${revision}`;
const dev = (stamp: string, revision: string): string => `dev-${stamp}-${revision}`;

/** Production archive tags, oldest first. */
export const P = {
  jan1: prod('20210104100000', rev.r01!),
  jan2: prod('20210118100000', rev.r02!),
  feb1: prod('20210201100000', rev.r03!),
  feb2: prod('20210215100000', rev.r04!),
  /** bad: rolled back two hours later by force-pushing r04 (a rebuild: new digest) */
  mar1: prod('20210301100000', rev.r05!),
  mar1Rebuild: prod('20210301120000', rev.r04!),
  mar2: prod('20210315100000', rev.r06!),
  apr1: prod('20210405100000', rev.r07!),
  /** lived 20 days */
  may1: prod('20210501100000', rev.r11!),
  /** bad: rolled back by tc-promote two hours later */
  may2: prod('20210521100000', rev.r12!),
  /** tc-promote's retag rollback: may1's image again, new archive tag */
  may2Rollback: prod('20210521120000', rev.r11!),
  /** deployed 15 s after the rollback; bad, current */
  may3: prod('20210521120015', rev.r13!),
} as const;

export const D = {
  d1: dev('20210420100000', rev.r11!),
  d2: dev('20210519100000', rev.r12!),
  d3: dev('20210521110000', rev.r13!),
  /** dev is ahead: a revision production never had, current in dev since 20:08 (6h52m before now) */
  d4: dev('20210531200800', rev.r15!),
} as const;

export interface ThreeAm {
  images: Record<string, BuiltImage>;
  digestOf(tag: string): string;
}

export async function seedThreeAm(reg: RunningRegistry, repo = repository): Promise<ThreeAm> {
  const images: Record<string, BuiltImage> = {};
  const digests = new Map<string, string>();
  const build = async (name: string, commit: string, tags: string[]): Promise<BuiltImage> => {
    const image = await buildImage(reg, { repository: repo, commit, tags });
    images[name] = image;
    for (const t of tags) digests.set(t, image.digest);
    return image;
  };
  const retag = async (from: string, tag: string): Promise<void> => {
    await tagExisting(reg, repo, digests.get(from)!, tag);
    digests.set(tag, digests.get(from)!);
  };
  // Production, in deploy order; the moving tag follows each push.
  await build('jan1', rev.r01!, [P.jan1]);
  await build('jan2', rev.r02!, [P.jan2]);
  await build('feb1', rev.r03!, [P.feb1]);
  await build('feb2', rev.r04!, [P.feb2]);
  await build('mar1', rev.r05!, [P.mar1]);
  await build('mar1Rebuild', rev.r04!, [P.mar1Rebuild]);
  await build('mar2', rev.r06!, [P.mar2]);
  await build('apr1', rev.r07!, [P.apr1]);
  await build('d1', rev.r11!, [D.d1]);
  await build('may1', rev.r11!, [P.may1]);
  await build('d2', rev.r12!, [D.d2]);
  await build('may2', rev.r12!, [P.may2]);
  await build('d3', rev.r13!, [D.d3]);
  await retag(P.may1, P.may2Rollback);
  await build('may3', rev.r13!, ['production', P.may3]);
  await build('d4', rev.r15!, ['dev', D.d4]);
  return { images, digestOf: (tag) => digests.get(tag)! };
}
