// Model-based test of SPEC section 3. A small reference model, written here with plain loops
// (slow and obviously right), against the real analysis on thousands of seeded histories:
// rollbacks by retag and by branch rebuild, promotions across environments, redeploys, gap-era
// and oldest-era tags, equal timestamps, gone images, and moving tags moved back by hand,
// ahead of their archive tag, or missing. Each history is run twice through the real code:
// the analysis with every digest known, and the lazy path (loadHistory and selectPrevious
// through a RegistryClient whose transport serves the history from memory, registry API or
// Docker Hub's API), which looks up only what it decides needs. A failure prints the seed
// and the history shrunk to the fewest tags that still fail.
//
// TC_PROMOTE_MODEL_SEED=<n> replays one history; TC_PROMOTE_MODEL_RUNS=<n> sets how many.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { analyseRepository, type MovingState } from '../../src/history/analyse.js';
import { loadHistory } from '../../src/history/history.js';
import { openEnvironment, type Runtime } from '../../src/history/runtime.js';
import { parseSkip, type SelectionCriteria } from '../../src/history/select.js';
import { classifyTag, compareNewestFirst, grammarFor, type ArchiveTag } from '../../src/history/tags.js';
import { RegistryClient } from '../../src/registry/client.js';
import type { RegistryRequest, RegistryResponse } from '../../src/registry/transport.js';
import { formatDuration } from '../../src/util/duration.js';

type Env = 'production' | 'dev';
const envs: Env[] = ['production', 'dev'];

interface Tag {
  tag: string;
  env: Env;
  /** Epoch ms. */
  time: number;
  revision: string | null;
  /** The digest the tag points at; the registry answers null for it when the image is gone. */
  digest: string;
}

interface History {
  tags: Tag[];
  moving: Record<Env, string | null>;
  /** When each moving tag was last pushed, as Docker Hub reports it (hub mode only). */
  movedAt: Partial<Record<Env, number>>;
  gone: string[];
  nowMs: number;
  /** Read through Docker Hub's API (digests and push times in the listing) instead of HEADs. */
  hub: boolean;
}

// ---- seeded generator --------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const base = Date.UTC(2019, 9, 1);

function stampOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function generate(seed: number): History {
  const rand = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rand() * 16)]).join('');
  const tags: Tag[] = [];
  const names = new Set<string>();
  const byEnv: Record<Env, Tag[]> = { production: [], dev: [] };
  const gapDigests: string[] = [];
  const revisions: string[] = [];
  let t = base + Math.floor(rand() * 86400) * 1000;
  const count = 1 + Math.floor(rand() * (rand() < 0.2 ? 40 : 14));
  for (let step = 0; step < count; step++) {
    const r = rand();
    t += r < 0.12 ? 0 : r < 0.35 ? Math.floor(rand() * 3600) * 1000 : r < 0.7 ? Math.floor(rand() * 86400) * 1000 : Math.floor(rand() * 20 * 86400) * 1000;
    const env: Env = rand() < 0.65 ? 'production' : 'dev';
    const other: Env = env === 'production' ? 'dev' : 'production';
    const own = byEnv[env];
    const k = rand();
    let revision: string | null;
    let digest: string;
    let era: 'current' | 'gap' | 'oldest' = 'current';
    if (k < 0.38 || own.length === 0) {
      revision = hex(40);
      digest = `sha256:${hex(64)}`;
      revisions.push(revision);
      if (rand() < 0.06) era = 'oldest';
    } else if (k < 0.48) {
      // Branch-rebuild rollback (or a rebuild of what runs): an older revision, a new digest.
      revision = pick(own.filter((x) => x.revision !== null).map((x) => x.revision!)) ?? hex(40);
      digest = `sha256:${hex(64)}`;
    } else if (k < 0.63) {
      // Retag rollback by tc-promote: an older deploy's exact image, a new archive tag.
      const older = pick(own);
      revision = older.revision;
      digest = older.digest;
      if (revision === null) era = 'gap';
    } else if (k < 0.76 && byEnv[other].length) {
      // Promotion across environments: the other environment's image, as it is.
      const from = byEnv[other][byEnv[other].length - 1 - Math.floor(rand() * Math.min(3, byEnv[other].length))]!;
      revision = from.revision;
      digest = from.digest;
      if (revision === null) era = 'gap';
    } else if (k < 0.82) {
      // Redeploy of what runs now: the same image again, or the same revision rebuilt.
      const last = own[own.length - 1]!;
      revision = last.revision;
      digest = rand() < 0.5 ? last.digest : revision === null ? `sha256:${hex(64)}` : `sha256:${hex(64)}`;
      if (revision === null) era = 'gap';
    } else {
      // The gap era: no revision in the tag; an image of its own, or a gap image again.
      era = 'gap';
      revision = null;
      digest = gapDigests.length && rand() < 0.35 ? pick(gapDigests) : `sha256:${hex(64)}`;
      if (!gapDigests.includes(digest)) gapDigests.push(digest);
    }
    const stamp = stampOf(t);
    const tag = era === 'gap' ? `${env}-${stamp}-` : era === 'oldest' ? `${env}-4.1.${Math.floor(rand() * 9)}-${stamp}-${revision}` : `${env}-${stamp}-${revision}`;
    if (names.has(tag)) continue;
    names.add(tag);
    const entry: Tag = { tag, env, time: Math.floor(t / 1000) * 1000, revision, digest };
    tags.push(entry);
    own.push(entry);
  }
  const nowMs = t + Math.floor(rand() * 10 * 86400) * 1000;
  const moving = {} as Record<Env, string | null>;
  const movedAt: Partial<Record<Env, number>> = {};
  const hub = rand() < 0.3;
  for (const env of envs) {
    const own = byEnv[env];
    const m = rand();
    const newestTime = own.length ? Math.max(...own.map((x) => x.time)) : base;
    const later = (): number => newestTime + Math.floor(rand() * Math.max(1, (nowMs - newestTime) / 1000)) * 1000;
    if (own.length === 0) moving[env] = m < 0.5 ? null : `sha256:${hex(64)}`;
    else if (m < 0.72) {
      moving[env] = own[own.length - 1]!.digest; // pushed last
      movedAt[env] = own[own.length - 1]!.time;
    } else if (m < 0.86) {
      moving[env] = pick(own).digest; // moved back by hand, no archive tag
      movedAt[env] = later();
    } else if (m < 0.95) {
      moving[env] = `sha256:${hex(64)}`; // ahead of its archive tag (its push failed)
      movedAt[env] = later();
    } else moving[env] = null;
    // A push time Docker Hub reports that cannot be the move: before the newest archive tag, or ahead of the clock.
    const skew = rand();
    if (movedAt[env] !== undefined && skew < 0.04) movedAt[env] = nowMs + (1 + Math.floor(rand() * 3600)) * 1000;
    else if (movedAt[env] !== undefined && skew < 0.08) movedAt[env] = newestTime - (1 + Math.floor(rand() * 3600)) * 1000;
  }
  const live = new Set(Object.values(moving).filter((d): d is string => d !== null));
  const gone = [...new Set(tags.map((x) => x.digest))].filter((d) => !live.has(d) && rand() < 0.06);
  return { tags, moving, movedAt: hub ? movedAt : {}, gone, nowMs, hub };
}

// ---- the reference model -------------------------------------------------------------------

interface ModelDeploy {
  tag: string;
  env: Env;
  time: number;
  revision: string | null;
  /** As the registry answers: null when the image is gone. */
  digest: string | null;
}

interface Report {
  /** Claims the lazy path's analysis (only some digests known) makes that the model contradicts. */
  lazy: string[];
  envs: Record<string, { current: string | null; deploys: { tag: string; liveSeconds: number | null; rolledBack: boolean; redeployOf: string | null; promotedFrom: string | null; rebuildOf: string | null }[] }>;
  selections: { criteria: string; result: string; passedOver: string[] }[];
}

