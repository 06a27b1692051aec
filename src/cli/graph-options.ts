/**
 * What the graph commands (`render`, `submit`) share: the plan flags, the offline target
 * flags, the graph flags, and plan → graph.
 */
import { loadConfig, type Config } from '../config/load.js';
import { UsageError, quote } from '../errors.js';
import { checkReason } from '../graph/actions.js';
import type { GraphOptions, TaskGraph } from '../graph/build.js';
import type { Plan } from '../history/plan.js';
import { planAndBuildGraph as planGraph, submissionConnection as connectionFor, type GraphRequest, type PlannedGraph } from '../operations/promotion-graph.js';
import { parseRegistryOverride } from '../registry/reference.js';
import { isSlugid } from '../taskcluster-api/slugid.js';
import type { TaskclusterConnection } from '../taskcluster-api/clients.js';
import { githubAccess } from './branch-check.js';
import { positiveInteger, runtimeOptions, type GlobalValues, type Io } from './common.js';
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

export { requesterFrom, tasksForcePushingWithoutLease, type PlannedGraph } from '../operations/promotion-graph.js';

/** The graph flags checked and mapped onto a GraphRequest, then planned and built. */
export async function planAndBuildGraph(values: GraphValues, script: string | undefined, io: Io, extra: Partial<GraphOptions> = {}, extraPlan: { listCommits?: boolean } = {}): Promise<PlannedGraph> {
  return planGraph(await graphRequestFrom(values, script, io, loadConfig(values.config), extra, extraPlan));
}

/** The graph flags, checked (every one before anything is read) and mapped onto a GraphRequest. */
export async function graphRequestFrom(values: GraphValues, script: string | undefined, io: Io, config: Config, extra: Partial<GraphOptions> = {}, extraPlan: { listCommits?: boolean } = {}): Promise<GraphRequest> {
  const offlineFlags = (['target-tag', 'target-digest', 'moving-digest'] as const).filter((f) => values[f] !== undefined);
  if (!values.offline && offlineFlags.length) throw new UsageError(`--${offlineFlags[0]}: only with --offline`);
  if (values.reason !== undefined) checkReason(values.reason, '--reason');
  const taskGroupId = values['task-group-id'];
  if (taskGroupId !== undefined && !isSlugid(taskGroupId)) throw new UsageError(`--task-group-id: ${quote(taskGroupId)} is not a task id (a 22-character slugid)`);
  // Checked before the plan reads anything (a registry that is down must not hide a typo).
  const attempt = positiveInteger(values.attempt, '--attempt', 1000);
  let offline: GraphRequest['offline'];
  if (values.offline) {
    const online = (['to', 'from-env', 'min-live'] as const).filter((f) => values[f] !== undefined);
    if (online.length || values.skip?.length) throw new UsageError(`--${online[0] ?? 'skip'}: resolves a target from the registry; with --offline give --target-tag/--target-digest`);
    const override = values.registry !== undefined ? parseRegistryOverride(values.registry).registry : undefined;
    offline = {
      script,
      ...(values.env !== undefined && { env: values.env }),
      ...(values.route !== undefined && { route: values.route }),
      ...(values['target-tag'] !== undefined && { targetTag: values['target-tag'] }),
      ...(values['target-digest'] !== undefined && { targetDigest: values['target-digest'] }),
      ...(values['moving-digest'] !== undefined && { movingDigest: values['moving-digest'] }),
      ...(override !== undefined && { registryOverride: override }),
    };
  }
  const runtime = values.offline ? { config, env: io.env, ...(values['root-url'] !== undefined && { rootUrl: values['root-url'] }) } : runtimeOptions(values, io, config);
  return {
    runtime,
    plan: values.offline ? { script } : planRequestFrom(values, script),
    ...(offline && { offline }),
    ...(!values.offline && { github: githubAccess(io, config, values) }),
    ...(extraPlan.listCommits && { listCommits: true }),
    ...(taskGroupId !== undefined && { taskGroupId }),
    ...(attempt !== undefined && { attempt }),
    ...(values.reason !== undefined && { reason: values.reason }),
    ...(values.templates !== undefined && { templatesDir: values.templates }),
    allowFallback: Boolean(values.fallback),
    // Without --config it is the embedded configuration, which the image has too.
    ...(values.config === undefined && { inlineConfig: false }),
    graph: extra,
  };
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

/** Where the graph goes, with what credentials: checked before anything is planned. */
export function submissionConnection(io: Io, values: { 'root-url'?: string }, config: Config, command: string): TaskclusterConnection {
  return connectionFor(io.env, values['root-url'], config, command);
}
