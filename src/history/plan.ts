/**
 * Resolve what a promotion would do: current, target (previous-known-good by default, or the
 * one asked for), the route, and every warning a release engineer should read first. Every
 * choice is explained (passedOver, labels, warnings) or refused with the way out named.
 */
import { expandPattern } from '../config/load.js';
import { NotFoundError, UsageError, quote } from '../errors.js';
import type { CommitsBetween } from '../github/commits.js';
import { deployBranchWarnings, type DeployBranchCheck } from '../github/deploy-branch.js';
import { readProvenance, type Provenance } from '../registry/provenance.js';
import { formatReference, isDigest, normalizeRegistry, parseReference, type ImageReference } from '../registry/reference.js';
import { formatDuration } from '../util/duration.js';
import { imageLive, type Deploy, type ImageLive } from './analyse.js';
import { loadHistory, type EnvironmentHistory, type SettleOptions } from './history.js';
import { openEnvironment, type Runtime } from './runtime.js';
import { checkSkipValues, parseSkip, skipMatches, type PassedOver, type SelectionCriteria, type SkipValue } from './select.js';
import { classifyTag, grammarFor } from './tags.js';

export const routes = ['retag', 'rebuild', 'rerun'] as const;
export type Route = (typeof routes)[number];

export interface PlanRequest {
  script: string | undefined;
  env?: string;
  to?: string;
  fromEnv?: string;
  route?: string;
  minLiveSeconds?: number;
  skip?: readonly string[];
}

/** How the target was chosen. */
export type TargetChoice = 'previous-known-good' | 'tag' | 'revision' | 'digest' | 'from-env';

/** A target that no archive tag records (a digest asked for, or a moving tag without archive). */
export interface TargetDeploy extends Omit<Deploy, 'tag' | 'date' | 'era' | 'liveSeconds' | 'promotedFrom' | 'rebuildOf'> {
  tag: string | null;
  date: string | null;
  era: Deploy['era'] | null;
  liveSeconds: number | null;
  promotedFrom?: string | null;
  rebuildOf?: string | null;
  /** Whether the image still exists where the promotion copies it from. */
  available: boolean;
  /** The repository the promotion copies from. */
  source: string;
  chosenBy?: TargetChoice;
  /** The image's live time over every deploy of its digest, any environment (absent: not known). */
  imageLive?: ImageLive;
  /** Where `revision` came from when no archive tag names it: the image's /app/version.json. */
  revisionFrom?: 'version.json';
}

export interface Plan {
  script: string;
  env: string;
  route: Route;
  current: Deploy | null;
  target: TargetDeploy;
  warnings: string[];
  tasks: unknown[];
  /** Newer deploys the selection passed over, newest first, with the reason (previous-known-good only). */
  passedOver?: PassedOver[];
  /** The moving tag and its digest at plan time: promote tasks compare-and-swap on it. */
  movingTag: string;
  movingDigest: string | null;
  repository: string;
  /** The environment's targets: every tag the promotion points. */
  destinations: string[];
  /** The environment's archive prefix (the archive tag a promotion writes starts with it). */
  archivePrefix?: string;
  /** /app/version.json of the target image against the revision its archive tag claims (not read offline). */
  provenance?: Provenance | null;
  /** The deploy branch against the target; its head is the graph's force-push lease. Absent: not checked. */
  deployBranch?: DeployBranchCheck;
  /** The commits the promotion undoes (or deploys), from GitHub; absent: not asked. */
  commits?: CommitsBetween;
}

const oneDay = 86_400;

