/**
 * plan: what a promotion would do, and why. Resolves current and the target from the registry
 * (history/plan.ts), builds the graph the promotion would submit to list its tasks and
 * warnings, and writes the exact next commands (submit, the step by hand, the undo).
 */
import { expandPattern, type Config } from '../config/load.js';
import { buildGraph, describeTasks } from '../graph/build.js';
import { planPromotion, type Plan, type PlanRequest } from '../history/plan.js';
import { shellQuote } from '../util/shell.js';
import type { GitHubAccess } from './github.js';
import { buildRuntime, type RuntimeOptions } from './runtime.js';

export interface PlanOptions {
  runtime: RuntimeOptions;
  request: PlanRequest;
  /** GitHub for the branch check and the commit list; absent: neither. */
  github?: GitHubAccess;
  /** The flags the next steps' lines repeat (--config, --registry, --root-url, --hub-api). */
  lines?: NextStepsFlags;
}

export interface PlanResult {
  plan: Plan;
  next: NextSteps;
}

/** Plan a promotion (reads only): the plan with its tasks and warnings, and what to run next. */
export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const runtime = buildRuntime(options.runtime);
  const checker = options.github?.deployBranchChecker();
  if (checker) runtime.checkDeployBranch = checker;
  if (options.github) runtime.listCommits = options.github.commitLister();
  const plan = await planPromotion(runtime, options.request);
  // The tasks that would run: the same graph render prints (ids are new each time).
  const graph = buildGraph(runtime.config, plan, { nowMs: runtime.nowMs });
  plan.tasks = describeTasks(graph);
  plan.warnings.push(...graph.warnings);
  return { plan, next: nextSteps(plan, runtime.config, options.lines ?? {}) };
}

/** What to run next, the same step by hand, and how to undo it: exact commands. */
export interface NextSteps {
  /** The submit line, pinned to this target. */
  submit: string;
  /** The rollback line, pinned to this target: plan, confirm, submit, follow in one step. */
  rollback: string;
  /** The deploy branch a rebuild or the fallback would force-push (said as not checked when GitHub was not asked). */
  branch: string;
  /** The step the tasks would run, by hand (the copy with --expect-current and --archive-tag, or force-push, or rerun). */
  byHand: string[];
  /** How to put back what is live now. */
  undo: string[];
  /** Set when the moving tag points at the target already: the lines above would change nothing. */
  nothingToDo?: string;
}

const now = '$(date -u +%Y%m%d%H%M%S)';

/** The flags the printed lines carry, so that they run as pasted where this plan ran. */
export interface NextStepsFlags {
  config?: string;
  registry?: string;
  'root-url'?: string;
  'hub-api'?: string;
}