const newestFirst = (a: ModelDeploy, b: ModelDeploy): number => (a.time !== b.time ? b.time - a.time : a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0);

function observed(h: History): ModelDeploy[] {
  return h.tags.map((x) => ({ tag: x.tag, env: x.env, time: x.time, revision: x.revision, digest: h.gone.includes(x.digest) ? null : x.digest }));
}

function same(a: { revision: string | null; digest: string | null }, b: { revision: string | null; digest: string | null }): boolean {
  if (a.revision !== null && b.revision !== null) return a.revision === b.revision;
  return a.digest !== null && a.digest === b.digest;
}

class Model {
  readonly all: ModelDeploy[];
  constructor(readonly h: History) {
    this.all = observed(h).sort(newestFirst);
  }

  deploys(env: Env): ModelDeploy[] {
    return this.all.filter((d) => d.env === env);
  }

  current(env: Env): number {
    const m = this.h.moving[env];
    if (m === null) return -1;
    return this.deploys(env).findIndex((d) => d.digest === m);
  }

  movedAtUsable(env: Env): number | undefined {
    const at = this.h.movedAt[env];
    const ds = this.deploys(env);
    if (at === undefined || ds.length === 0 || this.h.moving[env] === null) return undefined;
    return at >= ds[0]!.time && at <= this.h.nowMs ? at : undefined;
  }

  live(env: Env, i: number): number | null {
    const ds = this.deploys(env);
    if (i > 0) return Math.round((ds[i - 1]!.time - ds[i]!.time) / 1000);
    if (this.current(env) === 0) return Math.round((this.h.nowMs - ds[0]!.time) / 1000);
    const at = this.movedAtUsable(env);
    return at !== undefined ? Math.round((at - ds[0]!.time) / 1000) : null;
  }

  rolledBack(env: Env, i: number): boolean {
    const ds = this.deploys(env);
    if (i === 0) {
      const c = this.current(env);
      if (c <= 0) return false;
      const back = { revision: ds[c]!.revision, digest: this.h.moving[env] };
      return !same(back, ds[0]!) && ds.slice(1).some((o) => same(o, back));
    }
    const newer = ds[i - 1]!;
    return !same(newer, ds[i]!) && ds.slice(i + 1).some((o) => same(o, newer));
  }

  redeployOf(env: Env, i: number): string | null {
    const ds = this.deploys(env);
    return ds.slice(i + 1).find((o) => same(o, ds[i]!))?.tag ?? null;
  }

  promotedFrom(d: ModelDeploy): string | null {
    if (d.digest === null) return null;
    const k = this.all.indexOf(d);
    return this.all.slice(k + 1).find((o) => o.digest === d.digest)?.tag ?? null;
  }

  rebuildOf(d: ModelDeploy): string | null {
    if (d.digest === null || d.revision === null || this.promotedFrom(d) !== null) return null;
    const own = this.deploys(d.env);
    return own.slice(own.indexOf(d) + 1).find((o) => o.revision === d.revision)?.tag ?? null;
  }

  /** Every deploy of the digest, in every environment, and moving tags moved back to it. */
  imageLive(digest: string): { seconds: number; atLeast: boolean } {
    let seconds = 0;
    let atLeast = false;
    for (const env of envs) {
      const ds = this.deploys(env);
      ds.forEach((d, i) => {
        if (d.digest !== digest) return;
        const live = this.live(env, i);
        if (live === null) atLeast = true;
        else seconds += live;
      });
      const c = this.current(env);
      if (c > 0 && this.h.moving[env] === digest) {
        const at = this.movedAtUsable(env);
        if (at === undefined) atLeast = true;
        else seconds += Math.round((this.h.nowMs - at) / 1000);
      }
    }
    return { seconds, atLeast };
  }