export async function planPromotion(runtime: Runtime, request: PlanRequest): Promise<Plan> {
  if (request.to !== undefined && request.fromEnv !== undefined) throw new UsageError('--to and --from-env: give one target, not both');
  if (request.route !== undefined && !(routes as readonly string[]).includes(request.route)) {
    throw new UsageError(`--route: ${quote(request.route)} is not a route; one of ${routes.join(', ')}`);
  }
  const named = request.to !== undefined ? '--to' : request.fromEnv !== undefined ? '--from-env' : undefined;
  if (named && request.skip?.length) {
    throw new UsageError(`--skip: passes over candidates of the previous-known-good; with ${named} there is no choice to skip (drop --skip, or drop ${named})`);
  }
  const view = openEnvironment(runtime, request.script, request.env);
  if (request.fromEnv === view.env) throw new UsageError(`--from-env: ${quote(request.fromEnv)} is the environment being promoted to`);
  // Opened before any request, so that a bad environment name is refused first.
  const fromView = request.fromEnv !== undefined ? openEnvironment(runtime, request.script, request.fromEnv, '--from-env') : undefined;
  if (request.to !== undefined) {
    // An environment's name or moving tag: what runs there is --from-env's (or current).
    const moving = Object.entries(runtime.config.environments).find(([name, e]) => name === request.to || e.movingTag === request.to);
    if (moving) {
      const [name] = moving;
      if (name === view.env) throw new UsageError(`--to: ${quote(request.to)} is ${view.env}'s own moving tag, what runs now (current); name an older deploy (a tag, revision or digest; tc-promote history ${view.script} --env ${view.env} lists them)`);
      throw new UsageError(`--to: ${quote(request.to)} is the moving tag of ${name}; to promote what ${name} runs now, use --from-env ${name} (tc-promote promote ${view.script} --from-env ${name}), or name one of its deploys with --to ${moving[1].archivePrefix}-…`);
    }
  }
  const skip = (request.skip ?? []).map(parseSkip);
  // On Docker Hub, only the newest pages the answer needs: current and, choosing the
  // previous-known-good, it and every deploy it passes over. A named target (--to) and
  // --min-live (an image's live time counts its every deploy) read every page.
  const settle: SettleOptions | undefined =
    request.to !== undefined || request.minLiveSeconds !== undefined ? undefined : fromView !== undefined ? {} : { criteria: { skip, ...(request.route === 'retag' && { existingOnly: true }) } };
  const history = await loadHistory(runtime, view, settle ? { settle } : {});
  const warnings = [...history.warnings];
  await checkSkips(history, skip);

  let target: TargetDeploy;
  let passedOver: PassedOver[] | undefined;
  const asked = request.route as Route | undefined;
  if (fromView !== undefined) {
    target = await resolveFromEnvironment(runtime, fromView, warnings);
  } else if (request.to !== undefined) {
    target = await resolveNamedTarget(history, request.to, warnings);
  } else {
    const criteria: SelectionCriteria = {
      skip,
      ...(request.minLiveSeconds !== undefined && { minLiveSeconds: request.minLiveSeconds }),
      // Only an image that exists can be retagged: asked for retag, pass over gone ones (and say so).
      ...(asked === 'retag' && { existingOnly: true }),
    };
    ({ target, passedOver } = await resolvePreviousKnownGood(history, criteria));
    for (const value of skip) {
      const matched = history.deploys.map((d, i) => (skipMatches(value, d) ? i : -1)).filter((i) => i >= 0);
      if (matched.length && matched.every((i) => i <= history.currentIndex)) {
        warnings.push(`--skip ${value.text} matches only ${history.deploys[matched[0]!]!.tag}${matched.length > 1 ? ` and ${matched.length - 1} other(s)` : ''}, current or newer: no candidate is older, so it changes nothing`);
      }
    }
    if (!target.available && asked === undefined) {
      const alternative = await history.selectPrevious({ ...criteria, existingOnly: true });
      const other = alternative.index >= 0 ? history.deploys[alternative.index]!.tag : null;
      warnings.push(
        `the image of ${target.tag} is gone from ${target.source}: the route is rebuild (force-push ${target.revision} to the deploy branch)${other ? `; --route retag would pass over it to ${other}, the newest older deploy whose image exists` : ''}`,
      );
    }
  }
  const current = history.current;
  await describeTarget(history, target, request, warnings);
  if (target.rolledBack) warnings.push(`target ${target.tag} was itself rolled back once`);
  if (current && target.digest !== undefined && target.digest === current.digest) {
    warnings.push(`target ${target.digest} is already current: the promotion changes nothing`);
  } else if (target.digest !== undefined && target.digest === history.movingDigest) {
    warnings.push(`target ${target.digest} is what ${view.settings.movingTag} points at now: the promotion changes nothing`);
  }
  const route = chooseRoute(asked, target, warnings, passedOver !== undefined);
  // The deploy branch is read while the image's provenance is.
  const branchCheck = runtime.checkDeployBranch?.(view.env, view.script, target.revision);
  // And the commits between current and the target (never an error: a note when GitHub does not answer).
  const commitList = runtime.listCommits?.(current?.revision ?? null, target.revision);
  commitList?.catch(() => undefined);
  let provenance: Provenance | null = null;
  if (target.available && target.digest !== undefined) {
    const source = parseReference(target.source, 'target source');
    provenance = await readProvenance(runtime.client, { registry: source.registry, repository: source.repository, digest: target.digest }, target.revision).catch(async (error: unknown) => {
      await branchCheck?.catch(() => undefined);
      throw error;
    });
    if (provenance.matches === false) {
      warnings.push(`target image's /app/version.json says commit ${provenance.version?.commit ?? '?'}, but ${target.tag ?? 'its tag'} claims ${target.revision}: the promote step will refuse it`);
    } else if (provenance.version === null) {
      warnings.push(`target image has no /app/version.json: its revision cannot be checked`);
    }
    // No archive tag names the revision (a digest, a moving tag ahead of its archive tag, the
    // gap era): the image says it. Without it the promotion would write no archive tag, and
    // the environment's next history would not know what is live.
    const commit = provenance.version?.commit;
    if (target.revision === null && route === 'retag' && typeof commit === 'string' && /^[0-9a-f]{40}$/.test(commit)) {
      target.revision = commit;
      target.revisionFrom = 'version.json';
      warnings.push(`target ${target.tag ?? target.digest}: no archive tag names its revision; its /app/version.json says ${commit}, and the promotion's archive tag records that (the promote step checks it against the image again)`);
    }
  }
  const deployBranch = await branchCheck;
  if (deployBranch) warnings.push(...deployBranchWarnings(deployBranch, route));
  const commits = await commitList;
  if (history.listingNote !== undefined) warnings.push(history.listingNote);
  return {
    script: view.script,
    env: view.env,
    route,
    current,
    target,
    warnings,
    tasks: [],
    ...(passedOver !== undefined && { passedOver }),
    movingTag: view.settings.movingTag,
    movingDigest: history.movingDigest,
    repository: formatReference(view.repo),
    destinations: view.settings.targets.map((t) =>
      formatReference({ registry: runtime.registryOverride ?? normalizeRegistry(t.registry), repository: expandPattern(t.repository, view.script), tag: t.tag }),
    ),
    archivePrefix: view.settings.archivePrefix,
    provenance,
    ...(deployBranch && { deployBranch }),
    ...(commits && { commits }),
  };
}

