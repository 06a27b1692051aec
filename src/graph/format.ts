/**
 * A task graph as text: JSON (`{taskGroupId, tasks: [{label, taskId, task}]}` in dependency
 * order, docs/contract.md, Command line), YAML (the same data), Graphviz dot and Mermaid (tasks and
 * dependency edges, for reviews and docs).
 */
import { dump } from 'js-yaml';
import { UsageError, quote } from '../errors.js';
import type { TaskGraph } from './build.js';

export const graphFormats = ['json', 'yaml', 'dot', 'mermaid'] as const;
export type GraphFormat = (typeof graphFormats)[number];

export function parseGraphFormat(text: string | undefined): GraphFormat {
  if (text === undefined) return 'json';
  if (!(graphFormats as readonly string[]).includes(text)) throw new UsageError(`--format: ${quote(text)} is not a format; one of ${graphFormats.join(', ')}`);
  return text as GraphFormat;
}

export function graphDocument(graph: TaskGraph): { taskGroupId: string; tasks: { label: string; taskId: string; task: TaskGraph['tasks'][number]['task'] }[] } {
  return { taskGroupId: graph.taskGroupId, tasks: graph.tasks.map(({ label, taskId, task }) => ({ label, taskId, task })) };
}

export function formatGraph(graph: TaskGraph, format: GraphFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(graphDocument(graph), null, 2)}\n`;
    case 'yaml':
      return dump(graphDocument(graph), { lineWidth: -1, noRefs: true });
    case 'dot':
      return formatDot(graph);
    case 'mermaid':
      return formatMermaid(graph);
  }
}

function edges(graph: TaskGraph): { from: string; to: string; requires: string }[] {
  const labels = new Map(graph.tasks.map((t) => [t.taskId, t.label]));
  return graph.tasks.flatMap((t) =>
    t.task.dependencies.map((d) => ({ from: labels.get(d) ?? `task ${d}`, to: t.label, requires: t.task.requires })),
  );
}

/**
 * A task's name, short enough for a box: image references cut to their tag or the digest's
 * first 12 hex, revisions to 12 hex, the script and environment dropped (the label has them).
 */
export function shortName(name: string, label: string): string {
  return name
    .replace(/^[a-z-]+ [\w-]+ [\w-]+: /, '')
    .replace(/\S+@sha256:([0-9a-f]{12})[0-9a-f]{52}/g, '@$1')
    .replace(/\S+\/[\w./-]+:([\w.-]+)/g, ':$1')
    .replace(/\b([0-9a-f]{12})[0-9a-f]{28}\b/g, '$1')
    .replace(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), '');
}

/** Words wrapped to lines of at most `width` characters (a longer word stays whole). */
export function wrap(text: string, width = 32): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The lines of a task's box, the same in dot and mermaid: its label, its short name wrapped,
 * then the target it moves to, by archive tag (its date; the revision on the next line, 12 hex)
 * and the digest's first 12 hex: `@90ef0e0cf7c8` alone says nothing to a reader at 3 a.m.
 */
export function boxLines(task: TaskGraph['tasks'][number]): string[] {
  const name = shortName(task.task.metadata.name, task.label);
  const target = (task.task.extra as { tcPromote?: { target?: { tag?: unknown; revision?: unknown; digest?: unknown } } } | undefined)?.tcPromote?.target;
  if (!target) return [task.label, ...wrap(name)];
  // The archive tag without its revision (the next line has 12 hex of it): production-20210929025643.
  const tag = typeof target.tag === 'string' ? target.tag.replace(/-[0-9a-f]{40}$/, '') : '(no archive tag)';
  const revision = typeof target.revision === 'string' ? `revision ${target.revision.slice(0, 12)}` : 'revision unknown';
  const digest = typeof target.digest === 'string' ? `@${target.digest.replace(/^sha256:/, '').slice(0, 12)}` : '';
  // ":production to @90ef0e0cf7c8" names the target by its tag instead; other names keep theirs and get a target line.
  const named = digest && name.includes(digest) ? name.replace(digest, tag) : null;
  return [task.label, ...wrap(`${named ?? `${name} target ${tag}`} ${revision}${digest ? ` ${digest}` : ''}`)];
}

/** An external dependency (the action task): said as such, its id shortened. */
function externalLabel(from: string): string {
  return from.startsWith('task ') ? `action task ${from.slice(5, 13)}…` : from;
}

/** A DOT string literal: backslashes and quotes escaped, newlines as \n. */
function dotString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

export function formatDot(graph: TaskGraph): string {
  const lines = [
    `digraph ${dotString(`task group ${graph.taskGroupId}`)} {`,
    `  label=${dotString(`task group ${graph.taskGroupId}`)};`,
    '  labelloc=t;',
    '  rankdir=TB;',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11, margin="0.2,0.1"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  const inGraph = new Set(graph.tasks.map((t) => t.label));
  for (const t of graph.tasks) lines.push(`  ${dotString(t.label)} [label=${dotString(boxLines(t).join('\n'))}, tooltip=${dotString(`${t.taskId}: ${t.task.metadata.name}`)}];`);
  const drawn = new Set<string>();
  for (const e of edges(graph)) {
    if (!inGraph.has(e.from) && !drawn.has(e.from)) {
      drawn.add(e.from);
      lines.push(`  ${dotString(e.from)} [label=${dotString(externalLabel(e.from))}, shape=ellipse, style=dashed];`);
    }
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.requires === 'all-resolved' ? ' [style=dashed, label="all resolved"]' : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid labels: quotes and markup characters as entity codes. */
function mermaidText(text: string): string {
  return text.replace(/["<>#&]/g, (c) => `#${c.charCodeAt(0)};`);
}

export function formatMermaid(graph: TaskGraph): string {
  const ids = new Map<string, string>();
  const id = (label: string): string => {
    let v = ids.get(label);
    if (!v) ids.set(label, (v = `t${ids.size}`));
    return v;
  };
  const lines = ['flowchart TB'];
  for (const t of graph.tasks) lines.push(`  ${id(t.label)}["${boxLines(t).map(mermaidText).join('<br/>')}"]`);
  const inGraph = new Set(graph.tasks.map((t) => t.label));
  for (const e of edges(graph)) {
    if (!inGraph.has(e.from) && !ids.has(e.from)) lines.push(`  ${id(e.from)}(["${mermaidText(externalLabel(e.from))}"])`);
    lines.push(`  ${id(e.from)} ${e.requires === 'all-resolved' ? '-. all resolved .->' : '-->'} ${id(e.to)}`);
  }
  return `${lines.join('\n')}\n`;
}
