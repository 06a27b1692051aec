/**
 * The json-e context every template renders with: the configuration and the plan, made
 * into plain data. This is the only way user input (reason, target, requester) reaches a
 * template: as context values, never spliced into template text. One clock (`now`) serves
 * `created`, `deadline` and `expires` of every task in a graph.
 *
 * The shape is documented for template authors in taskcluster/README.md.
 */
import { createRequire } from 'node:module';
import { expandPattern, type Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { deployBranchWarnings } from '../github/deploy-branch.js';
import type { Plan } from '../history/plan.js';
import { formatReference, parseReference } from '../registry/reference.js';

export const taskKinds = ['promote', 'fallback', 'force-push', 'rerun'] as const;
export type TaskKind = (typeof taskKinds)[number];

/** Where the template sources are published, for `metadata.source`. */
export const templatesSourceUrl = 'https://github.com/mozilla-releng/tc-promote/blob';
export const version: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Where tasks write artifacts (published as `public/…`); the image creates it. */
export const artifactsDir = '/builds/worker/artifacts';
const inlineConfigPath = '/tmp/tc-promote-config.yml';

export interface Destination {
  /** `registry/repository:tag`, as `tc-promote copy` takes it. */
  reference: string;
  repository: string;
  tag: string;
  /** `--expect-current`: the digest seen at plan time, `none` if the tag did not exist, null if unknown. */
  expectCurrent: string | null;
  /** `--archive-tag` written after the moving tag: the pushlog entry, null without a revision. */
  archiveTag: string | null;
}

export interface PromotionContext {
  script: string;
  env: string;
  route: Plan['route'];
  reason: string;
  requester: string;
  /** Whether the fallback task may force-push the target revision. */
  allowFallback: boolean;
  movingTag: string;
  movingDigest: string | null;
  repository: string;
  archivePrefix: string;
  /** The environment's deploy branch for this script (`production-<script>`). */
  deployBranch: string;
  sharedBranch: string;
  /** Branch head seen at plan time: the force-push lease, null if not read. */
  branchHead: string | null;
  /** Said in the description of a task that would force-push without a lease; empty otherwise. */
  leaseNote: string;
  /** YYYYMMDDHHMMSS of the clock, UTC. */
  stamp: string;
  /** Where the fallback records a promotion that did not complete (history/failed-promotions.ts). */
  failureIndex: string;
  target: { tag: string | null; revision: string | null; digest: string | null; date: string | null; source: string; env: string; image: string | null; versionLayer: string | null };
  current: { tag: string; revision: string | null; digest: string | null } | null;
  destinations: Destination[];
  /** The promotion record (`public/promotion.json` without its time), as JSON. */
  record: string;
}

export interface TaskContext {
  label: string;
  kind: TaskKind;
  taskId: string;
  /** Task ids this task depends on (in the graph, or the action task). */
  dependencies: string[];
  /** Set for promote tasks. */
  destination: Destination | null;
  /** Set for the fallback task: the promote tasks it checks. */
  promoteTaskIds: string[];
}

export interface GraphContext {
  now: string;
  taskGroupId: string;
  schedulerId: string;
  taskcluster: {
    rootUrl: string;
    trustDomain: string;
    project: string;
    level: number;
    taskQueueId: string;
    image: string;
    secrets: { registry: string; github: string };
    notify: string[];
    /** The Queue priority of every task (configuration, default lowest). */
    priority: string;
  };
  github: { repository: string; url: string; defaultBranch: string };
  promotion: PromotionContext;
  routes: { index: string[]; notify: string[] };
  tcPromote: {
    version: string;
    /** Run tc-promote in the task: `[tc-promote]`, or a wrapper that first writes the inline configuration. */
    command: string[];
    env: Record<string, string>;
    artifactsDir: string;
  };
  owner: string;
  /** The template's own URL (per kind), filled in per task. */
  source: string;
  actionTaskId: string | null;
}

export interface ContextOptions {
  nowMs: number;
  taskGroupId: string;
  reason: string;
  requester: string;
  allowFallback: boolean;
  actionTaskId: string | null;
  branchHead: string | null;
  /** Without a plan-time digest, promote tasks cannot compare-and-swap (offline rendering). */
  compareAndSwap: boolean;
  /** Pass the configuration to tasks: the image's embedded default is another one. */
  inlineConfig: boolean;
  owner?: string;
  rootUrl?: string;
  /** What the confirmation said (from, to, hold, next push), kept in the record. */
  confirmed?: Record<string, string>;
}

export function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function buildContext(config: Config, plan: Plan, options: ContextOptions, warnings: string[]): GraphContext {
  const tc = config.taskcluster;
  const settings = config.environments[plan.env];
  if (!settings || !Object.hasOwn(config.environments, plan.env)) throw new UsageError(`plan.env: ${quote(plan.env)} is not a configured environment`);
  const stamp = utcStamp(options.nowMs);
  const [year, month, day] = [stamp.slice(0, 4), stamp.slice(4, 6), stamp.slice(6, 8)];
  const indexBase = `index.${tc.trustDomain}.v2.${tc.project}.promotion.${plan.script}.${plan.env}`;
  const target = plan.target;
  const archiveTag = target.revision !== null ? `${settings.archivePrefix}-${stamp}-${target.revision}` : null;
  if (plan.route === 'retag' && archiveTag === null) {
    warnings.push(`target ${target.tag ?? target.digest ?? '?'} has no known revision: no archive tag will record this promotion`);
  }
  const primary = `${plan.repository}:${plan.movingTag}`;
  const destinations = plan.destinations.map((reference, i): Destination => {
    const ref = parseReference(reference, `plan.destinations[${i}]`);
    const repository = formatReference({ registry: ref.registry, repository: ref.repository });
    let expectCurrent: string | null = null;
    if (reference === primary) {
      if (options.compareAndSwap) expectCurrent = plan.movingDigest ?? 'none';
    } else if (plan.route === 'retag') warnings.push(`${reference}: its digest was not read at plan time, so the promote task cannot compare-and-swap on it`);
    return { reference, repository, tag: ref.tag ?? plan.movingTag, expectCurrent, archiveTag };
  });
  let allowFallback = options.allowFallback;
  if (allowFallback && target.revision === null) {
    warnings.push('fallback: the target has no known revision, so the fallback task cannot force-push; it will only report');
    allowFallback = false;
  }
  // A graph that may force-push without a lease says so, in plan and in the task itself.
  const deployBranch = expandPattern(settings.deployBranch, plan.script);
  let leaseNote = '';
  if ((plan.route === 'rebuild' || allowFallback) && options.branchHead === null) {
    const check = plan.deployBranch;
    const why =
      check === undefined
        ? 'its head was not read at plan time (no GitHub access was configured for the plan, or the branch check was off)'
        : check.state === 'missing'
          ? 'the branch did not exist at plan time'
          : `its head could not be read at plan time (${check.reason ?? 'unchecked'})`;
    const warning = `the graph would force-push ${quote(deployBranch)} without a lease: ${why}; a push to the branch before the task runs would be overwritten without a check`;
    warnings.push(warning);
    leaseNote = `\n\nWARNING: ${warning}.`;
  }
  const requester = options.requester;
  const current = plan.current ? { tag: plan.current.tag, revision: plan.current.revision, digest: plan.current.digest ?? null } : null;
  const record = {
    script: plan.script,
    env: plan.env,
    from: current?.tag ?? plan.movingDigest,
    to: target.tag ?? target.digest ?? null,
    digest: target.digest ?? null,
    revision: target.revision,
    reason: options.reason,
    requester,
    route: plan.route,
    taskGroupId: options.taskGroupId,
    // Rollbacks that stay put: what plan saw of the deploy branch, and its warning.
    ...(plan.deployBranch && { deployBranch: plan.deployBranch, warnings: deployBranchWarnings(plan.deployBranch, plan.route) }),
    ...(options.confirmed && { confirmed: options.confirmed }),
  };
  const inline = options.inlineConfig;
  return {
    now: new Date(options.nowMs).toISOString(),
    taskGroupId: options.taskGroupId,
    schedulerId: `${tc.trustDomain}-level-${tc.level}`,
    taskcluster: {
      rootUrl: options.rootUrl ?? tc.rootUrl,
      trustDomain: tc.trustDomain,
      project: tc.project,
      level: tc.level,
      taskQueueId: tc.workerPool,
      image: tc.image,
      secrets: { registry: tc.secrets.registry, github: tc.secrets.github },
      notify: [...(tc.notify ?? [])],
      priority: tc.priority ?? 'lowest',
    },
    github: { repository: config.github.repository, url: `https://github.com/${config.github.repository}`, defaultBranch: config.github.defaultBranch },
    promotion: {
      script: plan.script,
      env: plan.env,
      route: plan.route,
      reason: options.reason,
      requester,
      allowFallback,
      movingTag: plan.movingTag,
      movingDigest: plan.movingDigest,
      repository: plan.repository,
      archivePrefix: settings.archivePrefix,
      deployBranch,
      sharedBranch: settings.sharedBranch,
      branchHead: options.branchHead,
      leaseNote,
      stamp,
      failureIndex: `${tc.trustDomain}.v2.${tc.project}.promotion.${plan.script}.${plan.env}.failed.${stamp}`,
      target: {
        tag: target.tag,
        revision: target.revision,
        digest: target.digest ?? null,
        date: target.date,
        source: target.source,
        env: target.env,
        image: target.digest !== undefined ? `${target.source}@${target.digest}` : null,
        // Where plan found /app/version.json: the promote step reads it beside the manifest.
        versionLayer: plan.provenance?.layer ?? null,
      },
      current,
      destinations,
      record: JSON.stringify(record),
    },
    routes: {
      index: [`${indexBase}.latest`, `${indexBase}.${year}.${month}.${day}.${stamp}`],
      notify: (tc.notify ?? []).flatMap((address) => [`notify.email.${address}.on-failed`, `notify.email.${address}.on-exception`]),
    },
    tcPromote: {
      version,
      command: inline
        ? ['sh', '-ec', `printf '%s' "$TC_PROMOTE_CONFIG" > ${inlineConfigPath}; exec tc-promote "$@" --config ${inlineConfigPath}`, 'tc-promote']
        : ['tc-promote'],
      env: inline ? { TC_PROMOTE_CONFIG: JSON.stringify(config) } : {},
      artifactsDir,
    },
    owner: (options.owner ?? requester).slice(0, 255) || 'tc-promote',
    source: '',
    actionTaskId: options.actionTaskId,
  };
}