/**
 * Resolve the digests of deploys not looked up yet, newest first, two batches at a time and as
 * far as the lookup limit, until `found()` says what was sought is known (or nothing is left).
 */
async function lookUpUntil(history: EnvironmentHistory, found: () => boolean): Promise<void> {
  while (!found()) {
    const analysis = history.analysis;
    const next = history.deploys
      .slice(0, history.options.lookupLimit)
      .filter((d) => analysis.isUnknown(d.tag))
      .slice(0, history.options.batchSize * 2)
      .map((d) => d.tag);
    if (!next.length) return;
    await history.lookUp(next);
  }
}

/**
 * Every --skip value must match a deploy of the environment: a tag exactly, a revision prefix
 * (any case), a digest exactly. Digests are looked up, newest first, as far as the lookup limit.
 */
async function checkSkips(history: EnvironmentHistory, skip: readonly SkipValue[]): Promise<void> {
  if (!skip.length) return;
  let unmatched: ReturnType<typeof checkSkipValues>['unmatched'] = [];
  await lookUpUntil(history, () => {
    ({ unmatched } = checkSkipValues(history.environment, skip));
    return !unmatched.some((s) => s.kind === 'digest');
  });
  const s = unmatched[0];
  if (!s) return;
  const env = history.view.env;
  const elsewhere = history.analysis.envs.size > 1 ? [...history.analysis.envs.values()].filter((e) => e.env !== history.prefix).flatMap((e) => e.deploys.filter((d) => skipMatches(s, d)).slice(0, 1)) : [];
  const hint = elsewhere.length ? ` (${elsewhere[0]!.tag} is a deploy of ${elsewhere[0]!.env}, another environment)` : '';
  const how =
    s.kind === 'digest'
      ? `no deploy of ${env} has that digest (the newest ${Math.min(history.deploys.length, history.options.lookupLimit)} were looked up)`
      : s.kind === 'revision'
        ? `no deploy of ${env} has a revision starting with it`
        : `it is not a deploy of ${env} (tags match exactly; revisions by a prefix of 7 to 40 hex; digests as sha256:…)`;
  throw new UsageError(`--skip: ${quote(s.text)} matched nothing: ${how}${hint}; tc-promote history ${history.view.script} --env ${env} lists its deploys`);
}

