// The promotion clicked in the real Taskcluster UI, in a real browser (issue 24): the same path
// as ui-promotion-real-taskcluster.registry.test.ts, triggered by a person instead of
// `tc-promote trigger`:
//
//   the real services (the shared real-services fixture) + web-server + the built UI
//   (Taskcluster v106, ../shared/upstream/taskcluster-ui; support/taskcluster-ui.ts) behind the
//   fixture's one root URL
//   → headless Chromium (Debian's) driven by playwright-core (support/ui-browser.ts): sign in with
//     credentials, open the decision task's group, hover the actions menu, choose "Promote image",
//     the form the action's schema gives, fill it, submit: the UI's own checks (actions.json
//     against /schemas/common/action-schema-v1.json, the input against the action's schema, the
//     decision task's in-tree:hook-action: scope through web-server's expandScopes) and its
//     triggerHook through web-server
//   → the real Hooks service creates the action task; the real-Queue worker runs it
//     (`tc-promote action-callback`), then the graph; the moving tag moves in the real registry.
// And what must fail: a person without the trigger scope sees the refusal; a level-1 (pull
// request) decision task does not offer the action, and when its actions.json names the level-3
// hook anyway the UI refuses it; an input the schema refuses is not submitted.
//
// Opt-in locally (TC_PROMOTE_UI_TEST=1), always in CI (CI=true): it needs Debian's chromium and
// the UI's cached build (about 2 minutes cold, scripts/test.sh installs chromium). Screenshots of
// every step: test-artifacts/ui/ (git-ignored), replaced on each run.
//
// What stands in: the decision task's actions.json is taskgraph's real output for
// scriptworker-scripts (../shared/reference/taskgraph) with `tc-promote actions --merge`'s entry
// (the entry the patched repository's taskgraph registration writes: test/consumers); the
// level-1 one is the same file with taskgraph's level-1 hook ids and no promote-image (the
// registration offers it at level 3 only). The action task's git fetch reaches a local bare
// repository and GitHub's API is the GitHub emulator, as in the test this one follows.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli } from '../support/cli.js';
import { applyConsumerPatches, consumerConfigPath, type PatchedCopies } from '../support/consumers.js';
import { buildImage, headManifest } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { realTaskclusterSkipped, sharedRealTaskcluster, memoryOf, processesMentioning, type RealTaskcluster } from '../support/real-taskcluster.js';
import { deployFirefoxCi, exclusiveFirefoxCi, firefoxCiResources, type FirefoxCiResources } from '../support/real-fxci.js';
import { client, listGroup, RealWorker } from '../support/real-worker.js';
import { referencePath, repositoryRoot } from '../support/reference.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { ensureUiBuild, ensureWebServerTree } from '../support/taskcluster-ui-build.js';
import { startTaskclusterUi, type TaskclusterUi } from '../support/taskcluster-ui.js';
import { UiPerson } from '../support/ui-browser.js';

const optedIn = process.env.CI === 'true' || process.env.TC_PROMOTE_UI_TEST === '1';
const skipped = realTaskclusterSkipped() ?? (optedIn ? undefined : 'the UI click-through runs in CI, or locally with TC_PROMOTE_UI_TEST=1');
const repository = 'mozilla-releng/scriptworker-scripts';
const repoUrl = `https://github.com/${repository}`;
const signing = 'mozilla/releng-signingscript';
const deploySecret = 'project/releng/scriptworker-scripts/deploy';
const decisionQueue = `tc-promote-tests/ui-decision-${process.pid}`;
export const shotsDir = path.join(repositoryRoot, 'test-artifacts', 'ui');

let tc: RealTaskcluster;
/** Firefox-CI's secret and hook, this file's until its afterAll (exclusiveFirefoxCi). */
let releaseNames: (() => void) | undefined;
let ui: TaskclusterUi;
let copies: PatchedCopies;
let fxci: FirefoxCiResources;
let reg: RunningRegistry;
let repo: GitFixture;
let gh: GitHubEmulator;
let head: string;
let oncall: { clientId: string; accessToken: string };
let reader: { clientId: string; accessToken: string };
let tags: { A: string; B: string };
let digests: { A: string; B: string };
let workerEnv: Record<string, string>;
let browser: Awaited<ReturnType<typeof UiPerson.launch>>;
const workers: RealWorker[] = [];
const timings: Record<string, number> = {};
let peakMiB = 0;

