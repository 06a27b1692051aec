/** `tc-promote plan <script>`: what a promotion would do, and why. */
import { UsageError, quote } from '../errors.js';
import type { describeTasks } from '../graph/build.js';
import type { Plan, PlanRequest } from '../history/plan.js';
import { runPlan, type NextSteps } from '../operations/plan.js';
import { isDigest, isValidTag } from '../registry/reference.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { describeCommits } from '../github/commits.js';
import { branchCheckHelp, branchCheckOptions, githubAccess } from './branch-check.js';
import { globalHelp, parseCommandArgs, printJson, runtimeOptions, type Io } from './common.js';
import { deployFlags, formatLive } from './history.js';

export { nextSteps, type NextSteps } from '../operations/plan.js';

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
  --to T           target: an archive tag (also another environment's: labelled as such), a
                   revision (7+ hex, the newest deploy of it in the environment promoted; exit 4
                   naming the tag when only another environment has it) or sha256:DIGEST
  --from-env E2    target: the image live now in environment E2 (promote dev to production)
  --route R        retag (default when the image exists), rebuild (force-push the revision), rerun;
                   with retag the previous-known-good passes over deploys whose image is gone
  --min-live D     previous-known-good's image must have lived at least D over all its deploys
                   (90s, 30m, 12h, 3d, 2w); with --to or --from-env, a requirement (exit 4 if not)
  --skip T         pass over this tag (exact), revision (7+ hex, any case) or digest; repeat or
                   comma-separate; a value that matches no deploy of the environment is exit 2
${branchCheckHelp}`;

export const help = `Usage: tc-promote plan <script> [--env E] [--to T | --from-env E2] [--route R] [--min-live D] [--skip T]… [--json]

Finds the deploy the moving tag points at (current) and the target: by default the
previous-known-good, the newest older deploy with another revision and digest that was not
rolled back and is not skipped. Every newer deploy it passed over is listed with the reason
(current, same image as current, same revision as current, rolled back, skipped, lived less
than --min-live, image gone). A target that lived under 24 hours, counted over every deploy
of its image, is "not proven". Chooses the route, prints every warning, and ends with what to
run next (submit, or the step by hand) and how to undo it. Reads only.

With GitHub configured (GITHUB_TOKEN or GITHUB_API_URL, or inside a task) it lists the commits
between current and the target (GitHub's compare: the newest 20, the count and the compare
URL; GitHub unreachable or rate-limited is a note), and reads the
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
  tc-promote plan signingscript --to dev-20210205000000-8888888888888888888888888888888888888888

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
  const runtime = runtimeOptions(values, io);
  const { plan, next } = await runPlan({ runtime, request, github: githubAccess(io, runtime.config!, values), lines: values });
  if (values.json) printJson(io, { script: plan.script, env: plan.env, route: plan.route, current: plan.current, target: plan.target, passedOver: plan.passedOver ?? [], warnings: plan.warnings, tasks: plan.tasks, movingTag: plan.movingTag, movingDigest: plan.movingDigest, repository: plan.repository, destinations: plan.destinations, provenance: plan.provenance, deployBranch: plan.deployBranch ?? null, commits: plan.commits ?? null, next });
  else io.stdout(renderPlan(plan, next));
  return 0;
}

const choices: Record<string, string> = {
  'previous-known-good': 'previous-known-good: the newest deploy older than current with another revision and digest, not rolled back',
  tag: 'the archive tag asked for (--to)',
  revision: 'the newest deploy of the revision asked for (--to), in this environment',
  digest: 'the digest asked for (--to)',
  'from-env': 'the image live now in the environment asked for (--from-env)',
};