function chooseRoute(asked: Route | undefined, target: TargetDeploy, warnings: string[], selected: boolean): Route {
  const name = target.tag ?? target.digest ?? 'target';
  if (asked === 'retag' && !target.available) {
    throw new NotFoundError(`--route retag: the image of ${name} is gone from ${target.source}; use --route rebuild to rebuild revision ${target.revision ?? '(unknown)'}`);
  }
  if ((asked === 'rebuild' || asked === 'rerun' || !target.available) && target.revision === null) {
    throw new NotFoundError(`${name}: ${target.available ? `route ${asked}` : 'the image is gone and'} needs a revision, and no archive tag records one`);
  }
  if (asked) return asked;
  if (!target.available) {
    // The previous-known-good path has said it already, with the alternative.
    if (!selected) warnings.push(`the image of ${name} is gone from ${target.source}: the route is rebuild (force-push ${target.revision} to the deploy branch)`);
    return 'rebuild';
  }
  return 'retag';
}

function toTarget(history: EnvironmentHistory, deploy: Deploy, chosenBy: TargetChoice): TargetDeploy {
  const gone = history.isGone(deploy.tag);
  return { ...deploy, available: !gone && deploy.digest !== undefined, source: formatReference(history.view.repo), chosenBy };
}

/** The newest deploy older than current that differs from it, was not rolled back, is not skipped and lived long enough. */
export async function resolvePreviousKnownGood(history: EnvironmentHistory, criteria: SelectionCriteria): Promise<{ target: TargetDeploy; passedOver: PassedOver[] }> {
  const current = history.current;
  if (!current) {
    throw new NotFoundError(
      `cannot choose a previous-known-good image without knowing current: ${history.warnings[0] ?? 'no deploys'}. Name a target with --to TAG|REVISION|DIGEST`,
    );
  }
  const selection = await history.selectPrevious(criteria);
  if (selection.index < 0) {
    const passed = selection.passedOver;
    const detail = passed.length ? `; passed over: ${passed.slice(0, 10).map((p) => `${p.tag} (${p.reason})`).join(', ')}${passed.length > 10 ? `, … (${passed.length - 10} more)` : ''}` : '';
    const why = 'reason' in selection && selection.reason !== 'no older deploy qualifies' ? `: ${selection.reason}` : '';
    // Refused for --min-live alone: the deploys it refused and how long each lived, and the way out.
    const short = criteria.minLiveSeconds !== undefined ? passed.filter((p) => /^lived \S+ < --min-live/.test(p.reason)) : [];
    if (short.length) {
      const lived = short.slice(0, 6).map((p) => `${p.tag} lived ${/^lived (\S+)/.exec(p.reason)![1]}`);
      throw new NotFoundError(
        `--min-live ${formatDuration(criteria.minLiveSeconds!)}: no deploy older than ${current.tag} lived that long and qualifies otherwise; refused for their live time (newest first): ${lived.join(', ')}${short.length > 6 ? `, … (${short.length - 6} more)` : ''}; give a shorter --min-live, or name a target with --to TAG|REVISION|DIGEST`,
      );
    }
    throw new NotFoundError(`no previous-known-good deploy older than ${current.tag}${why}${detail}; name a target with --to TAG|REVISION|DIGEST`);
  }
  return { target: toTarget(history, history.deploys[selection.index]!, 'previous-known-good'), passedOver: selection.passedOver };
}

