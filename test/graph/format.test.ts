import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { formatGraph, parseGraphFormat } from '../../src/graph/format.js';
import { examplePlan, sequentialIds } from '../support/plans.js';

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
    expect(dot).toContain('"promote-signingscript-production" -> "fallback-signingscript-production" [style=dashed, label="all-resolved"];');
    const mermaid = formatGraph(graph, 'mermaid');
    expect(mermaid.split('\n')[0]).toBe('flowchart LR');
    expect(mermaid).toContain('t0 -. all-resolved .-> t1');
  });

  it('refuses an unknown format, naming the flag', () => {
    expect(() => parseGraphFormat('svg')).toThrow('--format: "svg" is not a format; one of json, yaml, dot, mermaid');
  });
});
