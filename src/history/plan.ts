/**
 * Resolve what a promotion would do: current, target (previous-known-good by default, or the
 * one asked for), the route, and every warning a release engineer should read first.
 */
import { expandPattern } from '../config/load.js';
import { NotFoundError, UsageError, quote } from '../errors.js';
import { deployBranchWarnings, type DeployBranchCheck } from '../github/deploy-branch.js';
import { readProvenance, type Provenance } from '../registry/provenance.js';
import { formatReference, isDigest, normalizeRegistry, parseReference, type ImageReference } from '../registry/reference.js';
import { formatDuration } from '../util/duration.js';
import { analyseDeploys, judgeCandidate, type Deploy, type PreviousCriteria } from './analyse.js';
import { loadHistory, range, type EnvironmentHistory } from './history.js';
import { openEnvironment, type Runtime } from './runtime.js';
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

/** A target that no archive tag records (a digest asked for, or a moving tag without archive). */
export interface TargetDeploy extends Omit<Deploy, 'tag' | 'date' | 'era' | 'liveSeconds'> {
  tag: string | null;
  date: string | null;
  era: Deploy['era'] | null;
  liveSeconds: number | null;
  /** Whether the image still exists where the promotion copies it from. */
  available: boolean;
  /** The repository the promotion copies from. */
  source: string;
}

export interface Plan {
  script: string;
  env: string;
  route: Route;
  current: Deploy | null;
  target: TargetDeploy;
  warnings: string[];
  tasks: unknown[];
  /** The moving tag and its digest at plan time: promote tasks compare-and-swap on it. */
  movingTag: string;
  movingDigest: string | null;
  repository: string;
  /** The environment's targets: every tag the promotion points. */
  destinations: string[];
  /** /app/version.json of the target image against the revision its archive tag claims (not read offline). */
  provenance?: Provenance | null;
  /** The deploy branch against the target; its head is the graph's force-push lease. Absent: not checked. */
  deployBranch?: DeployBranchCheck;
}

const oneDay = 86_400;

export async function planPromotion(runtime: Runtime, request: PlanRequest): Promise<Plan> {
  if (request.to !== undefined && request.fromEnv !== undefined) throw new UsageError('--to and --from-env: give one target, not both');
  if (request.route !== undefined && !(routes as readonly string[]).includes(request.route)) {
    throw new UsageError(`--route: ${quote(request.route)} is not a route; one of ${routes.join(', ')}`);
  }
  const view = openEnvironment(runtime, request.script, request.env);
  if (request.fromEnv === view.env) throw new UsageError(`--from-env: ${quote(request.fromEnv)} is the environment being promoted to`);
  const history = await loadHistory(runtime, view);
  const warnings = [...history.warnings];

  let target: TargetDeploy;
  if (request.fromEnv !== undefined) {
    target = await resolveFromEnvironment(runtime, request.script, request.fromEnv, warnings);
  } else if (request.to !== undefined) {
    target = await resolveNamedTarget(history, request.to, warnings);
  } else {
    target = await resolvePreviousKnownGood(history, { skip: request.skip ?? [], ...(request.minLiveSeconds !== undefined && { minLiveSeconds: request.minLiveSeconds }) });
  }
  const current = history.current;
  if (target.liveSeconds !== null && target.liveSeconds < oneDay) {
    warnings.push(`target ${target.tag} was live ${formatDuration(target.liveSeconds)} before the next deploy: under 24 hours, not proven`);
  }
  if (target.rolledBack) warnings.push(`target ${target.tag} was itself rolled back once`);
  if (current && target.digest !== undefined && target.digest === current.digest) {
    warnings.push(`target ${target.digest} is already current: the promotion changes nothing`);
  } else if (target.digest !== undefined && target.digest === history.movingDigest) {
    warnings.push(`target ${target.digest} is what ${view.settings.movingTag} points at now: the promotion changes nothing`);
  }
  const route = chooseRoute(request.route as Route | undefined, target, warnings);
  // The deploy branch is read while the image's provenance is.
  const branchCheck = runtime.checkDeployBranch?.(view.env, view.script, target.revision);
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
  }
  const deployBranch = await branchCheck;
  if (deployBranch) warnings.push(...deployBranchWarnings(deployBranch, route));
  return {
    script: view.script,
    env: view.env,
    route,
    current,
    target,
    warnings,
    tasks: [],
    movingTag: view.settings.movingTag,
    movingDigest: history.movingDigest,
    repository: formatReference(view.repo),
    destinations: view.settings.targets.map((t) =>
      formatReference({ registry: runtime.registryOverride ?? normalizeRegistry(t.registry), repository: expandPattern(t.repository, view.script), tag: t.tag }),
    ),
    provenance,
    ...(deployBranch && { deployBranch }),
  };
}