async function resolveNamedTarget(history: EnvironmentHistory, to: string, warnings: string[]): Promise<TargetDeploy> {
  const { runtime, view } = history;
  const where = formatReference(view.repo);
  if (to.startsWith('sha256:')) {
    if (!isDigest(to)) throw new UsageError(`--to: ${quote(to)} is not a sha256 digest (sha256: and 64 lowercase hex)`);
    if (!(await view.source.hasDigest(to))) throw new NotFoundError(`--to: ${to} does not exist in ${where}`);
    // Which deploy was it? Look up newest first, as far as the lookup limit.
    const find = (): number => history.deploys.findIndex((d) => d.digest === to);
    let index = find();
    await lookUpUntil(history, () => (index = find()) >= 0);
    if (index >= 0) return toTarget(history, history.deploys[index]!, 'digest');
    // Another environment's image (a build for dev, say): say which, and promote it as that deploy.
    const other = await history.findInOtherEnvironments(to, history.options.lookupLimit);
    if (other) return targetFromArchive(history, other.tag, other.env, 'digest', warnings);
    warnings.push(`no archive tag of ${view.env} (newest ${Math.min(history.lookedUpCount, history.deploys.length)} checked) records ${to}: its revision and deploy date are unknown`);
    return { tag: null, env: view.env, era: null, date: null, revision: null, digest: to, liveSeconds: null, current: false, rolledBack: false, redeployOf: null, available: true, source: where, chosenBy: 'digest' };
  }
  const grammar = grammarFor(runtime.config, runtime.nowMs);
  const classified = classifyTag(to, grammar);
  if (classified.kind === 'archive') {
    const found = history.allArchive.find((t) => t.tag === to);
    if (!found) throw new NotFoundError(`--to: archive tag ${quote(to)} does not exist in ${where}`);
    return targetFromArchive(history, found.tag, found.env, 'tag', warnings);
  }
  if (/^[0-9a-fA-F]{7,40}$/.test(to)) {
    const prefix = to.toLowerCase();
    const own = history.deploys.filter((d) => d.revision?.startsWith(prefix));
    const revisions = [...new Set(own.map((d) => d.revision))];
    if (revisions.length > 1) {
      throw new UsageError(`--to: revision prefix ${quote(to)} is ambiguous in ${view.env}: ${revisions.slice(0, 5).join(', ')}${revisions.length > 5 ? ', …' : ''}`);
    }
    if (own.length === 0) {
      // Only in the environment being promoted: another environment's image of the revision is another build.
      const others = history.allArchive.filter((t) => t.env !== view.settings.archivePrefix && t.revision?.startsWith(prefix));
      if (others.length) {
        const newest = others[0]!;
        throw new NotFoundError(
          `--to: no deploy of ${view.env} records revision ${quote(to)}; ${newest.env} has it (${newest.tag}, an image built for ${newest.env}): pass --to ${newest.tag} to promote that image, or --from-env ${envNameOf(runtime, newest.env)} to promote what ${newest.env} runs now`,
        );
      }
      throw new NotFoundError(`--to: no archive tag in ${where} records revision ${quote(to)}; tc-promote history ${view.script} --env ${view.env} lists the deploys`);
    }
    const elsewhere = [...new Set(history.allArchive.filter((t) => t.env !== view.settings.archivePrefix && t.revision?.startsWith(prefix) && t.revision !== revisions[0]).map((t) => `${t.revision} (${t.env})`))];
    if (elsewhere.length) warnings.push(`--to ${to}: the prefix also matches ${elsewhere.slice(0, 3).join(', ')} in another environment; it resolves in ${view.env} only, to ${revisions[0]}`);
    // The newest deploy of it; say so when the revision has other images here (a rebuild, say).
    await history.lookUp(own.map((d) => d.tag));
    const deploys = history.deploys.filter((d) => d.revision === revisions[0]);
    const images = [...new Set(deploys.map((d) => d.digest ?? '(gone)'))];
    if (images.length > 1) {
      const others = deploys.filter((d) => d.digest !== deploys[0]!.digest).slice(0, 3).map((d) => `${d.tag} (${d.digest ?? 'image gone'})`);
      warnings.push(`--to ${to}: revision ${revisions[0]} has ${images.length} images in ${view.env}; the newest deploy of it, ${deploys[0]!.tag}, was chosen; the other image(s): ${others.join(', ')}: name one with --to TAG`);
    }
    return targetFromArchive(history, deploys[0]!.tag, deploys[0]!.env, 'revision', warnings);
  }
  if (/^[0-9A-Fa-f]{1,6}$/.test(to)) throw new UsageError(`--to: revision prefix ${quote(to)} is too short; give at least 7 hex characters`);
  throw new UsageError(`--to: ${quote(to)} is not an archive tag${classified.kind === 'ignored' && to.includes('-') ? ` (${classified.reason})` : ''}, a revision (7 to 40 hex) or a digest (sha256:…)`);
}