function commitFile(fixture: GitFixture, file: string, text: string): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(fixture.gitDir, 'tc-promote-index'), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Release Engineer', GIT_AUTHOR_EMAIL: 'releng@example.com', GIT_COMMITTER_NAME: 'Release Engineer', GIT_COMMITTER_EMAIL: 'releng@example.com' };
  const git = (args: string[], input?: string): string => execFileSync('git', ['--git-dir', fixture.gitDir, ...args], { env, encoding: 'utf8', ...(input !== undefined && { input }) }).trim();
  const parent = git(['rev-parse', fixture.defaultBranch]);
  git(['read-tree', parent]);
  const blob = git(['hash-object', '-w', '--stdin'], text);
  git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`]);
  const commit = git(['commit-tree', git(['write-tree']), '-p', parent, '-m', `Add ${file}`]);
  git(['update-ref', `refs/heads/${fixture.defaultBranch}`, commit]);
  return commit;
}

async function worker(taskQueueId: string): Promise<RealWorker> {
  const existing = workers.find((w) => w.options.taskQueueId === taskQueueId);
  if (existing) return existing;
  const w = await RealWorker.create(tc, { taskQueueId, env: workerEnv });
  workers.push(w);
  return w;
}

/** Resident memory of the services, web-server, the UI server and Chromium, MiB (the peak is kept). */
function sampleMemory(): number {
  const chromium = processesMentioning('chromium').map((p) => p.pid);
  let kib = 0;
  for (const pid of chromium) {
    try {
      kib += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  const total = tc.memoryMiB() + Math.round(kib / 1024);
  peakMiB = Math.max(peakMiB, total);
  return total;
}

beforeAll(async () => {
  if (skipped) return;
  const started = Date.now();
  rmSync(shotsDir, { recursive: true, force: true });
  mkdirSync(shotsDir, { recursive: true });
  // The UI's install and build (cached) beside the services' start.
  const prepared = Promise.all([ensureWebServerTree(), ensureUiBuild()]);
  tc = await sharedRealTaskcluster();
  releaseNames = await exclusiveFirefoxCi(tc);
  await prepared;
  ui = await startTaskclusterUi(tc);
  timings.setUp = (Date.now() - started) / 1000;
  let step = Date.now();
  copies = applyConsumerPatches();
  fxci = firefoxCiResources();
  // The hook was generated from the same patched .taskcluster.yml the decision task's actions.json is made from.
  expect(fxci.world.patchedTaskclusterYml).toBe(readFileSync(copies.taskclusterYmlPath, 'utf8'));
  repo = createGitFixture({ scripts: ['signingscript'], commits: 5, productionAt: 2 });
  reg = await startRegistry({ auth: 'token' });
  const consumerConfig = readFileSync(consumerConfigPath, 'utf8').replaceAll('registry: docker.io', `registry: ${reg.host}`);
  head = commitFile(repo, 'taskcluster/tc-promote.yml', consumerConfig);
  repo.git('config', 'uploadpack.allowAnySHA1InWant', 'true');
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  tags = { A: `production-20240101000000-${repo.commits[1]}`, B: `production-20240201000000-${repo.commits[2]}` };
  digests = {
    A: (await buildImage(reg, { repository: signing, commit: repo.commits[1]!, tags: [tags.A] })).digest,
    B: (await buildImage(reg, { repository: signing, commit: repo.commits[2]!, tags: ['production', tags.B] })).digest,
  };
  timings.fixtures = (Date.now() - step) / 1000;
  step = Date.now();
  const deployed = await deployFirefoxCi(tc, fxci);
  timings.fxciRolesWritten = deployed.written;
  timings.fxciRolesUnchanged = deployed.unchanged;
  timings.fxciDeploy = (Date.now() - step) / 1000;
  // Firefox-CI's anonymous role (what every signed-in person holds too: the UI's reads,
  // auth:expand-scopes, web:read-pulse), from the patched fxci-config's grants.
  const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
  const anonymous = [...new Set([...fxci.roles.anonymous!, 'queue:get-artifact:public/*'])];
  await auth.updateRole('anonymous', { description: 'fxci-config (tc-promote tests): anonymous', scopes: anonymous });
  await client('Secrets', tc.rootUrl, tc.rootCredentials).set(deploySecret, {
    secret: { dockercfg: { auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } } }, github_token: gh.token },
    expires: new Date(Date.now() + 86_400_000).toISOString(),
  });
  const person = async (name: string, scopes: string[]) => {
    const clientId = `tc-promote-tests/${name}-${process.pid}`;
    const made = await auth.createClient(clientId, { description: `a person at the UI: ${name}`, expires: new Date(Date.now() + 86_400_000).toISOString(), scopes });
    return { clientId, accessToken: made.accessToken as string };
  };
  // The on-call release engineer: the trigger grant (consumers/README.md), nothing else; and a
  // colleague who may read everything (anonymous) but not fire the hook.
  oncall = await person('releng-oncall', [`hooks:trigger-hook:${fxci.hook.hookGroupId}/in-tree-action-3-release-promotion/*`]);
  reader = await person('releng-reader', []);
  workerEnv = { GITHUB_API_URL: gh.url, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${repo.gitDir}.insteadOf`, GIT_CONFIG_VALUE_0: repoUrl, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', TC_PROMOTE_RETRY_BASE_MS: '1' };
  // Chromium's and Playwright's temporary folders inside the fixture's state folder, which its
  // teardown and its watchdog remove however this run ends.
  browser = await UiPerson.launch(path.join(tc.stateDir, 'chromium-tmp'));
  timings.beforeAll = (Date.now() - started) / 1000;
}, 900_000);

afterAll(async () => {
  // Every step is tried even when one before it fails (a failed beforeAll leaves some unset);
  // the first failure is thrown at the end. The services, web-server and the UI server are the
  // shared fixture's processes: its teardown (or watchdog) stops them.
  const failures: unknown[] = [];
  const attempt = async (step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  };
  await attempt(() => browser?.close());
  for (const w of workers) await attempt(() => w.cleanup());
  await attempt(() => reg?.stop());
  await attempt(() => gh?.stop());
  await attempt(() => repo?.cleanup());
  await attempt(() => copies?.cleanup());
  await attempt(() => releaseNames?.());
  if (!skipped && tc) {
    // eslint-disable-next-line no-console
    console.log(`UI click-through on the real Taskcluster: ${JSON.stringify({ ...timings, ui: ui?.timings, builtNow: ui?.builtNow, peakMiB })}`);
  }
  if (failures.length > 0) throw failures[0];
});

/**
 * A decision task run by the real-Queue worker, publishing public/actions.json (an s3
 * artifact: web-server reads only those): a level-3 push's (taskgraph's actions with
 * promote-image), a level-1 pull request's as taskgraph writes it (its own level-1 hooks, no
 * promote-image), or a level-1 one whose actions.json names the level-3 hook anyway (its author
 * controls that file).
 */
