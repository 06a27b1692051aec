/**
 * A promotion's graph from a request: plan (from the registry, or offline from a target that
 * is given) and build the task graph it would submit; and the checks every submitting
 * operation makes first (credentials before anything is read, no force-push without a lease).
 */
import { loadConfig, type Config } from '../config/load.js';
import { UsageError } from '../errors.js';
import { buildGraph, describeTasks, type GraphOptions, type TaskGraph } from '../graph/build.js';
import { offlineCompareAndSwap, offlinePlan, type OfflineRequest } from '../graph/offline-plan.js';
import { planPromotion, type Plan, type PlanRequest } from '../history/plan.js';
import { resolveConnection, type TaskclusterConnection } from '../taskcluster-api/clients.js';
import type { GitHubAccess } from './github.js';
import { buildRuntime, type RuntimeOptions } from './runtime.js';
import { clock } from './settings.js';

/** Who asked: for the tasks' records. Never a credential: a client id or a user name. */
export function requesterFrom(env: NodeJS.ProcessEnv): string {
  return env.TC_PROMOTE_REQUESTER || env.TASKCLUSTER_CLIENT_ID || env.USER || env.LOGNAME || 'unknown';
}

export interface GraphRequest {
  /** The registry to plan against, and the environment (requester, clock). */
  runtime: RuntimeOptions;
  /** What to plan (from the registry); or, with `offline`, the target given instead. */
  plan: PlanRequest;
  offline?: Omit<OfflineRequest, 'nowMs'>;
  /** GitHub for the branch check (and, with listCommits, the commit list). */
  github?: GitHubAccess;
  listCommits?: boolean;
  taskGroupId?: string;
  attempt?: number;
  reason?: string;
  templatesDir?: string;
  allowFallback?: boolean;
  /** The configuration was given as a file: the tasks carry it inline (the image has the embedded one). */
  inlineConfig?: boolean;
  /** Anything else of the graph's options (action-callback's decision task). */
  graph?: Partial<GraphOptions>;
  /** What the confirmation will say of this plan (from, to, hold, next push): kept in the record. */
  confirmation?: (plan: Plan) => Record<string, string>;
}

export interface PlannedGraph {
  config: Config;
  plan: Plan;
  graph: TaskGraph;
}

export async function planAndBuildGraph(request: GraphRequest): Promise<PlannedGraph> {
  const { runtime } = request;
  const config = runtime.config ?? loadConfig(runtime.configPath);
  let plan: Plan;
  let compareAndSwap = true;
  if (request.offline) {
    const offline = { ...request.offline, nowMs: clock(runtime.env) };
    plan = offlinePlan(config, offline);
    compareAndSwap = offlineCompareAndSwap(offline);
  } else {
    const built = buildRuntime({ ...runtime, config });
    const checker = request.github?.deployBranchChecker();
    if (checker) built.checkDeployBranch = checker;
    if (request.listCommits && request.github) built.listCommits = request.github.commitLister();
    plan = await planPromotion(built, request.plan);
  }
  const graph = buildGraph(config, plan, {
    ...(request.taskGroupId !== undefined && { taskGroupId: request.taskGroupId }),
    ...(request.attempt !== undefined && { attempt: request.attempt }),
    ...(request.reason !== undefined && { reason: request.reason }),
    ...(request.templatesDir !== undefined && { templatesDir: request.templatesDir }),
    ...(runtime.rootUrl !== undefined && { rootUrl: runtime.rootUrl }),
    allowFallback: Boolean(request.allowFallback),
    requester: requesterFrom(runtime.env),
    compareAndSwap,
    ...(request.inlineConfig === false && { inlineConfig: false }),
    nowMs: clock(runtime.env),
    ...(request.confirmation && { confirmed: request.confirmation(plan) }),
    ...request.graph,
  });
  plan.tasks = describeTasks(graph);
  return { config, plan, graph };
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
export function submissionConnection(env: NodeJS.ProcessEnv, rootUrl: string | undefined, config: Config, command: string): TaskclusterConnection {
  const connection = resolveConnection(env, rootUrl, config.taskcluster.rootUrl);
  if (!connection.viaProxy && !connection.credentials) {
    throw new UsageError(
      `TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN: not set; ${command} creates tasks in ${connection.rootUrl} and needs credentials (inside a task, TASKCLUSTER_PROXY_URL); nothing was planned or created`,
    );
  }
  return connection;
}