export function nextSteps(plan: Plan, config: Config, values: NextStepsFlags): NextSteps {
  const global = [values.config !== undefined && `--config ${shellQuote(values.config)}`, values.registry !== undefined && `--registry ${shellQuote(values.registry)}`].filter(Boolean).join(' ');
  const g = global ? ` ${global}` : '';
  // force-push reads no registry: only the configuration (its repository and deploy branches).
  const c = values.config !== undefined ? ` --config ${shellQuote(values.config)}` : '';
  // submit plans again and creates tasks: where Taskcluster and Docker Hub's API are, as this plan was told.
  const planned = [values['root-url'] !== undefined && `--root-url ${shellQuote(values['root-url'])}`, values['hub-api'] !== undefined && `--hub-api ${shellQuote(values['hub-api'])}`].filter(Boolean).join(' ');
  const s = `${g}${planned ? ` ${planned}` : ''}`;
  const target = plan.target;
  const prefix = plan.archivePrefix ?? plan.env;
  const pinned = target.tag ?? target.digest ?? '?';
  const submit = `tc-promote submit ${plan.script} --env ${plan.env} --to ${pinned} --route ${plan.route} --reason 'WHY'${s}`;
  const rollback = `tc-promote rollback ${plan.script} --env ${plan.env} --to ${pinned} --route ${plan.route} --reason 'WHY'${s}`;
  const primary = `${plan.repository}:${plan.movingTag}`;
  const byHand: string[] = [];
  const settings = config.environments[plan.env];
  const branch = settings ? expandPattern(settings.deployBranch, plan.script) : `${plan.env}-${plan.script}`;
  if (plan.route === 'retag' && target.digest !== undefined) {
    for (const destination of plan.destinations) {
      const cas = destination === primary ? ` --expect-current ${plan.movingDigest ?? 'none'}` : '';
      const archive = target.revision !== null ? ` --archive-tag ${prefix}-${now}-${target.revision}` : '';
      const notes = [!cas && 'its digest was not read: no compare-and-swap', !archive && 'the target records no revision: no archive tag records this promotion'].filter(Boolean);
      byHand.push(`tc-promote copy ${target.source}@${target.digest} ${destination}${cas}${archive}${g}${notes.length ? `   # ${notes.join('; ')}` : ''}`);
    }
  } else if (plan.route === 'rebuild' && target.revision !== null) {
    const lease = plan.deployBranch?.state === 'checked' && plan.deployBranch.head ? ` --expect ${plan.deployBranch.head}` : '';
    byHand.push(`tc-promote force-push --branch ${branch} --revision ${target.revision}${lease}${c}`);
  } else if (plan.route === 'rerun' && target.revision !== null) {
    byHand.push(`tc-promote rerun --script ${plan.script} --env ${plan.env} --revision ${target.revision}${g}${values['root-url'] !== undefined ? ` --root-url ${shellQuote(values['root-url'])}` : ''}`);
  }
  const undo: string[] = [];
  const current = plan.current;
  if (plan.movingDigest === null) {
    undo.push(`${plan.movingTag} did not exist before: to undo, delete ${primary} in the registry (tc-promote never deletes tags)`);
  } else {
    // A rebuild is undone by putting the branch back first: until the rebuilt image is deployed,
    // the retag has nothing to do, and the pipeline would deploy the rebuild anyway.
    const retag = `tc-promote submit ${plan.script} --env ${plan.env} --to ${current?.tag ?? plan.movingDigest} --route retag --reason 'undo: WHY'${s}`;
    undo.push(plan.route === 'rebuild' && target.revision !== null ? `${retag}   # once the rebuilt image is deployed: the image back` : retag);
    if (plan.route === 'retag' && target.digest !== undefined) {
      const archive = current?.revision ? ` --archive-tag ${prefix}-${now}-${current.revision}` : '';
      undo.push(`tc-promote copy ${plan.repository}@${plan.movingDigest} ${primary} --expect-current ${target.digest}${archive}${g}${archive ? '' : '   # current has no known revision: no archive tag records the undo'}`);
    }
    if (plan.route === 'rebuild' && plan.deployBranch?.state === 'checked' && plan.deployBranch.head && target.revision !== null) {
      undo.unshift(`tc-promote force-push --branch ${branch} --revision ${plan.deployBranch.head} --expect ${target.revision}${c}   # the branch back where it was`);
    } else if (plan.route === 'rebuild' && target.revision !== null) {
      // The head was not read: the force-push records it (its output, and the backup branch).
      undo.unshift(`# the branch back where it was: tc-promote force-push --branch ${branch} --revision <old head> --expect ${target.revision}${c} (the force-push prints the old head and keeps it as the branch tc-promote-backup/${branch}/<YYYYMMDDHHMMSS>-<old head>)`);
    }
  }
  const unchanged = plan.route === 'retag' && target.digest !== undefined && target.digest === plan.movingDigest;
  return { submit, rollback, branch, byHand, undo, ...(unchanged && { nothingToDo: `${primary} points at ${target.digest} already: submitting would change nothing (rollback says so and creates nothing)` }) };
}