function chooseRoute(asked: Route | undefined, target: TargetDeploy, warnings: string[]): Route {
  const name = target.tag ?? target.digest ?? 'target';
  if (asked === 'retag' && !target.available) {
    throw new NotFoundError(`--route retag: the image of ${name} is gone from ${target.source}; use --route rebuild to rebuild revision ${target.revision ?? '(unknown)'}`);
  }
  if ((asked === 'rebuild' || asked === 'rerun' || !target.available) && target.revision === null) {
    throw new NotFoundError(`${name}: ${target.available ? `route ${asked}` : 'the image is gone and'} needs a revision, and no archive tag records one`);
  }
  if (asked) return asked;
  if (!target.available) {
    warnings.push(`the image of ${name} is gone from ${target.source}: the route is rebuild (force-push ${target.revision} to the deploy branch)`);
    return 'rebuild';
  }
  return 'retag';
}

function toTarget(history: EnvironmentHistory, deploy: Deploy): TargetDeploy {
  const gone = history.isGone(deploy.tag);
  return { ...deploy, available: !gone && deploy.digest !== undefined, source: formatReference(history.view.repo) };
}

/** The newest deploy older than current that differs from it, was not rolled back, is not skipped and lived long enough. */
export async function resolvePreviousKnownGood(history: EnvironmentHistory, criteria: PreviousCriteria): Promise<TargetDeploy> {
  const current = history.current;
  if (!current) {
    throw new NotFoundError(
      `cannot choose a previous-known-good image without knowing current: ${history.warnings[0] ?? 'no deploys'}. Name a target with --to TAG|REVISION|DIGEST`,
    );
  }
  const passedOver: string[] = [];
  for (let i = history.currentIndex + 1; i < history.deploys.length; i++) {
    let deploy = history.deploys[i]!;
    let verdict = judgeCandidate(deploy, current, criteria);
    if (verdict === 'needs-digest' && !history.isGone(deploy.tag)) {
      // Look up this one and the next few that could qualify, in one batch.
      const batch = range(i, history.deploys.length).filter((j) => {
        const v = judgeCandidate(history.deploys[j]!, current, criteria);
        return v === 'needs-digest';
      });
      await history.lookUp(batch.slice(0, history.options.batchSize));
      deploy = history.deploys[i]!;
      verdict = judgeCandidate(deploy, current, criteria);
    }
    if (verdict === 'needs-digest' && history.isGone(deploy.tag)) verdict = 'candidate';
    if (verdict === 'candidate') return toTarget(history, deploy);
    passedOver.push(`${deploy.tag} (${verdict})`);
  }
  const detail = passedOver.length ? `; passed over: ${passedOver.slice(0, 10).join(', ')}${passedOver.length > 10 ? ', …' : ''}` : '';
  throw new NotFoundError(`no previous-known-good deploy older than ${current.tag}${detail}`);
}

