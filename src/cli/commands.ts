/**
 * The one command table: every command's name, its one-line summary and how to load its
 * module. main dispatches through it, `--help` lists it, scripts/write-help.js writes help.json
 * from it; completion and drill are handed it by main (CommandContext), so no command module
 * imports main or this table's loaders back.
 */
import type { CommandTable } from './common.js';

export type { Command, CommandContext, CommandEntry, CommandTable } from './common.js';

export const commands: CommandTable = {
  history: { summary: 'the deploy history of a script in an environment', load: () => import('./history.js') },
  plan: { summary: 'resolve current and target, choose the route, list warnings and tasks', load: () => import('./plan.js') },
  render: { summary: 'print the task graph a promotion would submit (json, yaml, dot, mermaid)', load: () => import('./render.js') },
  submit: { summary: 'create the promotion task graph in Taskcluster', load: () => import('./submit.js') },
  trigger: { summary: "trigger the promotion action's hook, as the Taskcluster UI does", load: () => import('./trigger.js') },
  actions: { summary: 'write actions.json with the promotion hook action (or merge it into one)', load: () => import('./actions.js') },
  consumers: { summary: 'write the consumer files (patches, tc-promote.yml) for a released image, after checking it', load: () => import('./consumers.js') },
  'action-callback': { summary: 'inside the action task: read the action input, plan and submit the graph', load: () => import('./action-callback.js') },
  validate: { summary: 'check every template, task, actions.json and .taskcluster.yml (CI)', load: () => import('./validate.js') },
  copy: { summary: 'point a tag at an existing image: exact bytes, compare-and-swap, archive tag', load: () => import('./copy.js') },
  'force-push': { summary: 'move a deploy branch to a revision, with a lease and a backup ref', load: () => import('./force-push.js') },
  fallback: { summary: 'after the promote tasks: force-push the target revision if promotion failed (when allowed)', load: () => import('./fallback.js') },
  grants: { summary: "every scope the graph's creator needs; --check: which a scope set lacks", load: () => import('./grants.js') },
  rerun: { summary: "push a revision's image again: rerun its push task, or retrigger a clone past its deadline", load: () => import('./rerun.js') },
  rollback: { summary: 'plan, confirm, submit and follow a rollback to its end (with its record and its undo)', load: () => import('./rollback.js') },
  promote: { summary: 'promote the image live in another environment (--from-env): plan, confirm, submit, follow', load: () => import('./promote.js') },
  follow: { summary: 'follow a promotion in flight to its end (by task group, or script and --env), as rollback does', load: () => import('./follow.js') },
  cancel: { summary: "cancel a promotion's unfinished tasks; say what already ran and what the environment runs now", load: () => import('./cancel.js') },
  hold: { summary: 'hold an environment where it is: the next push writes its archive tag but moves nothing', load: () => import('./hold.js') },
  release: { summary: 'release the hold of an environment: the next push moves the moving tag again', load: () => import('./release.js') },
  pools: { summary: "the worker pools per script and environment, from fxci-config's clients.yml", load: () => import('./pools.js') },
  status: { summary: 'every script and environment: current, previous-known-good, drift between environments', load: () => import('./status.js') },
  drill: { summary: 'rehearse a rollback on this machine against a local registry (works offline)', load: () => import('./drill.js') },
  completion: { summary: 'print a bash or zsh completion script (commands, flags, scripts, environments)', load: () => import('./completion.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `Usage: tc-promote <command> [flags]

Roll a container image deployment back (or forward) to an exact image the registry already
holds, reading the deploy history from the registry's archive tags.

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run tc-promote <command> --help for a command's flags and examples; tc-promote --version.
Start here: tc-promote drill (a rollback rehearsed against a local registry, offline).
Exit codes: 0 ok, 1 remote or operational failure, 2 bad input, 3 conflict, 4 not found.
`;
}