function envNameOf(runtime: Runtime, prefix: string): string {
  return Object.keys(runtime.config.environments).find((name) => runtime.config.environments[name]!.archivePrefix === prefix) ?? prefix;
}

async function targetFromArchive(history: EnvironmentHistory, tag: string, env: string, chosenBy: TargetChoice, warnings: string[]): Promise<TargetDeploy> {
  await history.lookUp([tag]);
  if (env !== history.prefix) {
    // Another environment's deploy: its own moving tag says whether it is live there.
    await history.readMovingOf(env);
    warnings.push(`target ${tag} is a deploy of ${env}, not ${history.view.env}: the image built for ${env} would be promoted to ${history.view.env}`);
  }
  const analysis = history.analysis.envs.get(env)!;
  return toTarget(history, analysis.deploys[analysis.indexOfTag(tag)]!, chosenBy);
}

async function resolveFromEnvironment(runtime: Runtime, view: ReturnType<typeof openEnvironment>, warnings: string[]): Promise<TargetDeploy> {
  const other = await loadHistory(runtime, view, { settle: {} });
  warnings.push(...[...other.warnings, ...(other.listingNote !== undefined ? [other.listingNote] : [])].map((w) => `${view.env}: ${w}`));
  if (other.current) return toTarget(other, other.current, 'from-env');
  if (other.movingDigest === null) throw new NotFoundError(`--from-env ${view.env}: its moving tag ${view.settings.movingTag} does not exist in ${formatReference(view.repo)}`);
  return {
    tag: null,
    env: view.env,
    era: null,
    date: null,
    revision: null,
    digest: other.movingDigest,
    liveSeconds: null,
    current: false,
    rolledBack: false,
    redeployOf: null,
    available: true,
    source: formatReference(view.repo),
    chosenBy: 'from-env',
  };
}

/**
 * The target's live time is its image's: every deploy of the digest, in every environment
 * (looked up here: the deploys of its revision), and the time a moving tag was moved back to
 * it. Under a day is "not proven"; --min-live with a named target is a requirement.
 */