  /** A --skip value as typed, read as SPEC section 3 says: a tag exactly, a digest exactly, a revision by a 7+ hex prefix in any case. */
  skipMatches(text: string, d: ModelDeploy): boolean {
    if (d.tag === text) return true;
    if (/^sha256:[0-9a-f]{64}$/.test(text)) return d.digest === text;
    return /^[0-9a-fA-F]{7,40}$/.test(text) && d.revision !== null && d.revision.startsWith(text.toLowerCase());
  }

  select(env: Env, criteria: ModelCriteria): { result: string; passedOver: string[] } {
    const ds = this.deploys(env);
    const c = this.current(env);
    if (c < 0) return { result: 'no current', passedOver: [] };
    const cur = ds[c]!;
    const passedOver: string[] = [];
    for (let i = 0; i < c; i++) passedOver.push(`${ds[i]!.tag}: newer than current (the moving tag was moved back past it)`);
    passedOver.push(`${cur.tag}: current`);
    for (let i = c + 1; i < ds.length; i++) {
      const d = ds[i]!;
      let reason: string | null = null;
      if (d.digest !== null && d.digest === cur.digest) reason = 'same image as current';
      else if (d.revision !== null && d.revision === cur.revision) reason = 'same revision as current';
      else if (this.rolledBack(env, i)) reason = 'rolled back';
      else {
        const skip = criteria.skip.find((s) => this.skipMatches(s, d));
        if (skip !== undefined) reason = `skipped (--skip ${skip})`;
        else if (criteria.minLiveSeconds !== undefined) {
          const live = d.digest !== null ? this.imageLive(d.digest) : { seconds: this.live(env, i) ?? 0, atLeast: this.live(env, i) === null };
          if (live.seconds < criteria.minLiveSeconds) reason = `lived ${live.atLeast ? 'at least ' : ''}${formatDuration(live.seconds)} < --min-live ${formatDuration(criteria.minLiveSeconds)}`;
        }
        if (reason === null && criteria.existingOnly && d.digest === null) reason = 'image gone';
      }
      if (reason === null) return { result: d.tag, passedOver };
      passedOver.push(`${d.tag}: ${reason}`);
    }
    return { result: 'none', passedOver };
  }
}

/** Selection criteria as the user gives them: --skip values as typed (the model reads them itself). */
interface ModelCriteria {
  skip: string[];
  minLiveSeconds?: number;
  existingOnly?: boolean;
}

/** The same criteria for the real code, its --skip values parsed by the real parser. */
function realCriteria(c: ModelCriteria): SelectionCriteria {
  return { ...c, skip: c.skip.map(parseSkip) };
}

function criteriaFor(h: History, seed: number): { name: string; criteria: ModelCriteria }[] {
  const rand = mulberry32(seed ^ 0x5bd1e995);
  const prod = h.tags.filter((x) => x.env === 'production');
  const list: { name: string; criteria: ModelCriteria }[] = [
    { name: 'default', criteria: { skip: [] } },
    { name: 'min-live 1h', criteria: { skip: [], minLiveSeconds: 3600 } },
    { name: 'min-live 3d', criteria: { skip: [], minLiveSeconds: 3 * 86400 } },
    { name: 'existing only', criteria: { skip: [], existingOnly: true } },
  ];
  if (prod.length) {
    const a = prod[Math.floor(rand() * prod.length)]!;
    const b = prod[Math.floor(rand() * prod.length)]!;
    const skips = [a.tag];
    // Revision prefixes as a tired person types them: 7 to 40 characters, any case.
    const length = 7 + Math.floor(rand() * 34);
    const caseOf = (text: string): string => (rand() < 0.5 ? text.toUpperCase() : text.replace(/[a-f]/g, (c) => (rand() < 0.5 ? c.toUpperCase() : c)));
    if (b.revision) skips.push(rand() < 0.6 ? caseOf(b.revision.slice(0, length)) : b.revision.slice(0, length));
    if (!h.gone.includes(a.digest)) skips.push(a.digest);
    list.push({ name: `skip ${skips.join(',')}`, criteria: { skip: skips } });
    list.push({ name: `skip ${skips[0]} + min-live 12h`, criteria: { skip: [skips[0]!], minLiveSeconds: 12 * 3600, existingOnly: rand() < 0.5 } });
  }
  return list;
}

