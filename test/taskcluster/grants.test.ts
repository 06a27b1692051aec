// `tc-promote grants`: every scope the graph's creator needs, read off the rendered tasks as
// the Queue's createTask reads them, and `--check` decided by taskcluster-lib-scopes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildGraph } from '../../src/graph/build.js';
import { checkGrants, checkScopes, createTaskExpression, createTaskScopes, requiredGrants } from '../../src/taskcluster/grants.js';
import { runCli } from '../support/cli.js';
import { examplePlan } from '../support/plans.js';
import scopes from 'taskcluster-lib-scopes';
import { makeTempDir, removeTempDir } from '../support/registry.js';

const config = loadConfig();
const dir = makeTempDir('grants-');
afterAll(() => removeTempDir(dir));

describe('requiredGrants', () => {
  const grants = requiredGrants(config);
  const listed = grants.scopes.map((s) => s.scope);

  it('lists each task scope, route, the scheduler, the project and the worker pool at the configured priority', () => {
    expect(listed).toEqual(
      expect.arrayContaining([
        'queue:create-task:high:scriptworker-3/images',
        'queue:scheduler-id:scriptworker-level-3',
        'queue:create-task:project:none',
        'queue:route:index.scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.*',
        'queue:route:notify.email.release+scriptworker-scripts@mozilla.com.on-failed',
        'queue:route:notify.email.release+scriptworker-scripts@mozilla.com.on-exception',
        'secrets:get:project/releng/scriptworker-scripts/deploy',
        'queue:status:*',
        'assume:repo:github.com/mozilla-releng/scriptworker-scripts:branch:production-signingscript',
        'index:find-task:scriptworker.v2.scriptworker-scripts.revision.*',
      ]),
    );
    // 13 scripts × 2 environments × (index route + rerun's branch role + the failed-promotion index entry) + 10 common scopes.
    expect(listed).toContain('index:insert-task:scriptworker.v2.scriptworker-scripts.promotion.signingscript.production.failed.*');
    expect(listed).toHaveLength(13 * 2 * 3 + 10);
    expect(grants.graphs).toBe(13 * 2 * 4);
    expect(listed.every((s) => scopes.validScope(s))).toBe(true);
  });

  it('covers every graph the configuration can make: the Queue expression of each task is satisfied by the list', () => {
    for (const route of ['retag', 'rebuild', 'rerun'] as const) {
      for (const graph of [buildGraph(config, examplePlan(config, { route }), { allowFallback: true }), buildGraph(config, examplePlan(config, { route, script: 'treescript', env: 'dev' }))]) {
        for (const { task } of graph.tasks) expect(scopes.satisfiesExpression(listed, createTaskExpression(task))).toBe(true);
      }
    }
  });

  it('takes a higher priority for a lower one, as the Queue does, and not the other way round', () => {
    expect(createTaskScopes('high', 'p/w')).toEqual(['queue:create-task:highest:p/w', 'queue:create-task:very-high:p/w', 'queue:create-task:high:p/w']);
    const others = listed.filter((s) => !s.startsWith('queue:create-task:high:'));
    expect(checkGrants(grants, [...others, 'queue:create-task:highest:scriptworker-3/*']).satisfied).toBe(true);
    expect(checkGrants(grants, [...others, 'queue:create-task:low:scriptworker-3/images']).missing.map((m) => m.scope)).toEqual(['queue:create-task:high:scriptworker-3/images']);
  });
});