async function describeTarget(history: EnvironmentHistory, target: TargetDeploy, request: PlanRequest, warnings: string[]): Promise<void> {
  const name = target.tag ?? target.digest ?? 'target';
  const requireLive = (seconds: number, detail: string): void => {
    if (target.chosenBy !== 'previous-known-good' && request.minLiveSeconds !== undefined && seconds < request.minLiveSeconds) {
      throw new NotFoundError(`--min-live ${formatDuration(request.minLiveSeconds)}: target ${name} was live ${detail}; refusing`);
    }
  };
  if (target.tag === null) {
    warnings.push(`target ${name}: no archive tag records it, so how long it was live is unknown: not proven`);
    requireLive(0, 'for an unknown time (no archive tag records it)');
    return;
  }
  if (target.digest === undefined) {
    // The image is gone: its other deploys cannot be told by digest; its own time is what is known.
    const seconds = target.liveSeconds ?? 0;
    requireLive(seconds, `${formatDuration(seconds)} (its image is gone)`);
    if (seconds < oneDay) warnings.push(`target ${name} was live ${target.liveSeconds === null ? 'for an unknown time' : formatDuration(seconds)} (its image is gone, so other deploys of it are not counted): under 24 hours, not proven`);
    return;
  }
  const group = history.analysis.byRevision.get(target.revision ?? '') ?? [];
  await history.lookUp(group.map((d) => d.tag));
  const envs = new Set(history.analysis.byRevision.get(target.revision ?? '')?.map((d) => d.env) ?? []);
  await Promise.all([...envs].filter((e) => !history.analysis.envs.get(e)?.movingKnown).map((e) => history.readMovingOf(e)));
  const live = imageLive(history.analysis, target.digest);
  target.imageLive = live;
  // docs/contract.md, History judges "rolled back" per deploy: an older deploy of an image whose later
  // deploy was rolled back (a rollback that was undone) still qualifies. Say so.
  const rolledAgain = history.analysis.deploysOfDigest(target.digest).filter((d) => d.tag !== target.tag && d.rolledBack && d.env === history.prefix && target.date !== null && d.date >= target.date);
  if (rolledAgain.length) {
    warnings.push(`the image of target ${name} was rolled back when it was deployed again, as ${rolledAgain.map((d) => d.tag).join(', ')}: that deploy is passed over, this older one is not; look at why before promoting it again`);
  }
  const total = live.atLeast && live.seconds === 0 ? 'for an unknown time' : `${live.atLeast ? 'at least ' : ''}${formatDuration(live.seconds)}`;
  requireLive(live.seconds, `${total} in total (${describeParts(live)})`);
  if (live.seconds >= oneDay) return;
  const onlyCurrent = live.parts.length === 1 && live.parts[0]!.current && live.movedBack.length === 0;
  if (onlyCurrent) {
    const p = live.parts[0]!;
    warnings.push(`target ${name} has been live in ${p.env} for ${formatDuration(p.seconds ?? 0)}, still current there: under 24 hours, not proven`);
  } else {
    warnings.push(`target ${name} was live ${total}${total.startsWith('for') ? '' : ' in total'} over the ${live.parts.length} deploy(s) of its image (${describeParts(live)}): under 24 hours, not proven`);
  }
}

function describeParts(live: ImageLive): string {
  const parts = live.parts.map((p) => `${p.tag}: ${p.seconds === null ? 'unknown' : formatDuration(p.seconds)}${p.current ? `, still current in ${p.env}` : ''}`);
  for (const m of live.movedBack) parts.push(`${m.env} moving tag moved back to it: ${m.seconds === null ? 'since an unknown time' : formatDuration(m.seconds)}`);
  return parts.length > 5 ? `${parts.slice(0, 5).join('; ')}; … ${parts.length - 5} more` : parts.join('; ');
}

export type { ImageReference };
