/**
 * What the graph commands (`render`, `submit`) share: the plan flags, the offline target
 * flags, the graph flags, and plan → graph.
 */
import { loadConfig, type Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { checkReason } from '../graph/actions.js';
import { buildGraph, describeTasks, type GraphOptions, type TaskGraph } from '../graph/build.js';
import { offlineCompareAndSwap, offlinePlan } from '../graph/offline-plan.js';
import { planPromotion, type Plan } from '../history/plan.js';
import { parseRegistryOverride } from '../registry/reference.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import { resolveConnection, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import { commitLister, deployBranchChecker } from './branch-check.js';
import { buildRuntime, clock, positiveInteger, type GlobalValues, type Io } from './common.js';
import { planOptions, planOptionsHelp, planRequestFrom } from './plan.js';

export const graphOptions = {
  ...planOptions,
  'task-group-id': { type: 'string' },
  reason: { type: 'string' },
  fallback: { type: 'boolean' },
  offline: { type: 'boolean' },
  'target-tag': { type: 'string' },
  'target-digest': { type: 'string' },
  'moving-digest': { type: 'string' },
  templates: { type: 'string' },
  attempt: { type: 'string' },
} as const;

export const graphOptionsHelp = `${planOptionsHelp}
  --reason TEXT    why (recorded in the tasks and public/promotion.json)
  --fallback       if promotion fails, the fallback task force-pushes the target revision
  --task-group-id ID   put the tasks in this group (default: a new one)
  --templates DIR  render with these templates instead of the installed taskcluster/
  --attempt N      a new attempt at a promotion from the same state (default 1): promote task
                   ids are keyed on the tag and its digest at plan time, so the Queue refuses a
                   second graph from the same state with exit 3; give --attempt 2 after a
                   failed one whose task you do not want to rerun

Offline (no registry; the target is given instead of resolved):
  --offline            do not read the registry
  --target-tag T       the target archive tag (gives its revision and date)
  --target-digest D    the target image digest (sha256:…); needed for the retag route
  --moving-digest D    the moving tag's digest now (or none): promote compares-and-swaps on it`;

export interface GraphValues extends GlobalValues {
  env?: string;
  to?: string;
  'from-env'?: string;
  route?: string;
  'min-live'?: string;
  skip?: string[];
  'task-group-id'?: string;
  reason?: string;
  fallback?: boolean;
  offline?: boolean;
  'target-tag'?: string;
  'target-digest'?: string;
  'moving-digest'?: string;
  templates?: string;
  'no-branch-check'?: boolean;
  'no-commits'?: boolean;
  attempt?: string;
}

/** Who asked: for the tasks' records. Never a credential: a client id or a user name. */
export function requesterFrom(env: NodeJS.ProcessEnv): string {
  return env.TC_PROMOTE_REQUESTER || env.TASKCLUSTER_CLIENT_ID || env.USER || env.LOGNAME || 'unknown';
}

export interface PlannedGraph {
  config: Config;
  plan: Plan;
  graph: TaskGraph;
}

export async function planAndBuildGraph(values: GraphValues, script: string | undefined, io: Io, extra: Partial<GraphOptions> = {}, extraPlan: { listCommits?: boolean } = {}): Promise<PlannedGraph> {
  const config = loadConfig(values.config);
  const offlineFlags = (['target-tag', 'target-digest', 'moving-digest'] as const).filter((f) => values[f] !== undefined);
  if (!values.offline && offlineFlags.length) throw new UsageError(`--${offlineFlags[0]}: only with --offline`);
  if (values.reason !== undefined) checkReason(values.reason, '--reason');
  const taskGroupId = values['task-group-id'];
  if (taskGroupId !== undefined && !isSlugid(taskGroupId)) throw new UsageError(`--task-group-id: ${quote(taskGroupId)} is not a task id (a 22-character slugid)`);
  // Checked before the plan reads anything (a registry that is down must not hide a typo).
  const attempt = positiveInteger(values.attempt, '--attempt', 1000);
  let plan: Plan;
  let compareAndSwap = true;
  if (values.offline) {
    const online = (['to', 'from-env', 'min-live'] as const).filter((f) => values[f] !== undefined);
    if (online.length || values.skip?.length) throw new UsageError(`--${online[0] ?? 'skip'}: resolves a target from the registry; with --offline give --target-tag/--target-digest`);
    const override = values.registry !== undefined ? parseRegistryOverride(values.registry).registry : undefined;
    const request = {
      script,
      ...(values.env !== undefined && { env: values.env }),
      ...(values.route !== undefined && { route: values.route }),
      ...(values['target-tag'] !== undefined && { targetTag: values['target-tag'] }),
      ...(values['target-digest'] !== undefined && { targetDigest: values['target-digest'] }),
      ...(values['moving-digest'] !== undefined && { movingDigest: values['moving-digest'] }),
      ...(override !== undefined && { registryOverride: override }),
      nowMs: clock(io.env),
    };
    plan = offlinePlan(config, request);
    compareAndSwap = offlineCompareAndSwap(request);
  } else {
    const runtime = buildRuntime(values, io, config);
    const checker = deployBranchChecker(io, config, values);
    if (checker) runtime.checkDeployBranch = checker;
    if (extraPlan.listCommits) runtime.listCommits = commitLister(io, config, values);
    plan = await planPromotion(runtime, planRequestFrom(values, script));
  }
  const graph = buildGraph(config, plan, {
    ...(taskGroupId !== undefined && { taskGroupId }),
    ...(attempt !== undefined && { attempt }),
    ...(values.reason !== undefined && { reason: values.reason }),
    ...(values.templates !== undefined && { templatesDir: values.templates }),
    ...(values['root-url'] !== undefined && { rootUrl: values['root-url'] }),
    allowFallback: Boolean(values.fallback),
    requester: requesterFrom(io.env),
    compareAndSwap,
    // Without --config it is the embedded configuration, which the image has too.
    ...(values.config === undefined && { inlineConfig: false }),
    nowMs: clock(io.env),
    ...extra,
  });
  plan.tasks = describeTasks(graph);
  return { config, plan, graph };
}

export function printWarnings(io: Io, plan: Plan, graph: TaskGraph): void {
  // The choice is said before anything is created: what the target is and why.
  const target = plan.target;
  if (target.chosenBy) {
    const passed = plan.passedOver ?? [];
    const why = target.chosenBy === 'previous-known-good' ? `previous-known-good${passed.length ? `; passed over ${passed.map((p) => `${p.tag} (${p.reason})`).slice(0, 5).join(', ')}${passed.length > 5 ? `, … ${passed.length - 5} more` : ''}` : ''}` : `asked for (${target.chosenBy === 'from-env' ? '--from-env' : '--to'})`;
    io.stderr(`target: ${target.tag ?? target.digest ?? '?'}${target.env !== plan.env && target.env !== plan.archivePrefix ? ` (a deploy of ${target.env})` : ''}, route ${plan.route}: ${why}\n`);
  }
  for (const w of [...plan.warnings, ...graph.warnings]) io.stderr(`warning: ${w}\n`);
}

/**
 * Labels of the tasks that would force-push with no lease: a force-push task, or a fallback
 * allowed to force-push, whose command has no `--expect`.
 */
export function tasksForcePushingWithoutLease(graph: TaskGraph): string[] {
  return graph.tasks
    .filter(({ task }) => {
      const command = (task.payload as { command?: unknown }).command;
      if (!Array.isArray(command)) return false;
      const pushes = command.includes('force-push') || (command.includes('fallback') && command.includes('--allow-force-push'));
      return pushes && !command.includes('--expect');
    })
    .map((t) => t.label);
}

/**
 * Where the graph goes and with what credentials, checked before anything is planned: a run
 * that creates tasks without TASKCLUSTER_CLIENT_ID/_ACCESS_TOKEN (or a task's proxy) fails at
 * once, naming the variables, instead of after reading the registry.
 */
export function submissionConnection(io: Io, values: { 'root-url'?: string }, config: Config, command: string): TaskclusterConnection {
  const connection = resolveConnection(io.env, values['root-url'], config.taskcluster.rootUrl);
  if (!connection.viaProxy && !connection.credentials) {
    throw new UsageError(
      `TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN: not set; ${command} creates tasks in ${connection.rootUrl} and needs credentials (inside a task, TASKCLUSTER_PROXY_URL); nothing was planned or created`,
    );
  }
  return connection;
}