describe('tc-promote grants', () => {
  it('prints the table and the count; --json the list and the expression', async () => {
    const table = await runCli(['grants']);
    expect(table.code).toBe(0);
    // Wider than 120 columns as a table: each scope whole on its line, what it is for under it (issue 22).
    expect(table.stdout).toMatch(/^queue:create-task:high:scriptworker-3\/images\n {4}worker pool \(or a higher priority\); tasks: /);
    expect((await runCli(['grants', '--script', 'signingscript'], { COLUMNS: '300' })).stdout).toMatch(/^SCOPE +WHY +TASKS\n/);
    // The in-flight entry (the action role and a person), then a person's: the holds, the in-flight entry, cancel.
    const inFlightLine = 'index:insert-task:scriptworker.v2.scriptworker-scripts.in-flight.*\n    in-flight (index entry); tasks: rollback, promote, action-callback\n';
    expect(table.stdout).toContain(
      `\n88 scopes for 104 graphs (13 scripts × 2 environments × every route)\n\nthe in-flight entry (the action task's role and a person: follow <script>, cancel <script> and status find the promotion by it):\n${inFlightLine}\na person's credentials also (rollback's default hold, tc-promote hold and release; the in-flight entry; tc-promote cancel):\n`,
    );
    // The hold entries, one per configured script and environment, then the in-flight entry and cancelTask's scope, last.
    expect(table.stdout).toMatch(/\nindex:insert-task:scriptworker\.v2\.scriptworker-scripts\.hold\.treescript\.dev\n {4}hold \(index entry\); tasks: rollback, hold, release\n/);
    expect(table.stdout.endsWith(`\n${inFlightLine}queue:cancel-task:scriptworker-level-3/*\n    cancel (or queue:cancel-task-in-project:none); tasks: cancel\n`)).toBe(true);
    expect(table.stdout.match(/^index:insert-task:scriptworker\.v2\.scriptworker-scripts\.hold\./gm)).toHaveLength(26);
    const json = (await runCli(['grants', '--json'])).json();
    expect(json.count).toBe(88);
    expect(json.hold).toHaveLength(26);
    expect(json.hold[0]).toEqual({ scope: 'index:insert-task:scriptworker.v2.scriptworker-scripts.hold.addonscript.production', reason: 'hold', kinds: ['rollback', 'hold', 'release'] });
    expect(json.expression.AllOf).toHaveLength(88);
    expect(json.inFlight).toEqual([{ scope: 'index:insert-task:scriptworker.v2.scriptworker-scripts.in-flight.*', reason: 'in-flight', kinds: ['rollback', 'promote', 'action-callback'] }]);
    // The real Queue's cancelTask expression (services/queue/src/api.js), for the graphs' scheduler and project.
    expect(json.cancel).toEqual([
      {
        scope: 'queue:cancel-task:scriptworker-level-3/*',
        reason: 'cancel',
        kinds: ['cancel'],
        anyOf: ['queue:cancel-task:scriptworker-level-3/*', 'queue:cancel-task-in-project:none'],
        expression: { AnyOf: ['queue:cancel-task:scriptworker-level-3/*', 'queue:cancel-task-in-project:none', { AllOf: ['queue:cancel-task', 'assume:scheduler-id:scriptworker-level-3/*'] }] },
      },
    ]);
  });

  it('checks cancel and the in-flight entry as the Queue and the Index decide them', () => {
    const grants = requiredGrants(config);
    expect(checkScopes(grants.cancel, ['queue:cancel-task:scriptworker-level-3/*']).satisfied).toBe(true);
    expect(checkScopes(grants.cancel, ['queue:cancel-task-in-project:none']).satisfied).toBe(true);
    expect(checkScopes(grants.cancel, ['queue:cancel-task', 'assume:scheduler-id:scriptworker-level-3/*']).satisfied).toBe(true);
    expect(checkScopes(grants.cancel, ['queue:cancel-task']).satisfied).toBe(false);
    // One task group's scope does not cancel every promotion's.
    expect(checkScopes(grants.cancel, ['queue:cancel-task:scriptworker-level-3/fQ3cdd3sTZyWbG6YkSPN1A/*']).satisfied).toBe(false);
    expect(checkScopes(grants.cancel, ['queue:cancel-task:scriptworker-level-1/*']).missing.map((m) => m.scope)).toEqual(['queue:cancel-task:scriptworker-level-3/*']);
    expect(checkScopes(grants.inFlight, ['index:insert-task:scriptworker.v2.scriptworker-scripts.*']).satisfied).toBe(true);
    expect(checkScopes(grants.inFlight, ['index:insert-task:scriptworker.v2.scriptworker-scripts.hold.*']).satisfied).toBe(false);
  });

  it('--check names what a scope set lacks, exit 1; exit 0 when nothing is missing (JSON or YAML)', async () => {
    const all = requiredGrants(config).scopes.map((s) => s.scope);
    const some = path.join(dir, 'some.yml');
    writeFileSync(some, all.filter((s) => !s.startsWith('secrets:')).map((s) => `- "${s}"`).join('\n'));
    const missing = await runCli(['grants', '--check', some]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^1 of 88 required scopes are not satisfied by .*some\.yml:\n/);
    expect(missing.stdout).toContain('secrets:get:project/releng/scriptworker-scripts/deploy  task scope  promote, fallback, force-push');
    const full = path.join(dir, 'full.json');
    writeFileSync(full, JSON.stringify({ scopes: ['queue:create-task:highest:scriptworker-3/*', ...all.filter((s) => !s.startsWith('queue:create-task:high:'))] }));
    const withInFlight = path.join(dir, 'with-in-flight.json');
    writeFileSync(withInFlight, JSON.stringify([...JSON.parse(readFileSync(full, 'utf8')).scopes, 'index:insert-task:scriptworker.v2.scriptworker-scripts.in-flight.*']));
    const ok = await runCli(['grants', '--check', withInFlight, '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ satisfied: true, missing: [], inFlightMissing: [] });
    // A role file (the action task's) without the in-flight entry: counted (the action task writes it) …
    const roleOnly = await runCli(['grants', '--check', full], { COLUMNS: '9999' });
    expect(roleOnly.code).toBe(1);
    expect(roleOnly.stdout).toContain(
      `ok: the 88 given scopes satisfy all 88 required scopes\nin-flight: 1 of 1 in-flight entry scopes are not satisfied by ${full}; the promotion still goes on, but follow <script>, cancel <script> and status do not find it (follow <task group> does):\nSCOPE `,
    );
    expect(roleOnly.stdout).toMatch(/\nindex:insert-task:scriptworker\.v2\.scriptworker-scripts\.in-flight\.\* +in-flight \(index entry\) +rollback, promote, action-callback\nhold: /);
    expect(roleOnly.stdout).toContain(`\nhold: 26 of 26 hold scopes are not satisfied by ${full} (the action task holds and cancels nothing: not counted in the exit code); rollback then needs --no-hold, and hold and release are refused:\n`);
    expect(roleOnly.stdout).toMatch(/\ncancel: 1 of 1 cancel scopes are not satisfied by \S+ \(the action task holds and cancels nothing: not counted in the exit code\); tc-promote cancel is then refused by the Queue:\nSCOPE .*\nqueue:cancel-task:scriptworker-level-3\/\* +cancel \(or queue:cancel-task-in-project:none\) +cancel\n$/);
    expect((await runCli(['grants', '--check', full, '--json'])).json()).toMatchObject({ satisfied: false, missing: [], inFlightMissing: [{ reason: 'in-flight' }], holdMissing: expect.any(Array), cancelMissing: [{ scope: 'queue:cancel-task:scriptworker-level-3/*' }] });
    // … with it (as fxci-config's {trust_domain}.v2.{alias}.* grant gives the action role, holds included): exit 0, cancel said, not counted.
    const role = path.join(dir, 'role.json');
    writeFileSync(role, JSON.stringify([...JSON.parse(readFileSync(full, 'utf8')).scopes, 'index:insert-task:scriptworker.v2.scriptworker-scripts.*']));
    const roleOk = await runCli(['grants', '--check', role], { COLUMNS: '9999' });
    expect(roleOk.code).toBe(0);
    expect(roleOk.stdout).toMatch(/^ok: the 89 given scopes satisfy all 88 required scopes\nin-flight: \S+ can write the in-flight entries\nhold: \S+ can hold and release all 26 configured environments\ncancel: 1 of 1 cancel scopes are not satisfied by \S+ \(the action task holds and cancels nothing: not counted in the exit code\)/);
    // A person's list: every part satisfied.
    const person = path.join(dir, 'person.json');
    writeFileSync(person, JSON.stringify([...JSON.parse(readFileSync(full, 'utf8')).scopes, 'index:insert-task:scriptworker.v2.scriptworker-scripts.hold.*', 'index:insert-task:scriptworker.v2.scriptworker-scripts.in-flight.*', 'queue:cancel-task:scriptworker-level-3/*']));
    expect((await runCli(['grants', '--check', person], { COLUMNS: '9999' })).stdout).toBe(`ok: the 91 given scopes satisfy all 88 required scopes\nin-flight: ${person} can write the in-flight entries\nhold: ${person} can hold and release all 26 configured environments\ncancel: ${person} can cancel the promotions' tasks\n`);
  });

  it('refuses a file that is not a scope list, naming it (exit 2)', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"roles": []}');
    const r = await runCli(['grants', '--check', bad]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('must be a list of scopes')]);
    writeFileSync(bad, '["ok", "bad\\u0007"]');
    expect((await runCli(['grants', '--check', bad])).stderr).toContain('/1: "bad\\u0007" is not a scope');
    expect((await runCli(['grants', '--check', path.join(dir, 'none')])).code).toBe(2);
  });

  it('refuses a list nested 30,000 deep naming the entry (exit 2), not with a stack overflow', async () => {
    const deep = path.join(dir, 'deep.json');
    writeFileSync(deep, `["queue:status:*", ${'['.repeat(30_000)}"a"${']'.repeat(30_000)}]`);
    const r = await runCli(['grants', '--check', deep]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--check ${deep}: /1: is a list ([[[[`);
    expect(r.stderr).toContain('not a scope: the file must be a flat list of scope strings');
    expect(r.stderr).not.toContain('internal error');
    // An object nested as deep, in place of the list, is named too.
    writeFileSync(deep, `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`);
    const o = await runCli(['grants', '--check', deep]);
    expect([o.code, o.stderr]).toEqual([2, expect.stringContaining('must be a list of scopes (or an object with a "scopes" list), got {"a":{"a":')]);
    // YAML nested as deep (2,000 levels fit the 1 MiB limit) is refused with exit 2 too.
    writeFileSync(deep, Array.from({ length: 2000 }, (_, i) => `${'  '.repeat(i)}-`).join('\n') + ' a\n');
    const y = await runCli(['grants', '--check', deep]);
    expect(y.code, y.stderr).toBe(2);
    expect(y.stderr).not.toContain('internal error');
  });

  it('says so when the file is an error answer of the auth service or empty (the curl that wrote it failed)', async () => {
    const answer = path.join(dir, 'answer.json');
    // What /api/auth/v1/scopes/expand answers to a body it refuses (taskcluster-lib-api's shape).
    writeFileSync(answer, JSON.stringify({ code: 'InputValidationError', message: 'Input failed schema validation\n\n---\n\n* method:     expandScopes\n* errorCode:  InputValidationError', requestInfo: { method: 'expandScopes', params: {}, payload: {}, time: '2026-12-01T00:00:00.000Z' } }));
    const error = await runCli(['grants', '--check', answer]);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain(`--check ${answer}: is an error answer from Taskcluster (InputValidationError: Input failed schema validation), not a scope list`);
    writeFileSync(answer, '');
    const empty = await runCli(['grants', '--check', answer]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`--check ${answer}: is empty`);
  });
});