async function decisionTask(kind: 'push' | 'pull-request' | 'pull-request-naming-level-3'): Promise<string> {
  const decisionTaskId = niceSlugid();
  const actionsFile = path.join(path.dirname(copies.taskclusterYmlPath), `actions-${decisionTaskId}.json`);
  let actions = readFileSync(referencePath('taskgraph', 'scriptworker-scripts.actions.json'), 'utf8').replaceAll('Cv1d8fPHRzWvO3MZbI1e3A', decisionTaskId);
  if (kind === 'pull-request') actions = actions.replaceAll('in-tree-action-3-', 'in-tree-action-1-').replaceAll('"level": "3"', '"level": "1"');
  writeFileSync(actionsFile, actions);
  if (kind !== 'pull-request') {
    const merged = await runCli(['actions', '--merge', actionsFile, '--taskcluster-yml', copies.taskclusterYmlPath, '--decision-task-id', decisionTaskId, '--revision', head, '--branch', 'refs/heads/master', '--level', '3', '--repository-url', repoUrl, '--owner', 'releng@mozilla.com']);
    expect(merged.code, merged.stderr).toBe(0);
  }
  const level = kind === 'push' ? 3 : 1;
  const now = Date.now();
  await client('Queue', tc.rootUrl, tc.rootCredentials).createTask(decisionTaskId, {
    taskGroupId: decisionTaskId,
    schedulerId: `scriptworker-level-${level}`,
    taskQueueId: decisionQueue,
    scopes: [level === 3 ? `assume:repo:github.com/${repository}:branch:master` : `assume:repo:github.com/${repository}:pull-request`],
    created: new Date(now).toISOString(),
    deadline: new Date(now + 86_400_000).toISOString(),
    expires: new Date(now + 30 * 86_400_000).toISOString(),
    payload: { image: 'mozillareleases/tc-promote:latest', maxRunTime: 60, command: ['sh', '-c', `mkdir -p /builds/worker/artifacts && cp ${JSON.stringify(actionsFile)} /builds/worker/artifacts/actions.json`], artifacts: { public: { type: 'directory', path: '/builds/worker/artifacts' } } },
    metadata: { name: kind === 'push' ? 'Decision Task' : 'Decision Task (pull request)', description: '', owner: 'releng@mozilla.com', source: `${repoUrl}/raw/${head}/.taskcluster.yml` },
  });
  const [run] = await (await worker(decisionQueue)).runTaskGroup(decisionTaskId);
  expect(run?.state, run?.log).toBe('completed');
  return decisionTaskId;
}

