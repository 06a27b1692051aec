// Messages that say what to do next (issue 22): each names the cause a person can act on.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { makeTempDir } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const targetTag = `production-20210929025643-${'7'.repeat(40)}`;
const digest = `sha256:${'c'.repeat(64)}`;
const offline = ['submit', 'signingscript', '--offline', '--target-tag', targetTag, '--target-digest', digest, '--moving-digest', `sha256:${'d'.repeat(64)}`, '--reason', 'x'];

let tc: TaskclusterEmulator;
beforeAll(async () => {
  tc = await startTaskclusterEmulator();
});
afterAll(async () => {
  await tc?.close();
});

describe('Taskcluster refusing the credentials', () => {
  it("a wrong access token (Hawk's Bad mac) says the token is wrong, not the scopes", async () => {
    const { clientId } = tc.addClient('releng', submitterScopes());
    const r = await runCli(offline, { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: clientId, TASKCLUSTER_ACCESS_TOKEN: 'not-the-token-of-releng' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Bad mac');
    expect(r.stderr).toContain('the access token is wrong for this client ID (TASKCLUSTER_ACCESS_TOKEN does not match TASKCLUSTER_CLIENT_ID');
    expect(r.stderr).not.toContain('scopes');
    expect(r.stderr).not.toContain('not-the-token-of-releng');
  });

  it('an unknown client ID says so', async () => {
    const r = await runCli(offline, { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'nobody-knows-me', TASKCLUSTER_ACCESS_TOKEN: 'x'.repeat(44) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no such client ID|the credentials were refused/);
    expect(r.stderr).not.toContain("check the credentials' scopes");
  });
});

describe('trigger with a decision task the Queue does not know', () => {
  it('says how to find a push\'s decision task', async () => {
    const { clientId, accessToken } = tc.addClient('trigger-user', ['queue:get-task:*']);
    const r = await runCli(['trigger', '--decision-task-id', 'fXsd8WIzR9y1QRJTQNMn9A', '--input', '{"script": "signingscript", "environment": "production", "reason": "bad"}'], {
      TASKCLUSTER_ROOT_URL: tc.rootUrl,
      TASKCLUSTER_CLIENT_ID: clientId,
      TASKCLUSTER_ACCESS_TOKEN: accessToken,
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`--decision-task-id fXsd8WIzR9y1QRJTQNMn9A: no such task in ${tc.rootUrl}; a push's decision task is indexed by its revision: ${tc.rootUrl}/tasks/index/scriptworker.v2.scriptworker-scripts.revision.<REVISION>.taskgraph.decision`);
  });
});

describe('a registry nothing listens at', () => {
  it('names the registry and the flag that chose it', async () => {
    const r = await runCli(['history', 'signingscript', '--registry', 'http://127.0.0.1:9'], { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/connection refused: nothing listens at 127\.0\.0\.1:9, the registry named by --registry\n$/);
  });

  it("names the configuration's entry when the configuration chose it", async () => {
    const dir = makeTempDir('refused-config-');
    const file = path.join(dir, 'c.yml');
    const { loadConfig } = await import('../../src/config/load.js');
    const { dump } = await import('js-yaml');
    const config = JSON.parse(JSON.stringify(loadConfig()).replaceAll('"docker.io"', '"127.0.0.1:9"'));
    (await import('node:fs')).writeFileSync(file, dump(config));
    const r = await runCli(['history', 'signingscript', '--config', file], { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nothing listens at 127.0.0.1:9, the registry named by the configuration's environments.production.source (--config, or --registry URL for another)");
  });
});

describe('paths that do not exist', () => {
  it('--check FILE that does not exist says so', async () => {
    const r = await runCli(['grants', '--check', '/nonexistent/role-scopes.json']);
    expect([r.code, r.stderr]).toEqual([2, 'tc-promote grants: error: --check: "/nonexistent/role-scopes.json" does not exist (ENOENT)\n']);
  });

  it('--output in a folder that does not exist names the folder and the mkdir that makes it', async () => {
    const dir = makeTempDir('output-');
    const out = path.join(dir, 'artifacts', 'actions.json');
    const r = await runCli(['actions', '--output', out, '--decision-task-id', 'fXsd8WIzR9y1QRJTQNMn9A', '--revision', '7'.repeat(40)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--output: cannot write "${out}": its folder "${path.dirname(out)}" does not exist (mkdir -p ${path.dirname(out)} makes it)`);
    mkdirSync(path.dirname(out));
    expect((await runCli(['actions', '--output', out, '--decision-task-id', 'fXsd8WIzR9y1QRJTQNMn9A', '--revision', '7'.repeat(40)])).code).toBe(0);
  });
});

describe('grants --script and a bare --check', () => {
  it('--script S lists only the graphs of that script', async () => {
    const r = await runCli(['grants', '--script', 'signingscript']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ scopes for 8 graphs \(1 script × 2 environments × every route\)\n\nthe in-flight entry /);
    expect(r.stdout).toMatch(/\na person's credentials also [^\n]*\nindex:insert-task:scriptworker\.v2\.scriptworker-scripts\.hold\.signingscript\.production\n/);
    expect(r.stdout.match(/^index:insert-task:scriptworker\.v2\.scriptworker-scripts\.hold\.signingscript\.(production|dev)$/gm)).toHaveLength(2);
    expect(r.stdout).not.toContain('beetmoverscript');
    expect((await runCli(['grants', '--script', 'signingscirpt'])).code).toBe(2);
  });

  it("--check without a file checks the caller's own credentials (auth.currentScopes)", async () => {
    const mine = tc.addClient('releng-can', submitterScopes());
    const ok = await runCli(['grants', '--check'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: mine.clientId, TASKCLUSTER_ACCESS_TOKEN: mine.accessToken });
    expect([ok.code, ok.stderr]).toEqual([expect.any(Number), '']);
    const few = tc.addClient('releng-cannot', ['queue:create-task:high:scriptworker-3/images']);
    const r = await runCli(['grants', '--check', '--json'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: few.clientId, TASKCLUSTER_ACCESS_TOKEN: few.accessToken });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json().satisfied).toBe(false);
    const text = await runCli(['grants', '--check'], { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: few.clientId, TASKCLUSTER_ACCESS_TOKEN: few.accessToken });
    expect(text.stdout).toMatch(/^\d+ of \d+ required scopes are not satisfied by the credentials of releng-cannot:\n/);
    const none = await runCli(['grants', '--check']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--check: TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN are not set');
  });
});
