import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { buildGraph, checkGraphRules, describeTasks, graphDepth, InvalidTaskError } from '../../src/graph/build.js';
import { defaultTemplatesDir, TemplateError } from '../../src/graph/templates.js';
import { isSlugid, niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { examplePlan, movingDigest, revision, sequentialIds, targetDigest } from '../support/plans.js';
import { makeTempDir } from '../support/registry.js';

const config = loadConfig();
const now = Date.UTC(2026, 10, 26, 9, 30, 15);
const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('retag graph', () => {
  const graph = buildGraph(config, examplePlan(config, { nowMs: now }), { nowMs: now, reason: 'bad deploy', requester: 'releng@mozilla.com', allowFallback: true });
  const [promote, fallback] = graph.tasks;

  it('has one promote task per target, then the fallback after them', () => {
    expect(graph.tasks.map((t) => t.label)).toEqual(['promote-signingscript-production', 'fallback-signingscript-production']);
    expect(promote!.task.dependencies).toEqual([]);
    expect(fallback!.task.dependencies).toEqual([promote!.taskId]);
    expect(fallback!.task.requires).toBe('all-resolved');
    expect(promote!.task.requires).toBe('all-completed');
    expect(graphDepth(graph)).toBe(1);
  });

  it("passes the layer plan found /app/version.json in to the promote step, so it is read beside the manifest", () => {
    expect(promote!.task.payload.command).not.toContain('--version-layer');
    const layer = `sha256:${'c3'.repeat(32)}`;
    const plan = { ...examplePlan(config, { nowMs: now }), provenance: { version: { commit: revision, source: null, build: null }, expectedRevision: revision, matches: true, checkedManifest: targetDigest, layersRead: 1, layer } };
    const [withLayer] = buildGraph(config, plan, { nowMs: now, reason: 'bad deploy', requester: 'releng@mozilla.com' }).tasks;
    const command = withLayer!.task.payload.command;
    expect(command.slice(command.indexOf('--version-layer'), command.indexOf('--version-layer') + 2)).toEqual(['--version-layer', layer]);
  });

  it('uses slugids, one task group and one schedulerId', () => {
    expect(isSlugid(graph.taskGroupId)).toBe(true);
    for (const t of graph.tasks) {
      expect(isSlugid(t.taskId)).toBe(true);
      expect(t.task.taskGroupId).toBe(graph.taskGroupId);
      expect(t.task.schedulerId).toBe('scriptworker-level-3');
      expect(t.task.taskQueueId).toBe('scriptworker-3/images');
    }
  });

  it('takes created, deadline and expires from one clock', () => {
    for (const t of graph.tasks) {
      expect(t.task.created).toBe('2026-11-26T09:30:15.000Z');
      expect(t.task.deadline).toBe('2026-11-27T09:30:15.000Z');
      expect(Date.parse(t.task.expires)).toBeGreaterThan(Date.parse(t.task.deadline));
      for (const artifact of Object.values(t.task.payload.artifacts ?? {})) expect(Date.parse(artifact.expires)).toBeLessThanOrEqual(Date.parse(t.task.expires));
    }
  });

  it('indexes the promotion (latest and dated) and notifies the configured addresses on failure', () => {
    expect(promote!.task.routes).toEqual([
      'index.scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.latest',
      'index.scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.2026.11.26.20261126093015',
      'notify.email.release+scriptworker-scripts@mozilla.com.on-failed',
      'notify.email.release+scriptworker-scripts@mozilla.com.on-exception',
    ]);
    expect(fallback!.task.routes.every((r) => r.startsWith('notify.email.'))).toBe(true);
  });

  it('gives each task the least scopes', () => {
    expect(promote!.task.scopes).toEqual(['secrets:get:project/releng/scriptworker-scripts/deploy']);
    // The fallback records a promotion that did not complete at the graph's failure index entry (history shows it).
    const failureIndex = 'scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.failed.20261126093015';
    expect(fallback!.task.scopes).toEqual([`queue:status:${promote!.taskId}`, `index:insert-task:${failureIndex}`, 'secrets:get:project/releng/scriptworker-scripts/deploy']);
    const reportOnly = buildGraph(config, examplePlan(config, { nowMs: now }), { nowMs: now, allowFallback: false });
    expect(reportOnly.tasks[1]!.task.scopes).toEqual([`queue:status:${reportOnly.tasks[0]!.taskId}`, `index:insert-task:${failureIndex}`]);
    expect(reportOnly.tasks[1]!.task.payload.command).not.toContain('--allow-force-push');
  });

  it('runs tc-promote copy with the exact digest, compare-and-swap and the archive tag', () => {
    expect(promote!.task.payload.command).toEqual([
      'tc-promote',
      'copy',
      `docker.io/mozilla/releng-signingscript@${targetDigest}`,
      'docker.io/mozilla/releng-signingscript:production',
      '--expect-current',
      movingDigest,
      '--archive-tag',
      `production-20261126093015-${revision}`,
    ]);
    expect(promote!.task.payload.image).toBe(config.taskcluster.image);
    expect(promote!.task.payload.features).toEqual({ taskclusterProxy: true });
    expect(JSON.parse(promote!.task.payload.env.TC_PROMOTE_PROMOTION!)).toMatchObject({ script: 'signingscript', env: 'production', digest: targetDigest, revision, reason: 'bad deploy', requester: 'releng@mozilla.com' });
  });

  it('runs tc-promote fallback with the promote task ids and the deploy branch', () => {
    expect(fallback!.task.payload.command).toEqual([
      'tc-promote', 'fallback', '--script', 'signingscript', '--env', 'production', '--branch', 'production-signingscript',
      '--failure-index', 'scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.failed.20261126093015',
      '--revision', revision, '--allow-force-push', '--promote-task', promote!.taskId,
    ]);
  });

  it('lists the tasks for plan', () => {
    expect(describeTasks(graph).map((t) => [t.label, t.dependencies])).toEqual([
      ['promote-signingscript-production', []],
      ['fallback-signingscript-production', ['promote-signingscript-production']],
    ]);
  });
});

describe('other routes', () => {
  it('rebuild: one force-push task with the lease when known', () => {
    const graph = buildGraph(config, examplePlan(config, { route: 'rebuild', env: 'dev' }), { branchHead: 'c'.repeat(40) });
    expect(graph.tasks.map((t) => t.kind)).toEqual(['force-push']);
    const task = graph.tasks[0]!.task;
    expect(task.payload.command).toEqual(['tc-promote', 'force-push', '--branch', 'dev-signingscript', '--revision', revision, '--expect', 'c'.repeat(40)]);
    expect(task.scopes).toEqual(['secrets:get:project/releng/scriptworker-scripts/deploy']);
    expect(task.routes[0]).toBe('index.scriptworker.v2.scriptworker-scripts.promotion.signingscript.dev.latest');
  });

  it('rerun: one rerun task scoped to the revision and the trust domain scheduler', () => {
    const graph = buildGraph(config, examplePlan(config, { route: 'rerun' }));
    expect(graph.tasks.map((t) => t.kind)).toEqual(['rerun']);
    const task = graph.tasks[0]!.task;
    expect(task.payload.command).toEqual(['tc-promote', 'rerun', '--script', 'signingscript', '--env', 'production', '--revision', revision, '--task-group-id', graph.taskGroupId]);
    expect(task.scopes).toContain(`index:find-task:scriptworker.v2.scriptworker-scripts.revision.${revision}.*`);
    expect(task.scopes).toContain('queue:rerun-task:scriptworker-level-3/*');
  });

  it('renders a graph for each of the 13 scripts and each route', () => {
    expect(config.scripts).toHaveLength(13);
    for (const script of config.scripts) {
      for (const route of ['retag', 'rebuild', 'rerun'] as const) {
        const graph = buildGraph(config, examplePlan(config, { script, route }));
        expect(graph.tasks.length).toBeGreaterThan(0);
        expect(graph.tasks.every((t) => t.task.tags.script === script)).toBe(true);
      }
    }
  });
});

describe('inside an action task', () => {
  it('puts the tasks in the action group and roots them at the action task', () => {
    const actionTaskId = niceSlugid();
    const taskGroupId = niceSlugid();
    const graph = buildGraph(config, examplePlan(config), { taskGroupId, actionTaskId });
    expect(graph.taskGroupId).toBe(taskGroupId);
    expect(graph.tasks[0]!.task.dependencies).toEqual([actionTaskId]);
    expect(graph.tasks[1]!.task.dependencies).toEqual([graph.tasks[0]!.taskId]);
    expect(graph.tasks[0]!.task.extra.parent).toBe(actionTaskId);
  });
});

describe('user input reaches templates only through the context', () => {
  it('keeps json-e syntax and shell syntax in a reason as text', () => {
    const reason = '${taskcluster.secrets.github} {$eval: "now"} $(rm -rf /) `id`';
    const graph = buildGraph(config, examplePlan(config), { reason, requester: '${owner}' });
    const task = graph.tasks[0]!.task;
    expect(task.metadata.description).toContain(reason);
    expect(JSON.parse(task.payload.env.TC_PROMOTE_PROMOTION!).reason).toBe(reason);
    expect(task.tags.createdForUser).toBe('${owner}');
    expect(task.payload.command.join(' ')).not.toContain('rm -rf');
  });
});

describe('configuration', () => {
  it('passes a configuration other than the embedded one to the tasks', () => {
    const text = readFileSync(new URL('../../config/scriptworker-scripts.yml', import.meta.url), 'utf8').replace('level: 3', 'level: 1');
    const custom = parseConfig(text, 'custom.yml');
    const graph = buildGraph(custom, examplePlan(custom));
    const task = graph.tasks[0]!.task;
    expect(task.schedulerId).toBe('scriptworker-level-1');
    expect(task.payload.command.slice(0, 2)).toEqual(['sh', '-ec']);
    expect(task.payload.command.slice(3, 6)).toEqual(['tc-promote', 'copy', `docker.io/mozilla/releng-signingscript@${targetDigest}`]);
    expect(JSON.parse(task.payload.env.TC_PROMOTE_CONFIG!)).toEqual(custom);
    // The embedded configuration needs no copy.
    expect(buildGraph(config, examplePlan(config)).tasks[0]!.task.payload.env.TC_PROMOTE_CONFIG).toBeUndefined();
  });

  it('renders one promote task per target of the environment', () => {
    const text = readFileSync(new URL('../../config/scriptworker-scripts.yml', import.meta.url), 'utf8').replace(
      "      - { registry: docker.io, repository: 'mozilla/releng-{script}', tag: production }",
      "      - { registry: docker.io, repository: 'mozilla/releng-{script}', tag: production }\n      - { registry: ghcr.io, repository: 'mozilla-releng/{script}', tag: production }",
    );
    const custom = parseConfig(text, 'two-targets.yml');
    const graph = buildGraph(custom, examplePlan(custom), { newTaskId: sequentialIds() });
    expect(graph.tasks.map((t) => t.label)).toEqual(['promote-signingscript-production-1', 'promote-signingscript-production-2', 'fallback-signingscript-production']);
    expect(graph.tasks[2]!.task.dependencies).toEqual([graph.tasks[0]!.taskId, graph.tasks[1]!.taskId]);
    expect(graph.tasks[1]!.task.payload.command).not.toContain('--expect-current');
    expect(graph.warnings.join('\n')).toContain('ghcr.io/mozilla-releng/signingscript:production: its digest was not read at plan time');
  });
});

describe('template errors', () => {
  const copy = (): string => {
    const dir = makeTempDir('tc-promote-templates-');
    tmp.push(dir);
    cpSync(defaultTemplatesDir, dir, { recursive: true });
    return dir;
  };

  it('names the file and the location inside it for a json-e error', () => {
    const dir = copy();
    const file = path.join(dir, 'promote.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace("maxRunTime: 1800", "maxRunTime: {$eval: 'no.such.value'}"));
    let error: unknown;
    try {
      buildGraph(config, examplePlan(config), { templatesDir: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).message).toMatch(/promote\.yml: template.*payload.*maxRunTime.*InterpreterError/);
  });

  it('names the field and value for a schema error', () => {
    const dir = copy();
    const file = path.join(dir, 'force-push.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace("priority: '${taskcluster.priority}'", 'priority: urgent'));
    expect(() => buildGraph(config, examplePlan(config, { route: 'rebuild' }), { templatesDir: dir })).toThrow(InvalidTaskError);
    try {
      buildGraph(config, examplePlan(config, { route: 'rebuild' }), { templatesDir: dir });
    } catch (e) {
      expect((e as InvalidTaskError).problems).toEqual(['/priority: must be equal to one of the allowed values (got "urgent")']);
      expect((e as Error).message).toContain('force-push.yml');
    }
  });
});

describe('graph rules', () => {
  it('finds dependencies out of order, mixed schedulers and bad times', () => {
    const graph = buildGraph(config, examplePlan(config));
    const [a, b] = graph.tasks;
    const broken = {
      taskGroupId: graph.taskGroupId,
      tasks: [
        { ...b!, task: { ...b!.task, schedulerId: 'other' } },
        { ...a!, task: { ...a!.task, deadline: new Date(Date.parse(a!.task.created) + 6 * 86_400_000).toISOString(), expires: a!.task.created } },
      ],
    };
    const problems = checkGraphRules(broken);
    expect(problems.join('\n')).toMatch(/schedulerId: one per task group/);
    expect(problems.join('\n')).toMatch(/fallback-signingscript-production: \/dependencies: .* is not created before it/);
    expect(problems.join('\n')).toMatch(/more than 5 days after created/);
    expect(problems.join('\n')).toMatch(/\/expires: .* is before the deadline/);
  });
});
