// What a new user hit on a first try (issue 13, "fix what a new user hit"), each held here.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli, runCliProcess } from '../support/cli.js';
import { submitterScopes } from '../support/clients.js';
import { makeTempDir } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const targetTag = `production-20210929025643-${'7'.repeat(40)}`;
const digest = `sha256:${'c'.repeat(64)}`;

describe("the README's examples", () => {
  it('the actions --output example runs as written (inside a decision task: TASK_ID set, a git checkout)', async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    // The example's command line, with its continuation.
    const match = /^tc-promote actions --output artifacts\/actions\.json \\\n\s+(.*?)\s+#/m.exec(readme);
    expect(match, 'the README has the actions --output example').not.toBeNull();
    const out = path.join(makeTempDir('readme-actions-'), 'actions.json');
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const rest = match![1]!.replace('"$TASK_ID"', 'fXsd8WIzR9y1QRJTQNMn9A').replace('"$(git rev-parse HEAD)"', revision).split(/\s+/);
    const r = await runCli(['actions', '--output', out, ...rest]);
    expect([r.code, r.stderr]).toEqual([0, `wrote ${out}: 1 action(s)\n`]);
    expect(JSON.parse(readFileSync(out, 'utf8')).actions[0].name).toBe('promote-image');
  });

  it('without --decision-task-id, the error shows the whole command to run', async () => {
    const r = await runCli(['actions', '--output', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--decision-task-id: missing; the action names its decision task (inside one TASK_ID is set): tc-promote actions --output actions.json --decision-task-id "$TASK_ID" --revision "$(git rev-parse HEAD)"');
  });
});

describe('validate says what it counted', () => {
  it('104 graphs are 13 scripts × 2 environments × 4 variants, named', async () => {
    const r = await runCli(['validate']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ tasks in 104 graphs \(13 scripts × 2 environments × 4 variants: retag, retag with the fallback force-push, rebuild, rerun\)/);
  });
});

describe('submit without Taskcluster credentials', () => {
  it('fails at once, exit 2, naming the variables, before any request (no registry read, no DNS of the deployment)', async () => {
    const started = Date.now();
    // The registry named here does not answer: a plan would fail with exit 1 after retries.
    const r = await runCliProcess(['submit', 'signingscript', '--registry', 'http://127.0.0.1:9', '--reason', 'x'], { TC_PROMOTE_RETRY_BASE_MS: '2000' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN: not set; submit creates tasks in https://firefox-ci-tc.services.mozilla.com and needs credentials (inside a task, TASKCLUSTER_PROXY_URL); nothing was planned or created');
    // A dry run needs none.
    const dry = await runCli(['submit', 'signingscript', '--offline', '--target-tag', targetTag, '--target-digest', digest, '--dry-run']);
    expect(dry.code).toBe(0);
  });

  it('so does rollback', async () => {
    const r = await runCli(['rollback', 'signingscript', '--registry', 'http://127.0.0.1:9', '--yes']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN: not set; rollback creates tasks')]);
  });
});

describe("rerun's way out", () => {
  it('its help names a command that exists for a rebuild, not a --route rerun does not have', async () => {
    const help = (await runCli(['rerun', '--help'])).stdout;
    expect(help).not.toMatch(/--route rebuild is the way/);
    expect(help).toContain('tc-promote submit <script> --to <revision> --route rebuild (rerun itself has no --route)');
    const flags = await runCli(['rerun', '--script', 'signingscript', '--revision', 'f'.repeat(40), '--route', 'rebuild']);
    expect(flags.stderr).toContain("Unknown option '--route'");
  });
});

describe('--to an environment', () => {
  it('--to dev points to --from-env, before any request', async () => {
    const r = await runCli(['plan', 'signingscript', '--to', 'dev', '--registry', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--to: "dev" is the moving tag of dev; to promote what dev runs now, use --from-env dev (tc-promote promote signingscript --from-env dev), or name one of its deploys with --to dev-…');
    const own = await runCli(['plan', 'signingscript', '--to', 'production', '--registry', 'http://127.0.0.1:9']);
    expect([own.code, own.stderr]).toEqual([2, expect.stringContaining("--to: \"production\" is production's own moving tag, what runs now (current)")]);
  });
});

describe('a duplicate submit', () => {
  let tc: TaskclusterEmulator;
  beforeAll(async () => {
    tc = await startTaskclusterEmulator();
    tc.addClient('releng', submitterScopes(), 'dup-secret-token');
  });
  afterAll(async () => tc?.close());

  it('says that nothing was created and why, not "1 task(s) could not be created; 0 were"', async () => {
    const env = { TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'dup-secret-token' };
    const argv = ['submit', 'signingscript', '--offline', '--target-tag', targetTag, '--target-digest', digest, '--moving-digest', `sha256:${'d'.repeat(64)}`, '--reason', 'dup'];
    const first = await runCli([...argv, '--task-group-id', niceSlugid()], env);
    expect(first.code, first.stderr).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await runCli([...argv, '--task-group-id', niceSlugid()], env);
    expect(again.code).toBe(3);
    expect(again.stderr).not.toContain('could not be created; 0 were');
    expect(again.stderr).toMatch(/nothing was created: the Queue refused the task and the 1 after it were not sent:\n {2}promote-signingscript-production \(\S+\): createTask \S+: 409 RequestConflict: .*another promotion of this tag from the same digest was submitted first/);
  });
});