function modelReport(h: History, seed: number): Report {
  const m = new Model(h);
  const report: Report = { lazy: [], envs: {}, selections: [] };
  for (const env of envs) {
    const ds = m.deploys(env);
    const c = m.current(env);
    report.envs[env] = {
      current: c >= 0 ? ds[c]!.tag : null,
      deploys: ds.map((d, i) => ({ tag: d.tag, liveSeconds: m.live(env, i), rolledBack: m.rolledBack(env, i), redeployOf: m.redeployOf(env, i), promotedFrom: m.promotedFrom(d), rebuildOf: m.rebuildOf(d) })),
    };
  }
  for (const { name, criteria } of criteriaFor(h, seed)) {
    for (const env of envs) {
      const s = m.select(env, criteria);
      report.selections.push({ criteria: `${env} ${name}`, ...s });
    }
  }
  return report;
}

// ---- the real analysis -----------------------------------------------------------------------

const config = loadConfig();
const grammar = grammarFor(config, Date.UTC(2100, 0, 1));
const repository = 'mozilla/releng-signingscript';

function archiveTags(h: History): ArchiveTag[] {
  return h.tags.map((x) => classifyTag(x.tag, grammar)).filter((t): t is ArchiveTag => t.kind === 'archive').sort(compareNewestFirst);
}

/** The whole analysis with every digest as the registry answers it. */
function pureReport(h: History): Report['envs'] {
  const digestOf = new Map(observed(h).map((d) => [d.tag, d.digest]));
  const moving = new Map<string, MovingState>(envs.map((env) => [env, { digest: h.moving[env], ...(h.movedAt[env] !== undefined && { movedAtMs: h.movedAt[env] }) }]));
  const analysis = analyseRepository(archiveTags(h), (tag) => digestOf.get(tag), moving, h.nowMs);
  const out: Report['envs'] = {};
  for (const env of envs) {
    const e = analysis.envs.get(env);
    const deploys = e?.deploys ?? [];
    out[env] = {
      current: e && e.currentIndex >= 0 ? deploys[e.currentIndex]!.tag : null,
      deploys: deploys.map((d) => ({ tag: d.tag, liveSeconds: d.liveSeconds, rolledBack: d.rolledBack, redeployOf: d.redeployOf, promotedFrom: d.promotedFrom, rebuildOf: d.rebuildOf })),
    };
  }
  return out;
}

/** A registry (or Docker Hub) serving the history from memory, counting requests. */
function memoryTransport(h: History): { send: (req: RegistryRequest) => Promise<RegistryResponse>; requests: () => number } {
  const served = new Map<string, string>();
  for (const d of observed(h)) if (d.digest !== null) served.set(d.tag, d.digest);
  for (const env of envs) if (h.moving[env] !== null) served.set(env, h.moving[env]!);
  const all = [...h.tags.map((x) => x.tag), ...envs.filter((e) => h.moving[e] !== null)];
  let count = 0;
  const json = (value: unknown): RegistryResponse => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(value)) });
  const send = async (req: RegistryRequest): Promise<RegistryResponse> => {
    count++;
    const url = new URL(req.url);
    if (url.pathname === `/v2/${repository}/tags/list`) return json({ name: repository, tags: all });
    const hubList = `/v2/namespaces/mozilla/repositories/releng-signingscript/tags`;
    if (url.pathname === hubList) {
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = 10;
      const results = all.slice((page - 1) * size, page * size).map((name) => {
        const env = envs.find((e) => e === name);
        const pushed = env ? h.movedAt[env] : h.tags.find((x) => x.tag === name)?.time;
        return { name, ...(served.has(name) && { digest: served.get(name) }), ...(pushed !== undefined && { tag_last_pushed: new Date(pushed).toISOString() }) };
      });
      const next = page * size < all.length ? `${url.origin}${hubList}?page_size=${size}&page=${page + 1}` : null;
      return json({ count: all.length, next, previous: null, results });
    }
    const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (m && req.method === 'HEAD' && m[1] === repository) {
      const digest = served.get(decodeURIComponent(m[2]!));
      if (!digest) return { status: 404, headers: {}, body: Buffer.alloc(0) };
      return { status: 200, headers: { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '400' }, body: Buffer.alloc(0) };
    }
    return { status: 404, headers: {}, body: Buffer.alloc(0) };
  };
  return { send, requests: () => count };
}