async function resolveNamedTarget(history: EnvironmentHistory, to: string, warnings: string[]): Promise<TargetDeploy> {
  const { runtime, view } = history;
  const where = formatReference(view.repo);
  if (to.startsWith('sha256:')) {
    if (!isDigest(to)) throw new UsageError(`--to: ${quote(to)} is not a sha256 digest (sha256: and 64 lowercase hex)`);
    if (!(await view.source.hasDigest(to))) throw new NotFoundError(`--to: ${to} does not exist in ${where}`);
    // Which deploy was it? Look up newest first, as far as the lookup limit.
    let index = -1;
    const find = (): number => history.archive.findIndex((t) => view.source.knownDigest(t.tag) === to);
    index = find();
    while (index < 0 && history.lookedUpCount < history.options.lookupLimit && (await history.lookUpNextBatch())) index = find();
    if (index >= 0) return toTarget(history, history.deploys[index]!);
    warnings.push(`no archive tag of ${view.env} (newest ${Math.min(history.lookedUpCount, history.archive.length)} checked) records ${to}: its revision and deploy date are unknown`);
    return { tag: null, env: view.env, era: null, date: null, revision: null, digest: to, liveSeconds: null, current: false, rolledBack: false, redeployOf: null, available: true, source: where };
  }
  const grammar = grammarFor(runtime.config, runtime.nowMs);
  const classified = classifyTag(to, grammar);
  if (classified.kind === 'archive') {
    const found = history.allArchive.find((t) => t.tag === to);
    if (!found) throw new NotFoundError(`--to: archive tag ${quote(to)} does not exist in ${where}`);
    return targetFromArchive(history, found.tag, found.env);
  }
  if (/^[0-9a-f]{7,40}$/.test(to)) {
    const matching = history.allArchive.filter((t) => t.revision?.startsWith(to));
    const revisions = [...new Set(matching.map((t) => t.revision))];
    if (revisions.length > 1) {
      throw new UsageError(`--to: revision prefix ${quote(to)} is ambiguous: ${revisions.slice(0, 5).join(', ')}${revisions.length > 5 ? ', …' : ''}`);
    }
    if (revisions.length === 0) throw new NotFoundError(`--to: no archive tag in ${where} records revision ${quote(to)}`);
    // The newest deploy of it, in this environment when it was deployed here.
    const own = matching.find((t) => t.env === view.settings.archivePrefix) ?? matching[0]!;
    return targetFromArchive(history, own.tag, own.env);
  }
  if (/^[0-9A-Fa-f]{1,6}$/.test(to)) throw new UsageError(`--to: revision prefix ${quote(to)} is too short; give at least 7 hex characters`);
  throw new UsageError(`--to: ${quote(to)} is not an archive tag${classified.kind === 'ignored' && to.includes('-') ? ` (${classified.reason})` : ''}, a revision (7 to 40 lowercase hex) or a digest (sha256:…)`);
}

async function targetFromArchive(history: EnvironmentHistory, tag: string, env: string): Promise<TargetDeploy> {
  const { view } = history;
  await view.source.digestsOf([tag]);
  if (env === view.settings.archivePrefix) {
    history.reanalyse();
    const index = history.archive.findIndex((t) => t.tag === tag);
    return toTarget(history, history.deploys[index]!);
  }
  // An archive tag of another environment in the same repository: analyse that environment's list.
  const others = history.allArchive.filter((t) => t.env === env);
  const deploys = analyseDeploys(others, view.source.knownDigests(), history.runtime.nowMs);
  return toTarget(history, deploys.find((d) => d.tag === tag)!);
}

async function resolveFromEnvironment(runtime: Runtime, script: string | undefined, fromEnv: string, warnings: string[]): Promise<TargetDeploy> {
  const view = openEnvironment(runtime, script, fromEnv, '--from-env');
  const other = await loadHistory(runtime, view);
  warnings.push(...other.warnings.map((w) => `${fromEnv}: ${w}`));
  if (other.current) return toTarget(other, other.current);
  if (other.movingDigest === null) throw new NotFoundError(`--from-env ${fromEnv}: its moving tag ${view.settings.movingTag} does not exist in ${formatReference(view.repo)}`);
  return {
    tag: null,
    env: fromEnv,
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
  };
}

export type { ImageReference };
