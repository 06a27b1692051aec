/**
 * What `submit --dry-run` says (issue 22): a summary a person reads before creating anything,
 * as key: value lines: the tasks and what each waits for, the scopes the creator needs, what
 * would move, and whether the Queue knows any of the task ids already. The definitions
 * themselves are `--json`'s (render --format json's document).
 */
import type { TaskGraph } from '../graph/build.js';
import type { Plan } from '../history/plan.js';

/** The Queue's answer for the ids, when it was asked: those it knows already. */
export type IdCheck = { asked: true; rootUrl: string; existing: string[] } | { asked: false; why: string };

export function dryRunSummary(plan: Plan, graph: TaskGraph, ids: IdCheck): string {
  const labels = new Map(graph.tasks.map((t) => [t.taskId, t.label]));
  const lines = [`dry run: nothing was created`, `  task group:  ${graph.taskGroupId}`, `  tasks:       ${graph.tasks.length}`];
  for (const t of graph.tasks) {
    const after = t.task.dependencies.map((d) => labels.get(d) ?? `task ${d}`);
    lines.push(`    ${t.label}${after.length ? ` (after ${after.join(', ')}${t.task.requires === 'all-resolved' ? ', whatever their outcome' : ''})` : ''}: ${t.task.metadata.name}`);
  }
  const dependencies = graph.tasks.reduce((sum, t) => sum + t.task.dependencies.length, 0);
  lines.push(`  dependencies: ${dependencies}`);
  const scopes = [...new Set(graph.tasks.flatMap((t) => [...(t.task.scopes ?? []), ...(t.task.routes ?? []).map((r) => `queue:route:${r}`)]))].sort();
  lines.push(`  scopes:      ${scopes.length} for the tasks and their routes (tc-promote grants lists what the creator needs in all)`);
  for (const s of scopes) lines.push(`    ${s}`);
  const target = plan.target;
  if (plan.route === 'retag') {
    for (const d of plan.destinations) {
      const primary = d === `${plan.repository}:${plan.movingTag}`;
      lines.push(`  would move:  ${d} to ${target.digest ?? '?'}${primary && plan.movingDigest ? ` (from ${plan.movingDigest}, only if still there)` : ''}`);
    }
    if (target.revision !== null) lines.push(`  archive tag: a new ${plan.archivePrefix ?? plan.env}-<time>-${target.revision}, written by the promote task`);
  } else if (plan.route === 'rebuild') {
    lines.push(`  would move:  the deploy branch to revision ${target.revision ?? '?'} (force-push; the pipeline then builds and deploys it)`);
  } else {
    lines.push(`  would move:  nothing directly: the push task of revision ${target.revision ?? '?'} runs again`);
  }
  lines.push(ids.asked ? `  task ids:    ${ids.existing.length ? `${ids.existing.length} ${ids.existing.length === 1 ? 'exists' : 'exist'} already in ${ids.rootUrl}: ${ids.existing.join(', ')} (submitting creates nothing for them)` : `none exists yet in ${ids.rootUrl} (the Queue was asked)`}` : `  task ids:    not checked with the Queue: ${ids.why}`);
  lines.push('  definitions: --json prints them (as render --format json does)');
  return `${lines.join('\n')}\n`;
}
