/**
 * The drill's pushlog, written into a local registry the way production writes it (the moving
 * tag pushed first, then the archive tag), dated back from now so ages read naturally. The
 * script rehearsed gets a realistic history: the three tag eras, a bad deploy rolled back by a
 * branch rebuild (an old revision, a new digest), and dev ahead of production; every other
 * configured script a short one, so that `status` shows a fleet.
 */
import type { Config } from '../config/load.js';
import { expandPattern } from '../config/load.js';
import type { RegistryClient } from '../registry/client.js';
import { loadCrypto } from '../util/builtins.js';
import { mapLimit } from '../util/concurrency.js';
import { layerOf, pushImage } from './images.js';

const day = 86_400_000;
const hour = 3_600_000;

/** A revision that looks like one: the sha1 of a name, so every drill writes the same ones. */
export function drillRevision(name: string): string {
  return loadCrypto().createHash('sha1').update(`tc-promote drill ${name}`).digest('hex');
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

interface Deploy {
  env: 'production' | 'dev';
  /** Milliseconds before now. */
  agoMs: number;
  /** The revision's name (drillRevision), or null for the gap era. */
  revision: string | null;
  era?: 'oldest' | 'gap';
}

export interface SeedResult {
  repositories: number;
  images: number;
  tags: number;
  /** The rehearsed script's repository. */
  repository: string;
}

/** The rehearsed script's history, oldest first. */
function fullHistory(): Deploy[] {
  return [
    { env: 'production', agoMs: 430 * day, revision: 'a1', era: 'oldest' },
    { env: 'production', agoMs: 410 * day, revision: 'a2', era: 'oldest' },
    { env: 'production', agoMs: 395 * day, revision: null, era: 'gap' },
    { env: 'production', agoMs: 150 * day, revision: 'r1' },
    { env: 'dev', agoMs: 125 * day, revision: 'r2' },
    { env: 'production', agoMs: 120 * day, revision: 'r2' },
    { env: 'dev', agoMs: 95 * day, revision: 'r3' },
    // A bad deploy, rolled back two hours later by force-pushing r2: a rebuild, a new digest.
    { env: 'production', agoMs: 90 * day, revision: 'r3' },
    { env: 'production', agoMs: 90 * day - 2 * hour, revision: 'r2' },
    { env: 'dev', agoMs: 64 * day, revision: 'r4' },
    { env: 'production', agoMs: 60 * day, revision: 'r4' },
    { env: 'dev', agoMs: 12 * day, revision: 'r5' },
    // Today's bad deploy: the one the drill rolls back.
    { env: 'production', agoMs: 9 * day, revision: 'r5' },
    // Dev is ahead: a revision production never had.
    { env: 'dev', agoMs: 2 * day - 5 * hour, revision: 'r6' },
  ];
}

/** Another script's short history, varied by its position in the configuration. */
function shortHistory(i: number): Deploy[] {
  const base = 20 + ((i * 37) % 150);
  const deploys: Deploy[] = [
    { env: 'dev', agoMs: (base + 10) * day, revision: 'r1' },
    { env: 'production', agoMs: (base + 7) * day, revision: 'r1' },
    { env: 'dev', agoMs: base * day, revision: 'r2' },
    { env: 'production', agoMs: (base - 3) * day, revision: 'r2' },
  ];
  // Some scripts have dev ahead.
  if (i % 3 === 0) deploys.push({ env: 'dev', agoMs: (1 + (i % 5)) * day + 3 * hour, revision: 'r3' });
  return deploys;
}

export async function seedDrill(client: RegistryClient, registry: string, config: Config, script: string, nowMs: number): Promise<SeedResult> {
  let images = 0;
  let tags = 0;
  const seedOne = async (name: string, deploys: Deploy[]): Promise<string> => {
    const settings = config.environments.production!;
    const repository = expandPattern(settings.source.repository, name);
    const repo = { registry, repository };
    const base = layerOf([{ path: 'app/README', content: Buffer.from(`${name}: the base of every image of the drill\n`), mtime: nowMs - 500 * day }]);
    for (const [i, d] of deploys.entries()) {
      const env = config.environments[d.env]!;
      const at = nowMs - d.agoMs;
      const revision = d.revision === null ? null : drillRevision(`${name} ${d.revision}`);
      const archive =
        d.era === 'oldest' ? `${env.archivePrefix}-4.${i}.0-${stamp(at)}-${revision}` : d.era === 'gap' ? `${env.archivePrefix}-${stamp(at)}-` : `${env.archivePrefix}-${stamp(at)}-${revision}`;
      // Production pushes the moving tag first, then the archive tag.
      await pushImage(
        client,
        repo,
        base,
        { commit: revision ?? drillRevision(`${name} gap`), createdMs: at, source: `https://github.com/${config.github.repository}`, build: `drill build ${i + 1} of ${name}` },
        [env.movingTag, archive],
      );
      images++;
      tags += 2;
    }
    return repository;
  };
  const others = config.scripts.filter((s) => s !== script);
  const [repository] = await Promise.all([seedOne(script, fullHistory()), mapLimit(others, 12, (name) => seedOne(name, shortHistory(config.scripts.indexOf(name))))]);
  return { repositories: 1 + others.length, images, tags, repository };
}
