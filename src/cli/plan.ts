/** `tc-promote plan <script>`: what a promotion would do, and why. */
import { UsageError, quote } from '../errors.js';
import { buildGraph, describeTasks } from '../graph/build.js';
import { planPromotion, type Plan, type PlanRequest } from '../history/plan.js';
import { isDigest, isValidTag } from '../registry/reference.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { branchCheckHelp, branchCheckOptions, deployBranchChecker } from './branch-check.js';
import { buildRuntime, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { deployFlags } from './history.js';

export const planOptions = {
  env: { type: 'string' },
  to: { type: 'string' },
  'from-env': { type: 'string' },
  route: { type: 'string' },
  'min-live': { type: 'string' },
  skip: { type: 'string', multiple: true },
  ...branchCheckOptions,
} as const;

export const planOptionsHelp = `  --env E          environment to promote (default production)
  --to T           target: an archive tag, a revision (7+ hex, its newest deploy) or sha256:DIGEST
  --from-env E2    target: the image live now in environment E2 (promote dev to production)
  --route R        retag (default when the image exists), rebuild (force-push the revision), rerun
  --min-live D     previous-known-good must have lived at least D (90s, 30m, 12h, 3d, 2w)
  --skip T         pass over this tag, revision or digest (repeat, or comma-separate)
${branchCheckHelp}`;

export const help = `Usage: tc-promote plan <script> [--env E] [--to T | --from-env E2] [--route R] [--min-live D] [--skip T]… [--json]

Finds the deploy the moving tag points at (current) and the target: by default the
previous-known-good, the newest older deploy with another revision and digest that was not
rolled back and is not skipped. Chooses the route and prints every warning. Reads only.

With GitHub configured (GITHUB_TOKEN or GITHUB_API_URL, or inside a task) it also reads the
environment's deploy branch of the script (production-<script>): when the branch is newer
than the target, the next push to it would redeploy what is being rolled back, and plan
warns with a compare URL. The head it read is the lease of the fallback and force-push
tasks. When GitHub cannot be reached, plan warns that it could not check and goes on.

Options:
${planOptionsHelp}

Examples:
  tc-promote plan signingscript                       # roll production back to previous-known-good
  tc-promote plan signingscript --min-live 3d --skip 7995c5b
  tc-promote plan beetmoverscript --from-env dev      # promote what runs in dev to production

${globalHelp}`;

/** A --skip value that could never match (not a tag name, revision prefix or digest) is a typo, not a no-op. */
function checkSkip(value: string): string {
  if (!isValidTag(value) && !isDigest(value)) throw new UsageError(`--skip: ${quote(value)} is not an archive tag, a revision or a digest (sha256:…)`);
  return value;
}

export function planRequestFrom(values: { env?: string; to?: string; 'from-env'?: string; route?: string; 'min-live'?: string; skip?: string[] }, script: string | undefined): PlanRequest {
  return {
    script,
    ...(values.env !== undefined && { env: values.env }),
    ...(values.to !== undefined && { to: values.to }),
    ...(values['from-env'] !== undefined && { fromEnv: values['from-env'] }),
    ...(values.route !== undefined && { route: values.route }),
    ...(values['min-live'] !== undefined && { minLiveSeconds: parseDuration(values['min-live'], '--min-live') }),
    skip: (values.skip ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean).map(checkSkip),
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('plan', argv, planOptions);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length > 1) throw new UsageError(`plan: takes one script, got ${positionals.length} arguments`);
  const request = planRequestFrom(values, positionals[0]);
  const runtime = buildRuntime(values, io);
  const checker = deployBranchChecker(io, runtime.config, values);
  if (checker) runtime.checkDeployBranch = checker;
  const plan = await planPromotion(runtime, request);
  // The tasks that would run: the same graph render prints (ids are new each time).
  const graph = buildGraph(runtime.config, plan, { nowMs: runtime.nowMs });
  plan.tasks = describeTasks(graph);
  plan.warnings.push(...graph.warnings);
  if (values.json) printJson(io, { script: plan.script, env: plan.env, route: plan.route, current: plan.current, target: plan.target, warnings: plan.warnings, tasks: plan.tasks, movingTag: plan.movingTag, movingDigest: plan.movingDigest, repository: plan.repository, destinations: plan.destinations, provenance: plan.provenance, deployBranch: plan.deployBranch ?? null });
  else io.stdout(renderPlan(plan));
  return 0;
}

export function renderPlan(plan: Plan): string {
  const describe = (d: { tag: string | null; date: string | null; revision: string | null; digest?: string; liveSeconds: number | null } | null): string =>
    d ? `${d.tag ?? '(no archive tag)'}\n             date ${d.date ?? '?'}  revision ${d.revision ?? '?'}\n             digest ${d.digest ?? '?'}${d.liveSeconds !== null ? `  live ${formatDuration(d.liveSeconds)}` : ''}` : '(unknown)';
  const lines = [
    `plan: ${plan.script} ${plan.env} (${plan.repository}:${plan.movingTag})`,
    `  current:   ${describe(plan.current)}${plan.current && deployFlags(plan.current) ? `\n             ${deployFlags(plan.current)}` : ''}`,
    `  target:    ${describe(plan.target)}`,
    `  route:     ${plan.route}`,
  ];
  if (plan.route === 'retag') {
    lines.push(`  points:    ${plan.destinations.join(', ')}${plan.movingDigest ? ` (only if still at ${plan.movingDigest})` : ''}`);
  }
  const branch = plan.deployBranch;
  if (branch) {
    const state =
      branch.state === 'checked'
        ? `at ${branch.head} (${branch.status === 'ahead' || branch.status === 'diverged' ? `${branch.aheadBy} commit(s) newer than the target` : branch.status === 'identical' ? 'the target' : 'older than the target'})`
        : branch.state === 'missing'
          ? 'does not exist'
          : branch.head
            ? `at ${branch.head} (not compared with the target)`
            : 'not checked';
    lines.push(`  branch:    ${branch.branch} ${state}`);
  }
  if (plan.provenance?.version) {
    const p = plan.provenance;
    lines.push(`  provenance: /app/version.json commit ${p.version!.commit ?? '?'}${p.matches === true ? ' (matches the tag)' : p.matches === false ? ' (DOES NOT MATCH the tag)' : ''}`);
  }
  for (const [i, task] of (plan.tasks as ReturnType<typeof describeTasks>).entries()) {
    lines.push(`${i === 0 ? '  tasks:     ' : '             '}${task.label}${task.dependencies.length ? ` (after ${task.dependencies.join(', ')})` : ''}: ${task.name}`);
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
