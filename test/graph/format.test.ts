// render --format dot and mermaid: short labels, top to bottom, wrapped, the same in both; the
// dot rendered by Graphviz itself (`dot -Tsvg`) when it is installed (scripts/test.sh installs it).
import { load } from 'js-yaml';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { formatGraph, parseGraphFormat } from '../../src/graph/format.js';
import { examplePlan, sequentialIds } from '../support/plans.js';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const revision = '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';
const offline = ['signingscript', '--offline', '--target-tag', `production-20210929025643-${revision}`, '--target-digest', `sha256:${'0123456789abcdef'.repeat(4)}`, '--moving-digest', `sha256:${'f'.repeat(64)}`, '--fallback'];

/** The lines of each box: dot's `label="a\nb"`, mermaid's `["a<br/>b"]`. */
function dotBoxes(dot: string): string[][] {
  return [...dot.matchAll(/^ {2}"[^"]+" \[label="((?:[^"\\]|\\.)*)", tooltip=/gm)].map((m) => m[1]!.split('\\n'));
}
function mermaidBoxes(mermaid: string): string[][] {
  return [...mermaid.matchAll(/^ {2}t\d+\["([^"]*)"\]$/gm)].map((m) => m[1]!.split('<br/>').map((l) => l.replace(/#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)))));
}

describe('render --format dot and mermaid', () => {
  it('draws short wrapped labels top to bottom, the same in dot and mermaid', async () => {
    const dot = (await runCli(['render', ...offline, '--format', 'dot'])).stdout;
    const mermaid = (await runCli(['render', ...offline, '--format', 'mermaid'])).stdout;
    expect(dot).toContain('rankdir=TB;');
    expect(mermaid).toMatch(/^flowchart TB\n/);
    const boxes = dotBoxes(dot);
    expect(boxes.map((b) => b[0])).toEqual(['promote-signingscript-production', 'fallback-signingscript-production']);
    expect(mermaidBoxes(mermaid)).toEqual(boxes);
    // Short: image references by tag or 12 hex of the digest, revisions by 12 hex, lines of at most 32.
    // Each box names the target by its archive tag (its date) and revision, not by 12 hex of a digest alone (issue 22).
    expect(boxes[0]).toEqual(['promote-signingscript-production', ':production to', 'production-20210929025643', 'revision 7995c5bb123b', '@0123456789ab']);
    expect(boxes[1]!.slice(1).join(' ')).toBe('force-push 7995c5bb123b to production-signingscript if promotion failed target production-20210929025643 revision 7995c5bb123b @0123456789ab');
    for (const line of boxes.flat().slice(1)) if (line.includes(' ')) expect(line.length).toBeLessThanOrEqual(32);
    expect(boxes.flat().join(" ")).not.toContain(revision);
    // The whole name stays in the tooltip.
    expect(dot).toContain(`tooltip="`);
  });

  it('Graphviz renders it: every label line is drawn, and the promote task above the fallback', async (context) => {
    if (spawnSync('dot', ['-V']).status !== 0) {
      context.skip('Graphviz is not installed (scripts/test.sh installs it)');
      return;
    }
    const dot = (await runCli(['render', ...offline, '--format', 'dot'])).stdout;
    const svg = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    expect(svg.status, svg.stderr).toBe(0);
    expect(svg.stderr).toBe('');
    const texts = [...svg.stdout.matchAll(/<text[^>]*y="([\d.-]+)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ y: Number(m[1]), text: m[2]!.replace(/&#45;/g, '-').replace(/&amp;/g, '&') }));
    for (const line of dotBoxes(dot).flat()) expect(texts.map((t) => t.text)).toContain(line);
    const y = (text: string): number => texts.find((t) => t.text === text)!.y;
    expect(y('promote-signingscript-production')).toBeLessThan(y('fallback-signingscript-production'));
  });
});

const config = loadConfig();
const graph = buildGraph(config, examplePlan(config), { newTaskId: sequentialIds(), reason: 'a "quoted" reason' });

describe('graph formats', () => {
  it('json: {taskGroupId, tasks: [{label, taskId, task}]} in dependency order', () => {
    const doc = JSON.parse(formatGraph(graph, 'json'));
    expect(Object.keys(doc)).toEqual(['taskGroupId', 'tasks']);
    expect(doc.tasks.map((t: { label: string }) => t.label)).toEqual(['promote-signingscript-production', 'fallback-signingscript-production']);
    expect(Object.keys(doc.tasks[0])).toEqual(['label', 'taskId', 'task']);
    expect(doc.tasks[1].task.dependencies).toEqual([doc.tasks[0].taskId]);
  });

  it('yaml: the same document', () => {
    expect(load(formatGraph(graph, 'yaml'))).toEqual(JSON.parse(formatGraph(graph, 'json')));
  });

  it('dot and mermaid: tasks and the all-resolved edge', () => {
    const dot = formatGraph(graph, 'dot');
    expect(dot).toMatch(/^digraph "task group AAAAAAAAQACAAAAAAAAAAQ" \{/);
    expect(dot).toContain('"promote-signingscript-production" -> "fallback-signingscript-production" [style=dashed, label="all resolved"];');
    const mermaid = formatGraph(graph, 'mermaid');
    expect(mermaid.split('\n')[0]).toBe('flowchart TB');
    expect(mermaid).toContain('t0 -. all resolved .-> t1');
  });

  it('refuses an unknown format, naming the flag', () => {
    expect(() => parseGraphFormat('svg')).toThrow('--format: "svg" is not a format; one of json, yaml, dot, mermaid');
  });
});
