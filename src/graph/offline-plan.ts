/**
 * A plan made without a registry: the target is given (`--target-tag`, `--target-digest`)
 * instead of resolved from history. `render --offline` uses it to show or check a graph
 * anywhere; `validate` uses it to render synthetic promotions for every script,
 * environment and route.
 */
import { expandPattern, requireEnvironment, requireScript, type Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import type { Plan, Route } from '../history/plan.js';
import { classifyTag } from '../history/tags.js';
import { formatReference, isDigest, normalizeRegistry, validateRepository } from '../registry/reference.js';
import { utcStamp } from './context.js';

// The route names, without loading history/plan.ts and with it the HTTP stack.
const routes: readonly Route[] = ['retag', 'rebuild', 'rerun'];

export interface OfflineRequest {
  script: string | undefined;
  env?: string;
  route?: string;
  targetTag?: string;
  targetDigest?: string;
  /** The moving tag's digest now (`none`: it does not exist); without it promote cannot compare-and-swap. */
  movingDigest?: string;
  registryOverride?: string;
  nowMs: number;
}

export function offlinePlan(config: Config, request: OfflineRequest): Plan {
  const script = requireScript(config, request.script);
  const [env, settings] = requireEnvironment(config, request.env);
  const warnings = ['offline: the target was given, not read from the registry; history, current and warnings about them are unknown'];
  let tag: string | null = null;
  let revision: string | null = null;
  let date: string | null = null;
  let era: Plan['target']['era'] = null;
  let targetEnv = env;
  if (request.targetTag !== undefined) {
    const envs = Object.values(config.environments);
    const parsed = classifyTag(request.targetTag, { prefixes: envs.map((e) => e.archivePrefix), movingTags: envs.map((e) => e.movingTag) });
    if (parsed.kind !== 'archive') throw new UsageError(`--target-tag: ${quote(request.targetTag)} is not an archive tag: ${parsed.reason}`);
    ({ tag, revision, date, era } = parsed);
    targetEnv = Object.entries(config.environments).find(([, s]) => s.archivePrefix === parsed.env)?.[0] ?? env;
  }
  if (request.targetDigest !== undefined && !isDigest(request.targetDigest)) {
    throw new UsageError(`--target-digest: ${quote(request.targetDigest)} is not a sha256 digest (sha256: and 64 lowercase hex)`);
  }
  if (request.movingDigest !== undefined && request.movingDigest !== 'none' && !isDigest(request.movingDigest)) {
    throw new UsageError(`--moving-digest: ${quote(request.movingDigest)} is not a sha256 digest or none`);
  }
  if (tag === null && request.targetDigest === undefined) throw new UsageError('--offline: give the target with --target-tag TAG and/or --target-digest DIGEST');
  if (request.route !== undefined && !(routes as readonly string[]).includes(request.route)) {
    throw new UsageError(`--route: ${quote(request.route)} is not a route; one of ${routes.join(', ')}`);
  }
  const route: Route = (request.route as Route | undefined) ?? (request.targetDigest !== undefined ? 'retag' : 'rebuild');
  if (route === 'retag' && request.targetDigest === undefined) throw new UsageError('--offline --route retag: give the image with --target-digest DIGEST');
  if (route !== 'retag' && revision === null) throw new UsageError(`--offline --route ${route}: needs a revision; give --target-tag with an archive tag that records one`);
  const registry = (r: string): string => request.registryOverride ?? normalizeRegistry(r);
  const sourceSettings = config.environments[targetEnv] ?? settings;
  const source = formatReference({ registry: registry(sourceSettings.source.registry), repository: validateRepository(expandPattern(sourceSettings.source.repository, script), `environments.${targetEnv}.source.repository`) });
  const repository = formatReference({ registry: registry(settings.source.registry), repository: validateRepository(expandPattern(settings.source.repository, script), `environments.${env}.source.repository`) });
  if (request.movingDigest === undefined && route === 'retag') warnings.push(`offline: the digest of ${settings.movingTag} is unknown (--moving-digest), so promote tasks will not compare-and-swap`);
  return {
    script,
    env,
    route,
    current: null,
    target: {
      tag,
      env: targetEnv,
      era,
      date,
      revision,
      ...(request.targetDigest !== undefined && { digest: request.targetDigest }),
      liveSeconds: null,
      current: false,
      rolledBack: false,
      redeployOf: null,
      available: request.targetDigest !== undefined,
      source,
    },
    warnings,
    tasks: [],
    movingTag: settings.movingTag,
    movingDigest: request.movingDigest === undefined || request.movingDigest === 'none' ? null : request.movingDigest,
    repository,
    destinations: settings.targets.map((t) => formatReference({ registry: registry(t.registry), repository: expandPattern(t.repository, script), tag: t.tag })),
  };
}

/** Whether the offline plan knows the moving tag's digest (or knows it is absent). */
export function offlineCompareAndSwap(request: Pick<OfflineRequest, 'movingDigest'>): boolean {
  return request.movingDigest !== undefined;
}

/** A deterministic stand-in revision (never a real one) for a synthetic promotion. */
export function syntheticRevision(seed: string): string {
  let out = '';
  for (let i = 0; out.length < 40; i++) out += ((seed.charCodeAt(i % seed.length) * 17 + i * 7) % 16).toString(16);
  return out;
}

/** One synthetic promotion of every kind the configuration can produce (validate, grants). */
export interface Combination {
  script: string;
  env: string;
  route: Route;
  allowFallback: boolean;
  /** `signingscript/production/retag (fallback allowed)`. */
  name: string;
  /** The target's stand-in revision, and the deploy branch's stand-in head. */
  revision: string;
  branchHead: string;
  /** The offline plan of it (made on demand: a caller may record its error per combination). */
  plan(): Plan;
}

/** Every script × environment × route (retag with and without the fallback allowed), a target archived a day before `nowMs`. */
export function* everyCombination(config: Config, nowMs: number): Generator<Combination> {
  const stamp = utcStamp(nowMs - 86_400_000);
  for (const script of config.scripts) {
    for (const [env, settings] of Object.entries(config.environments)) {
      const revision = syntheticRevision(`${script}/${env}`);
      for (const route of routes) {
        for (const allowFallback of route === 'retag' ? [false, true] : [false]) {
          yield {
            script,
            env,
            route,
            allowFallback,
            name: `${script}/${env}/${route}${allowFallback ? ' (fallback allowed)' : ''}`,
            revision,
            branchHead: syntheticRevision(`${script}/${env}/head`),
            plan: () =>
              offlinePlan(config, {
                script,
                env,
                route,
                targetTag: `${settings.archivePrefix}-${stamp}-${revision}`,
                targetDigest: `sha256:${revision.repeat(2).slice(0, 64)}`,
                movingDigest: `sha256:${revision.split('').reverse().join('').repeat(2).slice(0, 64)}`,
                nowMs,
              }),
          };
        }
      }
    }
  }
}