const form = (input: Record<string, unknown>): string => `${Object.entries(input).map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join('\n')}\n`;

describe.skipIf(skipped)('the promotion clicked in the real Taskcluster UI (headless Chromium) on the real services', () => {
  it('a release engineer rolls signingscript back from the UI: the hook fires, the graph runs, the moving tag moves', async () => {
    const decisionTaskId = await decisionTask('push');
    const clickStarted = Date.now();
    const person = await UiPerson.open(ui.rootUrl, { browser, shots: shotsDir });
    let actionTaskId: string;
    const input = { script: 'signingscript', environment: 'production', target: 'previous', reason: 'signing fails since the last deploy' };
    try {
      await person.signIn(oncall.clientId, oncall.accessToken);
      await person.shot('signed-in');
      await person.openTaskGroup(decisionTaskId);
      const titles = await person.openActionsMenu();
      // taskgraph's own actions of the task group (context []) and tc-promote's beside them.
      expect(titles).toEqual(expect.arrayContaining(['Promote image', 'Add new jobs', 'Cancel All', 'Rebuild Cached Tasks']));
      sampleMemory();
      const dialog = await person.chooseAction('Promote image');
      // The form is the schema's defaults as YAML; script and reason (required, no default) the person adds.
      expect(dialog.form).toContain('environment: production');
      expect(dialog.form).toContain('target: previous');
      expect(dialog.form).not.toContain('script:');
      expect(dialog.description).toContain(`This action triggers hook ${fxci.hook.hookGroupId}/${fxci.hook.hookId}`);
      for (const field of ['script', 'target', 'reason', 'signingscript']) expect(dialog.schema).toContain(field);
      await person.fillForm(form(input));
      const outcome = await person.submit('Promote image');
      expect(outcome, JSON.stringify(person.consoleErrors)).toHaveProperty('taskId');
      actionTaskId = (outcome as { taskId: string }).taskId;
      sampleMemory();
    } finally {
      timings.clickThrough = (Date.now() - clickStarted) / 1000;
      await person.close();
    }
    // The action task as the real Hooks service created it: in the decision task's group, the
    // input the person typed, the action role only.
    const queue = client('Queue', tc.rootUrl);
    const actionTask = await queue.task(actionTaskId);
    expect(actionTask.taskGroupId).toBe(decisionTaskId);
    expect(actionTask.scopes).toEqual([`assume:repo:github.com/${repository}:action:release-promotion`]);
    expect(JSON.parse(actionTask.payload.env.ACTION_INPUT)).toEqual(input);
    expect(actionTask.payload.env.ACTION_TASK_GROUP_ID).toBe(decisionTaskId);
    const fires = await client('Hooks', tc.rootUrl, tc.rootCredentials).listLastFires(fxci.hook.hookGroupId, fxci.hook.hookId);
    expect(fires.lastFires.map((f: { taskId: string; result: string; firedBy: string }) => [f.taskId, f.result, f.firedBy])).toContainEqual([actionTaskId, 'success', 'triggerHook']);

    // The worker runs the action task (tc-promote action-callback), then the graph it created.
    const runStarted = Date.now();
    const actionWorker = await worker(actionTask.taskQueueId);
    let action = await actionWorker.claimOne();
    for (let i = 0; !action && i < 100; i++) action = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => actionWorker.claimOne());
    expect([action?.label, action?.state], action?.log).toEqual(['Action: Promote image', 'completed']);
    const graph = (await listGroup(queue, decisionTaskId)).filter((t) => ['promote', 'fallback'].includes((t.task.tags as Record<string, string> | undefined)?.kind ?? ''));
    expect(graph.map((t) => (t.task.tags as Record<string, string>).kind).sort()).toEqual(['fallback', 'promote']);
    const runs = await (await worker(graph[0]!.task.taskQueueId as string)).runTaskGroup(decisionTaskId, { timeoutMs: 120_000 });
    expect(runs.map((r) => [r.label, r.state]), runs.map((r) => `${r.label}:\n${r.log}`).join('\n')).toEqual([
      ['promote-signingscript-production', 'completed'],
      ['fallback-signingscript-production', 'completed'],
    ]);
    timings.graphRuns = (Date.now() - runStarted) / 1000;
    // The Queue: every task of the group resolved completed.
    const group = await listGroup(queue, decisionTaskId);
    expect(group.map((t) => t.status.state)).toEqual(group.map(() => 'completed'));
    // The registry: the moving tag points at the previous-known-good image (A), an archive tag records it.
    expect((await headManifest(reg, signing, 'production'))!.digest).toBe(digests.A);
    const record = JSON.parse(runs[0]!.artifacts.get('public/promotion.json')!.toString('utf8'));
    expect(record).toMatchObject({ script: 'signingscript', env: 'production', from: tags.B, to: tags.A, digest: digests.A, reason: input.reason, outcome: 'written' });
    expect((await headManifest(reg, signing, record.archiveTag.tag))!.digest).toBe(digests.A);
    // The same, as the person sees it afterwards: the task group, all green.
    const after = await UiPerson.open(ui.rootUrl, { browser, shots: shotsDir, prefix: 'after-' });
    try {
      await after.signIn(oncall.clientId, oncall.accessToken);
      await after.visit(`/tasks/groups/${decisionTaskId}`, 'promote-signingscript-production', 'task-group-done');
      await after.visit(`/tasks/${runs[0]!.taskId}`, 'promote-signingscript-production', 'promote-task');
    } finally {
      await after.close();
    }
    sampleMemory();
    timings.servicesMiB = memoryOf(Object.values(tc.processes()));
  }, 300_000);

  it('a person without the trigger scope: the UI shows the real Hooks service refusal, and nothing is created', async () => {
    const decisionTaskId = await decisionTask('push');
    const fires = async () => (await client('Hooks', tc.rootUrl, tc.rootCredentials).listLastFires(fxci.hook.hookGroupId, fxci.hook.hookId)).lastFires.length;
    const firesBefore = await fires();
    const person = await UiPerson.open(ui.rootUrl, { browser, shots: shotsDir, prefix: 'denied-' });
    try {
      await person.signIn(reader.clientId, reader.accessToken);
      await person.openTaskGroup(decisionTaskId);
      await person.openActionsMenu();
      await person.chooseAction('Promote image');
      await person.fillForm(form({ script: 'signingscript', environment: 'production', reason: 'not mine to do' }));
      const outcome = await person.submit('Promote image');
      expect(outcome).toHaveProperty('error');
      const { error } = outcome as { error: string };
      // web-server's GraphQL error: the real Hooks service's InsufficientScopes answer.
      expect(error).toContain(`Client ID ${reader.clientId} does not have sufficient scopes`);
      expect(error).toContain(`hooks:trigger-hook:${fxci.hook.hookGroupId}/${fxci.hook.hookId}`);
      // The dialog stays open with the person's input: they can ask for the grant and retry.
      expect(await person.dialogStillOpen('Promote image')).toBe(true);
      expect(person.page.url()).toContain(`/tasks/groups/${decisionTaskId}`);
    } finally {
      await person.close();
    }
    expect(await fires()).toBe(firesBefore);
    expect((await listGroup(client('Queue', tc.rootUrl), decisionTaskId)).length).toBe(1);
  }, 180_000);

  it("a level-1 (pull request) decision task: taskgraph's actions.json does not offer promote-image; one naming the level-3 hook anyway is refused by the UI", async () => {
    const offered = await decisionTask('pull-request');
    const fires = async () => (await client('Hooks', tc.rootUrl, tc.rootCredentials).listLastFires(fxci.hook.hookGroupId, fxci.hook.hookId)).lastFires.length;
    const firesBefore = await fires();
    const person = await UiPerson.open(ui.rootUrl, { browser, shots: shotsDir, prefix: 'pull-request-' });
    try {
      await person.signIn(oncall.clientId, oncall.accessToken);
      await person.openTaskGroup(offered, /Decision Task \(pull request\)/);
      const titles = await person.openActionsMenu();
      expect(titles).toContain('Add new jobs');
      expect(titles).not.toContain('Promote image');
      const forged = await decisionTask('pull-request-naming-level-3');
      await person.openTaskGroup(forged, /Decision Task \(pull request\)/);
      await person.openActionsMenu();
      await person.chooseAction('Promote image');
      await person.fillForm(form({ script: 'signingscript', environment: 'production', reason: 'from a pull request' }));
      const outcome = await person.submit('Promote image');
      expect(outcome).toEqual({ error: expect.stringContaining(`decision task's scopes do not satisfy in-tree:hook-action:${fxci.hook.hookGroupId}/${fxci.hook.hookId}`) });
      expect(await person.dialogStillOpen('Promote image')).toBe(true);
      expect((await listGroup(client('Queue', tc.rootUrl), forged)).length).toBe(1);
      expect(await fires()).toBe(firesBefore);
    } finally {
      await person.close();
    }
  }, 180_000);

  it("an input the action's schema refuses (a script that does not exist, no reason) is not submitted", async () => {
    const decisionTaskId = await decisionTask('push');
    const firesBefore = (await client('Hooks', tc.rootUrl, tc.rootCredentials).listLastFires(fxci.hook.hookGroupId, fxci.hook.hookId)).lastFires.length;
    const person = await UiPerson.open(ui.rootUrl, { browser, shots: shotsDir, prefix: 'bad-input-' });
    try {
      await person.signIn(oncall.clientId, oncall.accessToken);
      await person.openTaskGroup(decisionTaskId);
      await person.openActionsMenu();
      await person.chooseAction('Promote image');
      await person.fillForm(form({ script: 'signingscrpt', environment: 'production' }));
      const outcome = await person.submit('Promote image');
      expect(outcome).toHaveProperty('error');
      // submitTaskAction's ajv.errorsText of the action's schema: both faults, named.
      const { error } = outcome as { error: string };
      expect(error).toContain("data must have required property 'reason'");
      expect(error).toContain('data/script must be equal to one of the allowed values');
      expect(await person.dialogStillOpen('Promote image')).toBe(true);
    } finally {
      await person.close();
    }
    expect((await client('Hooks', tc.rootUrl, tc.rootCredentials).listLastFires(fxci.hook.hookGroupId, fxci.hook.hookId)).lastFires.length).toBe(firesBefore);
    expect((await listGroup(client('Queue', tc.rootUrl), decisionTaskId)).length).toBe(1);
  }, 180_000);
});