/** How the lazy path looks up, varied by seed so that small windows and batches are exercised. */
function lookupOptions(seed: number): { window: number; batchSize: number } {
  const rand = mulberry32(seed ^ 0x27d4eb2f);
  return { window: [1, 2, 3, 8][Math.floor(rand() * 4)]!, batchSize: [1, 2, 5, 16][Math.floor(rand() * 4)]! };
}

/** What the lazy analysis says with the digests it looked up must be true of the whole history. */
function lazyViolations(h: History, histories: Map<Env, Awaited<ReturnType<typeof loadHistory>>>): string[] {
  const m = new Model(h);
  const out: string[] = [];
  const digestOf = new Map(observed(h).map((d) => [d.tag, d.digest]));
  for (const env of envs) {
    const model = m.deploys(env);
    const gapEra = model.some((d) => d.revision === null);
    histories.get(env)!.deploys.forEach((d, i) => {
      const say = (what: string): void => void out.push(`${env} ${d.tag}: ${what}`);
      if (d.tag !== model[i]!.tag) return say(`order: model has ${model[i]!.tag}`);
      if (d.digest !== undefined && d.digest !== digestOf.get(d.tag)) say(`digest ${d.digest}`);
      if (d.liveSeconds !== m.live(env, i)) say(`liveSeconds ${d.liveSeconds}, model ${m.live(env, i)}`);
      if (!gapEra && d.rolledBack !== m.rolledBack(env, i)) say(`rolledBack ${d.rolledBack}`);
      if (!gapEra && d.redeployOf !== m.redeployOf(env, i)) say(`redeployOf ${d.redeployOf}, model ${m.redeployOf(env, i)}`);
      if (d.promotedFrom !== null) {
        const from = m.all.find((o) => o.tag === d.promotedFrom);
        const self = m.all.find((o) => o.tag === d.tag)!;
        if (!from || from.digest !== self.digest || m.all.indexOf(from) <= m.all.indexOf(self)) say(`promotedFrom ${d.promotedFrom} is not an older deploy of its digest`);
      }
      if (d.rebuildOf !== null && d.rebuildOf !== m.rebuildOf(model[i]!)) say(`rebuildOf ${d.rebuildOf}, model ${m.rebuildOf(model[i]!)}`);
    });
  }
  return out;
}

async function lazySelections(h: History, seed: number): Promise<{ selections: Report['selections']; lazy: string[] }> {
  const transport = memoryTransport(h);
  const runtime: Runtime = {
    config,
    client: new RegistryClient({ transport: transport.send }),
    registryOverride: h.hub ? 'hub.test' : '127.0.0.1:5000',
    ...(h.hub && { hubApi: 'http://hub.test' }),
    nowMs: h.nowMs,
  };
  const out: Report['selections'] = [];
  const histories = new Map<Env, Awaited<ReturnType<typeof loadHistory>>>();
  for (const env of envs) histories.set(env, await loadHistory(runtime, openEnvironment(runtime, 'signingscript', env), lookupOptions(seed)));
  for (const { name, criteria } of criteriaFor(h, seed)) {
    for (const env of envs) {
      const history = histories.get(env)!;
      const selection = await history.selectPrevious(realCriteria(criteria));
      const result =
        selection.index >= 0 ? history.deploys[selection.index]!.tag : 'reason' in selection && selection.reason === 'current is unknown' ? 'no current' : 'none';
      out.push({ criteria: `${env} ${name}`, result, passedOver: selection.passedOver.map((p) => `${p.tag}: ${p.reason}`) });
    }
  }
  // current as the lazy path found it must be the model's too
  for (const env of envs) {
    const history = histories.get(env)!;
    out.push({ criteria: `${env} current`, result: history.current?.tag ?? 'none', passedOver: [] });
  }
  return { selections: out, lazy: lazyViolations(h, histories) };
}

