/**
 * A task graph as text: JSON (`{taskGroupId, tasks: [{label, taskId, task}]}` in dependency
 * order, SPEC section 5), YAML (the same data), Graphviz dot and Mermaid (tasks and
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

/** A DOT string literal: backslashes and quotes escaped, newlines as \n. */
function dotString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`;
}

export function formatDot(graph: TaskGraph): string {
  const lines = [`digraph ${dotString(`task group ${graph.taskGroupId}`)} {`, '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  const inGraph = new Set(graph.tasks.map((t) => t.label));
  for (const t of graph.tasks) lines.push(`  ${dotString(t.label)} [label=${dotString(`${t.label}\n${t.taskId}\n${t.task.metadata.name}`)}];`);
  for (const e of edges(graph)) {
    if (!inGraph.has(e.from)) lines.push(`  ${dotString(e.from)} [shape=ellipse, style=dashed];`);
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.requires === 'all-resolved' ? ' [style=dashed, label="all-resolved"]' : ''};`);
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
  const lines = ['flowchart LR'];
  for (const t of graph.tasks) lines.push(`  ${id(t.label)}["${mermaidText(t.label)}<br/>${mermaidText(t.taskId)}"]`);
  const inGraph = new Set(graph.tasks.map((t) => t.label));
  for (const e of edges(graph)) {
    if (!inGraph.has(e.from) && !ids.has(e.from)) lines.push(`  ${id(e.from)}(["${mermaidText(e.from)}"])`);
    lines.push(`  ${id(e.from)} ${e.requires === 'all-resolved' ? '-. all-resolved .->' : '-->'} ${id(e.to)}`);
  }
  return `${lines.join('\n')}\n`;
}