export function renderPlan(plan: Plan, next?: NextSteps): string {
  const describe = (d: { tag: string | null; date: string | null; revision: string | null; digest?: string; liveSeconds: number | null; liveSecondsAtMost?: number } | null): string =>
    d
      ? `${d.tag ?? '(no archive tag)'}\n             date ${d.date ?? '?'}  revision ${d.revision ?? '?'}\n             digest ${d.digest ?? '?'}${d.liveSeconds !== null ? `  live ${formatDuration(d.liveSeconds)}` : d.liveSecondsAtMost !== undefined ? `  live ${formatLive({ liveSeconds: null, liveSecondsAtMost: d.liveSecondsAtMost })}` : ''}`
      : '(unknown)';
  const target = plan.target;
  const lines = [
    `plan: ${plan.script} ${plan.env} (${plan.repository}:${plan.movingTag})`,
    `  current:   ${describe(plan.current)}${plan.current && deployFlags(plan.current) ? `\n             ${deployFlags(plan.current)}` : ''}`,
    `  target:    ${describe(target)}`,
  ];
  const flags = target.tag !== null ? deployFlags({ ...target, tag: target.tag, date: target.date ?? '', era: target.era ?? 'current', liveSeconds: target.liveSeconds, promotedFrom: target.promotedFrom ?? null, rebuildOf: target.rebuildOf ?? null }) : '';
  if (flags) lines.push(`             ${flags}`);
  const live = target.imageLive;
  if (live) {
    const parts = live.parts.length + live.movedBack.length;
    // Per environment when it lived in more than one: a dev deploy's days are not production's.
    const envs = [...new Set(live.parts.map((p) => p.env))];
    const byEnv = envs.length > 1 ? `: ${envs.map((e) => `${formatDuration(live.parts.filter((p) => p.env === e).reduce((sum, p) => sum + (p.seconds ?? 0), 0))} in ${e}`).join(', ')}` : '';
    lines.push(`             image live ${live.atLeast ? 'at least ' : ''}${formatDuration(live.seconds)}${parts > 1 ? ` over ${live.parts.length} deploy(s)${live.movedBack.length ? ' and a moved-back moving tag' : ''}` : ''}${byEnv}${live.parts.some((p) => p.current) ? `, still current in ${live.parts.find((p) => p.current)!.env}` : ''}`);
  }
  if (target.chosenBy) lines.push(`  chosen:    ${choices[target.chosenBy]}`);
  const archivePrefix = plan.archivePrefix ?? plan.env;
  if (target.tag !== null && target.env !== archivePrefix && target.env !== plan.env) lines.push(`             a deploy of ${target.env}, another environment: the image built for ${target.env}`);
  const passed = plan.passedOver ?? [];
  if (passed.length) {
    const width = Math.max(...passed.slice(0, 20).map((p) => p.tag.length));
    passed.slice(0, 20).forEach((p, i) => lines.push(`${i === 0 ? '  passed over (newest first):\n' : ''}             ${p.tag.padEnd(width)}  ${p.reason}`));
    if (passed.length > 20) lines.push(`             … ${passed.length - 20} more (--json lists them all)`);
  }
  lines.push(`  route:     ${plan.route}`);
  if (plan.route === 'retag') {
    lines.push(`  points:    ${plan.destinations.join(', ')}${plan.movingDigest ? ` (only if still at ${plan.movingDigest})` : ''}`);
  }
  const branch = plan.deployBranch;
  if (!branch && next) {
    // Said every time: a rollback whose branch nobody checked can be undone by the next push to it.
    lines.push(`  branch:    ${next.branch} not checked (GitHub is not configured for this run, or --no-branch-check: set GITHUB_TOKEN, or GITHUB_API_URL=https://api.github.com): a push to it could redeploy what is rolled back`);
  }
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
  if (plan.commits) {
    const described = describeCommits(plan.commits, '             ');
    if (described.length) lines.push(`  commits:   ${described[0]!.trimStart().replace(/^commits not listed/, 'not listed')}`, ...described.slice(1));
  }
  if (plan.provenance?.version) {
    const p = plan.provenance;
    lines.push(`  provenance: /app/version.json commit ${p.version!.commit ?? '?'}${p.matches === true ? ' (matches the tag)' : p.matches === false ? ' (DOES NOT MATCH the tag)' : ''}`);
  }
  for (const [i, task] of (plan.tasks as ReturnType<typeof describeTasks>).entries()) {
    lines.push(`${i === 0 ? '  tasks:     ' : '             '}${task.label}${task.dependencies.length ? ` (after ${task.dependencies.join(', ')})` : ''}: ${task.name}`);
  }
  if (next?.nothingToDo) {
    lines.push(`  next:      nothing to do: ${next.nothingToDo}`);
  } else if (next) {
    lines.push(`  next:      ${next.rollback}`);
    lines.push(`  or submit: ${next.submit}`);
    next.byHand.forEach((c, i) => lines.push(`${i === 0 ? '  by hand:   ' : '             '}${c}`));
    next.undo.forEach((c, i) => lines.push(`${i === 0 ? '  undo:      ' : '             '}${c}`));
    lines.push(`  fill in:   WHY (the reason, recorded with the promotion and shown by history)${next.undo.some((c) => c.includes('<old head>')) ? '; <old head> (what the force-push prints)' : ''}`);
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