async function implReport(h: History, seed: number): Promise<Report> {
  const { selections, lazy } = await lazySelections(h, seed);
  return { lazy, envs: pureReport(h), selections };
}

function expectedReport(h: History, seed: number): Report {
  const report = modelReport(h, seed);
  const m = new Model(h);
  for (const env of envs) {
    const c = m.current(env);
    report.selections.push({ criteria: `${env} current`, result: c >= 0 ? m.deploys(env)[c]!.tag : 'none', passedOver: [] });
  }
  return report;
}

// ---- comparison and shrinking ---------------------------------------------------------------

function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path || '(root)'}: model ${JSON.stringify(a)}, real ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}${Array.isArray(a) ? `[${k}]` : `.${k}`}`);
    if (d) return d;
  }
  return null;
}

type Check = (h: History, seed: number) => Promise<string | null>;

const checkReal: Check = async (h, seed) => firstDifference(expectedReport(h, seed), await implReport(h, seed));

/** Remove tags (and simplify moving tags) while the difference persists. */
async function shrink(h: History, seed: number, check: Check): Promise<History> {
  let current = h;
  let progress = true;
  while (progress) {
    progress = false;
    for (let i = 0; i < current.tags.length; i++) {
      const candidate = { ...current, tags: current.tags.filter((_, j) => j !== i) };
      if (await check(candidate, seed)) {
        current = candidate;
        progress = true;
        i--;
      }
    }
    // Simpler moving tags: missing, then pushed last; only ever towards the simpler one.
    for (const env of envs) {
      const simpler = [null, current.tags.filter((x) => x.env === env).at(-1)?.digest ?? null];
      const rank = simpler.indexOf(current.moving[env]);
      for (const moving of simpler.slice(0, rank < 0 ? simpler.length : rank)) {
        const candidate = { ...current, moving: { ...current.moving, [env]: moving } };
        if (await check(candidate, seed)) {
          current = candidate;
          progress = true;
          break;
        }
      }
    }
  }
  return current;
}

function describeHistory(h: History): string {
  const lines = [`now ${new Date(h.nowMs).toISOString()}${h.hub ? ' (Docker Hub API)' : ''}`];
  for (const x of [...h.tags].sort((a, b) => b.time - a.time || (a.tag < b.tag ? 1 : -1))) {
    lines.push(`  ${x.tag}  ${x.digest.slice(7, 19)}${h.gone.includes(x.digest) ? ' (gone)' : ''}`);
  }
  for (const env of envs) lines.push(`  moving ${env} -> ${h.moving[env]?.slice(7, 19) ?? '(missing)'}${h.movedAt[env] !== undefined ? ` pushed ${new Date(h.movedAt[env]!).toISOString()}` : ''}`);
  return lines.join('\n');
}

async function runModel(seeds: number[], check: Check): Promise<{ seed: number; history: History; difference: string } | null> {
  for (const seed of seeds) {
    const h = generate(seed);
    const difference = await check(h, seed);
    if (difference) {
      const small = await shrink(h, seed, check);
      return { seed, history: small, difference: (await check(small, seed)) ?? difference };
    }
  }
  return null;
}

const runs = Number(process.env.TC_PROMOTE_MODEL_RUNS ?? 2000);
const seeds = process.env.TC_PROMOTE_MODEL_SEED !== undefined ? [Number(process.env.TC_PROMOTE_MODEL_SEED)] : Array.from({ length: runs }, (_, i) => 1000 + i);

describe('history semantics against a reference model', () => {
  it(`agrees on ${seeds.length} seeded histories: current, live times, rollbacks, redeploys, promotions, rebuilds, targets and reasons`, { timeout: 300_000 }, async () => {
    const failure = await runModel(seeds, checkReal);
    if (failure) {
      throw new Error(`history seed ${failure.seed} (TC_PROMOTE_MODEL_SEED=${failure.seed} replays it), shrunk to ${failure.history.tags.length} tag(s):\n${describeHistory(failure.history)}\nfirst difference: ${failure.difference}`);
    }
  });

  it('covers what it claims: every kind of history occurs among the seeds', () => {
    const seen = new Set<string>();
    for (const seed of seeds.slice(0, 2000)) {
      const h = generate(seed);
      const m = new Model(h);
      const ds = m.deploys('production');
      if (h.tags.some((x, i) => h.tags.some((y, j) => j < i && y.time === x.time))) seen.add('equal timestamps');
      if (h.tags.some((x) => x.revision === null)) seen.add('gap era');
      if (h.tags.some((x) => /^\w+-\d+\.\d+\.\d+-/.test(x.tag))) seen.add('oldest era');
      if (h.gone.length) seen.add('gone image');
      if (h.hub) seen.add('Docker Hub');
      for (const env of envs) {
        const c = m.current(env);
        if (c > 0) seen.add('moved back');
        if (c < 0 && h.moving[env] !== null && m.deploys(env).length) seen.add('moving tag ahead of its archive tag');
      }
      ds.forEach((d, i) => {
        if (m.rolledBack('production', i)) seen.add('rollback');
        if (m.rebuildOf(d)) seen.add('rebuild');
        const from = m.promotedFrom(d);
        if (from?.startsWith('dev-')) seen.add('promotion across environments');
        else if (from) seen.add('retag rollback or redeploy');
      });
    }
    expect([...seen].sort()).toEqual(
      ['Docker Hub', 'equal timestamps', 'gap era', 'gone image', 'moved back', 'moving tag ahead of its archive tag', 'oldest era', 'promotion across environments', 'rebuild', 'retag rollback or redeploy', 'rollback'].sort(),
    );
  });

  it('can fail: a planted bug (equal timestamps ordered the other way) is caught and shrunk to a few tags', async () => {
    // The real analysis fed tags in the wrong tie order: the check must notice and shrink.
    const planted: Check = async (h, seed) => {
      const expected = expectedReport(h, seed).envs;
      const digestOf = new Map(observed(h).map((d) => [d.tag, d.digest]));
      const tags = archiveTags(h).sort((a, b) => b.epochMs - a.epochMs || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      const moving = new Map<string, MovingState>(envs.map((env) => [env, { digest: h.moving[env] }]));
      const a = analyseRepository(tags, (tag) => digestOf.get(tag), moving, h.nowMs);
      const got: Report['envs'] = {};
      for (const env of envs) {
        const e = a.envs.get(env);
        got[env] = {
          current: e && e.currentIndex >= 0 ? e.deploys[e.currentIndex]!.tag : null,
          deploys: (e?.deploys ?? []).map((d) => ({ tag: d.tag, liveSeconds: d.liveSeconds, rolledBack: d.rolledBack, redeployOf: d.redeployOf, promotedFrom: d.promotedFrom, rebuildOf: d.rebuildOf })),
        };
      }
      // Hub histories carry push times this planted analysis does not read: only the others count.
      return h.hub ? null : firstDifference(expected, got);
    };
    const failure = await runModel(seeds.slice(0, 500), planted);
    expect(failure).not.toBeNull();
    expect(failure!.history.tags.length).toBeLessThanOrEqual(3);
    expect(failure!.history.tags.some((x, i) => failure!.history.tags.some((y, j) => j !== i && y.time === x.time))).toBe(true);
  });
});
