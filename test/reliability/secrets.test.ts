// No credential ever appears in output, logs, artifacts or errors (SPEC section 7). With
// distinctive credentials everywhere tc-promote can find them — a basic-auth and a token-auth
// registry in the docker configuration (user:password, and an identity token), GITHUB_TOKEN,
// TASKCLUSTER_ACCESS_TOKEN, and the GitHub token in the Taskcluster secret — every command
// runs: successful runs, failing runs (wrong passwords and tokens, the Queue answering 401 and
// 500, GitHub answering 401 and 500), and with --debug. Then stdout, stderr, every file written
// (artifact folders, --output files, promotion.json, task-graph.json) and every task created in
// the Taskcluster emulator are searched for each secret, its base64 and base64url forms (at
// every alignment, so a secret inside a longer encoded string is found too), the base64 of
// user:password, and for anything shaped like a bearer token (JWT).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildAction, mergeAction } from '../../src/graph/actions.js';
import { inTreeActionHookTemplate, parseTaskclusterYml } from '../../src/graph/taskcluster-yml.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { archiveTag, buildImage } from '../support/fixtures.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { json, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { grantProjectAction, projectRepository, submitterScopes, triggerScopes } from '../support/clients.js';
import { startTaskProxy, type TaskProxy } from '../support/task-proxy.js';

const repository = 'mozilla-releng/scriptworker-scripts';
const signing = 'mozilla/releng-signingscript';
const now = '2021-02-01T00:00:00Z';
const username = 'releng-deploy';

// The secrets: distinctive, and long enough that their encodings cannot occur by chance.
const secrets = {
  basicPassword: 'basicPW-7Hq2xZ9mLw4Rt8Vn3Kp',
  tokenPassword: 'tokenPW-Jd6Ys1Fb5Nc0Gh2Qx9W',
  wrongPassword: 'wrongPW-Ue4Ta8Lr2Mi7Bo5Sz1C',
  githubToken: 'ghp_SECRETgithubTOKENvalue0123456789ab',
  wrongGithubToken: 'ghp_WRONGgithubTOKENvalue9876543210zz',
  secretGithubToken: 'ghs_FROMtaskclusterSECRETtoken4242424',
  taskclusterAccessToken: 'tcAccessToken-Zk3Pq8Wv1Xr6Yb2Nd5Mf9Lg0',
  identityToken: '', // issued by the token service at setup
};

let basicReg: RunningRegistry;
let tokenReg: RunningRegistry;
let basicFront: FaultProxy;
let tc: TaskclusterEmulator;
let queueProxy: FaultProxy;
let repo: GitFixture;
let gh: GitHubEmulator;
let githubProxy: FaultProxy;
/** A promote task's proxy: only secrets:get of the deploy secret. */
let taskProxy: TaskProxy;
let out: string;
// Malicious registries that echo the Authorization header they are sent (issue 12, item 6).
type EchoMode = 'error-body' | 'tag-names' | 'digest-header' | 'bearer';
const echo: Partial<Record<EchoMode, HostileServer>> = {};
let echoDocker = '';
/** Bearer tokens the echoing token service issued: they must not appear either. */
const issuedTokens: string[] = [];
const docker: Record<'passwords' | 'identity' | 'wrong', string> = { passwords: '', identity: '', wrong: '' };

/** A registry that asks for Basic (or Bearer) credentials, then puts the Authorization header it got into its answers. */
function echoRegistry(mode: EchoMode): Promise<HostileServer> {
  return startHostileServer((req, res) => {
    const url = req.url ?? '/';
    const auth = req.headers.authorization;
    if (mode === 'bearer' && url.startsWith('/token')) {
      const token = `echoTOKEN-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
      issuedTokens.push(token);
      return json(res, 200, { token, expires_in: 300 });
    }
    if (!auth) {
      const challenge = mode === 'bearer' ? `Bearer realm="http://${req.headers.host}/token",service="echo"` : 'Basic realm="echo"';
      return json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': challenge });
    }
    const said = `header ${auth}`;
    if (mode === 'tag-names' && url.includes('/tags/list')) return json(res, 200, { name: signing, tags: [auth, auth.split(' ')[1]!, `production-20210101000000-${auth}`] });
    if (mode === 'tag-names') return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: said }] });
    if (mode === 'digest-header' && url.includes('/tags/list')) return json(res, 200, { name: signing, tags: ['production'] });
    if (mode === 'digest-header') {
      res.writeHead(200, { 'docker-content-digest': auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'x-echo': auth });
      return void res.end();
    }
    json(res, 403, { errors: [{ code: 'DENIED', message: said, detail: { authorization: auth } }] }, { 'x-echo': auth, warning: `199 - "${said}"` });
  });
}
let decisionTaskId: string;
let revA: string;
let revB: string;
let digestB: Record<'basic' | 'token', string>;
const rerunRevision = 'c'.repeat(40);

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function seed(reg: RunningRegistry): Promise<string> {
  await buildImage(reg, { repository: signing, commit: revA, tags: [archiveTag('production', new Date(Date.UTC(2021, 0, 1)), revA)] });
  const b = await buildImage(reg, { repository: signing, commit: revB, tags: ['production', archiveTag('production', new Date(Date.UTC(2021, 0, 10)), revB)] });
  return b.digest;
}

function dockerConfig(name: string, auths: Record<string, unknown>): string {
  const dir = path.join(out, `docker-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
  return dir;
}

beforeAll(async () => {
  out = makeTempDir('secrets-');
  repo = createGitFixture({ scripts: ['signingscript', 'beetmoverscript'] });
  [revA, revB] = [repo.commits[2]!, repo.commits[3]!];
  [basicReg, tokenReg] = await Promise.all([
    startRegistry({ auth: 'basic', username, password: secrets.basicPassword }),
    startRegistry({ auth: 'token', username, password: secrets.tokenPassword }),
  ]);
  digestB = { basic: await seed(basicReg), token: await seed(tokenReg) };

  // An identity token (OAuth2 refresh token) from the token service, as `docker login` keeps one.
  const realm = new URL(tokenReg.realm!);
  realm.searchParams.set('service', tokenReg.token!.service);
  realm.searchParams.set('offline_token', 'true');
  realm.searchParams.set('scope', `repository:${signing}:pull`);
  const response = await fetch(realm, { headers: { authorization: `Basic ${b64(`${username}:${secrets.tokenPassword}`)}` } });
  secrets.identityToken = ((await response.json()) as { refresh_token: string }).refresh_token;
  expect(secrets.identityToken.length).toBeGreaterThan(16);

  // A faulty front of the basic registry (resets, 503s): retries are reported with --debug.
  basicFront = await startFaultProxy(basicReg.url);
  const basicAuth = { auth: b64(`${username}:${secrets.basicPassword}`) };
  docker.passwords = dockerConfig('passwords', { [basicReg.host]: basicAuth, [basicFront.host]: basicAuth, [tokenReg.host]: { auth: b64(`${username}:${secrets.tokenPassword}`) } });
  docker.identity = dockerConfig('identity', { [basicReg.host]: basicAuth, [tokenReg.host]: { identitytoken: secrets.identityToken } });
  docker.wrong = dockerConfig('wrong', { [basicReg.host]: { auth: b64(`${username}:${secrets.wrongPassword}`) }, [tokenReg.host]: { auth: b64(`${username}:${secrets.wrongPassword}`) } });

  tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  queueProxy = await startFaultProxy(tc.rootUrl);
  // The deploy secret as production holds it: github_token, and dockercfg (a docker config.json).
  tc.setSecret(loadConfig().taskcluster.secrets.github, { github_token: secrets.secretGithubToken, dockercfg: { auths: { [basicReg.host]: { auth: b64(`${username}:${secrets.basicPassword}`) }, [tokenReg.host]: { auth: b64(`${username}:${secrets.tokenPassword}`) } } } });
  tc.addClient('releng-secrets-test', [...submitterScopes(), ...triggerScopes()], secrets.taskclusterAccessToken);
  grantProjectAction(tc);
  taskProxy = await startTaskProxy(tc.rootUrl, tc.addClient('task-client/promote', [`secrets:get:${loadConfig().taskcluster.secrets.registry}`]));
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository, tokens: [secrets.githubToken, secrets.secretGithubToken] });
  githubProxy = await startFaultProxy(gh.url);

  // A decision task with its actions.json, and the in-tree action hook, for trigger.
  const config = loadConfig();
  const tcyml = readFileSync(new URL('../../.taskcluster.yml', import.meta.url), 'utf8');
  decisionTaskId = niceSlugid();
  // The project's own .taskcluster.yml gives level 3 (the decision's schedulerId) to its own repository.
  const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl: 'https://github.com/mozilla-releng/tc-promote', level: 3, revision: revB, branch: 'master', owner: 'releng@mozilla.com' }, tcyml);
  const created = new Date(Date.parse(now) - 60_000).toISOString();
  const deadline = new Date(Date.parse(now) + 86_400_000).toISOString();
  tc.insertTask(decisionTaskId, { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', scopes: [`assume:repo:${projectRepository}:branch:main`], created, deadline, payload: {}, metadata: {} });
  tc.putArtifact(decisionTaskId, 'public/actions.json', JSON.stringify(mergeAction(undefined, action)));
  tc.defineHook(action.hookGroupId, action.hookId, { task: inTreeActionHookTemplate(parseTaskclusterYml(tcyml, '.taskcluster.yml')) });

  // A push of rerunRevision, for rerun: the decision task indexed by revision and its push task.
  const pushGroup = niceSlugid();
  const common = { taskGroupId: pushGroup, schedulerId: 'scriptworker-level-3', created, deadline };
  tc.insertTask(pushGroup, { ...common, taskQueueId: 'scriptworker-3/decision', routes: [`index.scriptworker.v2.scriptworker-scripts.revision.${rerunRevision}.taskgraph.decision`], payload: {}, metadata: { name: 'Decision Task' } });
  tc.insertTask(niceSlugid(), {
    ...common,
    taskQueueId: 'scriptworker-3/images',
    dependencies: [pushGroup],
    tags: { kind: 'push-image', label: 'push-image-signingscript' },
    payload: { image: 'mozillareleases/skopeo:latest', maxRunTime: 1800, env: { APP: 'signingscript', VCS_HEAD_REV: rerunRevision, DOCKER_REPO: signing, DOCKER_TAG: 'production', PUSH_DOCKER_IMAGE: '1' } },
    metadata: { name: 'push-image-signingscript' },
  });

  for (const mode of ['error-body', 'tag-names', 'digest-header', 'bearer'] as const) echo[mode] = await echoRegistry(mode);
  echoDocker = dockerConfig('echo', { [basicReg.host]: basicAuth, ...Object.fromEntries(Object.values(echo).map((server) => [server!.host, basicAuth])) });
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(echo).map((server) => server?.stop()));
  await githubProxy?.stop();
  await gh?.stop();
  repo?.cleanup();
  await queueProxy?.stop();
  await taskProxy?.stop();
  await tc?.close();
  await basicFront?.stop();
  await Promise.all([basicReg?.stop(), tokenReg?.stop()]);
});

// ---- every command, every way -------------------------------------------------------------

const baseEnv = (): Record<string, string> => ({
  TC_PROMOTE_NOW: now,
  TC_PROMOTE_RETRY_BASE_MS: '1',
  DOCKER_CONFIG: docker.passwords,
  GITHUB_TOKEN: secrets.githubToken,
  GITHUB_API_URL: githubProxy.url,
  TASKCLUSTER_ROOT_URL: queueProxy.url,
  TASKCLUSTER_CLIENT_ID: 'releng-secrets-test',
  TASKCLUSTER_ACCESS_TOKEN: secrets.taskclusterAccessToken,
});

/** Inside a task: the promotion record and an artifacts folder of its own. */
const inTask = (name: string): Record<string, string> => ({ TC_PROMOTE_ARTIFACTS: path.join(out, 'artifacts', name), TC_PROMOTE_PROMOTION: JSON.stringify({ script: 'signingscript', env: 'production', reason: 'secrets test' }) });

type RegistryName = 'basic' | 'token';
const regs = (): Record<RegistryName, RunningRegistry> => ({ basic: basicReg, token: tokenReg });
const at = (name: RegistryName): string[] => ['--registry', regs()[name].url];

const taskclusterFault = (status: number): (() => void) => () =>
  queueProxy.add({ path: /^\/api\//, fault: { kind: 'status', status, body: JSON.stringify({ code: status === 401 ? 'AuthenticationFailed' : 'InternalServerError', message: `injected ${status}`, requestInfo: { method: 'x', params: {}, payload: {}, time: now } }) }, times: Infinity });
const githubFault = (status: number): (() => void) => () =>
  githubProxy.add({ path: /./, fault: { kind: 'status', status, body: JSON.stringify({ message: status === 401 ? 'Bad credentials' : 'Server Error', documentation_url: 'https://docs.github.com/rest' }) }, times: Infinity });

interface Run {
  name: string;
  argv: () => string[];
  env?: () => Record<string, string>;
  faults?: () => void;
  /** The exit code; 'failure' for any non-zero one. */
  code: number | 'failure';
  process?: boolean;
}

type SubmittedTask = { tags?: { kind?: string }; dependencies: string[]; payload: { command: string[]; env: Record<string, string> } };

/** The promote task submit created for a registry, or the fallback task after it. */
function submittedTask(kind: 'promote' | 'fallback', registryHost: string): { payload: SubmittedTask['payload']; taskId: string } {
  const tasks = [...tc.tasks].map(([taskId, stored]) => ({ taskId, task: stored.task as unknown as SubmittedTask }));
  const promote = tasks.find(({ task }) => task.tags?.kind === 'promote' && JSON.stringify(task.payload.command).includes(registryHost));
  const found = kind === 'promote' ? promote : tasks.find(({ task }) => task.tags?.kind === 'fallback' && promote !== undefined && task.dependencies.includes(promote.taskId));
  if (!found) throw new Error(`no ${kind} task for ${registryHost} was submitted`);
  return { taskId: found.taskId, payload: found.task.payload };
}

/** What a worker runs: the payload's command and env, with the test registry and an artifacts folder. */
function taskCommand(kind: 'promote' | 'fallback', name: RegistryName): { argv: string[]; env: Record<string, string> } {
  const { payload } = submittedTask(kind, regs()[name].host);
  const [program, ...args] = payload.command;
  expect(program).toBe('tc-promote');
  return { argv: [...args, ...(kind === 'promote' ? at(name) : [])], env: { ...payload.env, TC_PROMOTE_ARTIFACTS: path.join(out, 'artifacts', `${kind}-${name}`) } };
}

function actionTaskEnv(): Record<string, string> {
  const triggered = [...tc.tasks.values()].find((t) => (t.task.payload as { command?: string[] }).command?.includes('action-callback'));
  if (!triggered) throw new Error('trigger created no action task');
  return { ...(triggered.task.payload as { env: Record<string, string> }).env, TASK_ID: triggered.taskId, TC_PROMOTE_ARTIFACTS: path.join(out, 'artifacts', 'action') };
}

const input = JSON.stringify({ script: 'signingscript', environment: 'production', reason: 'secrets test', fallback: true });

const runs: Run[] = [
  // history and plan: both registries, passwords and identity token, --json, --debug, failures
  ...(['basic', 'token'] as const).flatMap((name): Run[] => [
    { name: `history (${name})`, argv: () => ['history', 'signingscript', ...at(name)], code: 0 },
    { name: `history --json --debug (${name})`, argv: () => ['history', 'signingscript', '--json', '--debug', ...at(name)], code: 0 },
    { name: `history with the identity token (${name})`, argv: () => ['history', 'signingscript', ...at(name)], env: () => ({ ...baseEnv(), DOCKER_CONFIG: docker.identity }), code: 0 },
    { name: `history with a wrong password --debug (${name})`, argv: () => ['history', 'signingscript', '--debug', ...at(name)], env: () => ({ ...baseEnv(), DOCKER_CONFIG: docker.wrong }), code: 'failure', process: name === 'basic' },
    { name: `plan --debug (${name})`, argv: () => ['plan', 'signingscript', '--debug', ...at(name)], code: 0, process: name === 'token' },
    { name: `plan --json (${name})`, argv: () => ['plan', 'signingscript', '--json', ...at(name)], code: 0 },
    { name: `plan of a missing target --debug (${name})`, argv: () => ['plan', 'signingscript', '--to', '1234567', '--debug', ...at(name)], code: 4 },
    { name: `plan with a wrong password (${name})`, argv: () => ['plan', 'signingscript', ...at(name)], env: () => ({ ...baseEnv(), DOCKER_CONFIG: docker.wrong }), code: 'failure' },
    { name: `render --format yaml (${name})`, argv: () => ['render', 'signingscript', '--format', 'yaml', '--reason', 'secrets test', ...at(name)], code: 0 },
    { name: `submit --dry-run (${name})`, argv: () => ['submit', 'signingscript', '--dry-run', '--fallback', '--reason', 'secrets test', ...at(name)], code: 0 },
    // The token registry's promotion goes through action-callback too: a second attempt here, not a race.
    { name: `submit (${name})`, argv: () => ['submit', 'signingscript', '--fallback', '--reason', 'secrets test', '--json', ...(name === 'token' ? ['--attempt', '2'] : []), ...at(name)], code: 0 },
  ]),
  {
    name: 'history through a faulty front, retrying --debug (basic)',
    argv: () => ['history', 'signingscript', '--debug', '--registry', basicFront.url],
    faults: () => {
      basicFront.add({ path: /\/tags\/list/, fault: { kind: 'reset' } });
      basicFront.add({ method: 'HEAD', path: /\/manifests\//, fault: { kind: 'status', status: 503, headers: { 'retry-after': '0' } }, times: 2 });
    },
    code: 0,
  },
  { name: 'history through a front that keeps failing --debug (basic)', argv: () => ['history', 'signingscript', '--debug', '--registry', basicFront.url], faults: () => basicFront.add({ path: /\/tags\/list/, fault: { kind: 'status', status: 502 }, times: Infinity }), code: 1 },
  { name: 'submit, the Queue answering 401 --debug', argv: () => ['submit', 'signingscript', '--reason', 'secrets test', '--attempt', '3', '--debug', ...at('basic')], faults: taskclusterFault(401), code: 1, process: true },
  { name: 'submit, the Queue answering 500', argv: () => ['submit', 'signingscript', '--reason', 'secrets test', '--attempt', '4', ...at('basic')], faults: taskclusterFault(500), code: 1 },

  // Registries that echo the Authorization header back: in an error body, in tag names, in a digest header, and a bearer token.
  ...(['error-body', 'tag-names', 'digest-header', 'bearer'] as const).flatMap((mode): Run[] => [
    { name: `history against a registry echoing Authorization in its ${mode} --debug`, argv: () => ['history', 'signingscript', '--debug', '--registry', echo[mode]!.url], env: () => ({ ...baseEnv(), DOCKER_CONFIG: echoDocker }), code: mode === 'tag-names' ? 0 : 'failure', process: mode === 'error-body' },
    { name: `history --json against a registry echoing Authorization in its ${mode}`, argv: () => ['history', 'signingscript', '--json', '--registry', echo[mode]!.url], env: () => ({ ...baseEnv(), DOCKER_CONFIG: echoDocker }), code: mode === 'tag-names' ? 0 : 'failure' },
    { name: `copy onto a registry echoing Authorization in its ${mode} --debug`, argv: () => ['copy', `${basicReg.host}/${signing}:production`, `${echo[mode]!.host}/${signing}:production`, '--debug'], env: () => ({ ...baseEnv(), DOCKER_CONFIG: echoDocker }), code: 'failure' },
  ]),

  // trigger, then action-callback in the action task it made
  { name: 'trigger', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', input, '--json'], code: 0 },
  { name: 'trigger, the Queue answering 401 --debug', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', input, '--debug'], faults: taskclusterFault(401), code: 1 },
  { name: 'action-callback --dry-run', argv: () => ['action-callback', '--dry-run', ...at('token')], env: () => ({ ...baseEnv(), ...actionTaskEnv() }), code: 0 },
  { name: 'action-callback', argv: () => ['action-callback', '--debug', ...at('token')], env: () => ({ ...baseEnv(), ...actionTaskEnv() }), code: 0 },
  { name: 'action-callback, the Queue answering 401 --debug', argv: () => ['action-callback', '--debug', ...at('basic')], env: () => ({ ...baseEnv(), ...actionTaskEnv() }), faults: taskclusterFault(401), code: 1 },

  // actions and validate
  { name: 'actions --output', argv: () => ['actions', '--output', path.join(out, 'actions.json'), '--decision-task-id', decisionTaskId, '--revision', revB, '--taskcluster-yml', new URL('../../.taskcluster.yml', import.meta.url).pathname], code: 0 },
  { name: 'actions --merge --debug', argv: () => ['actions', '--merge', path.join(out, 'actions.json'), '--decision-task-id', decisionTaskId, '--revision', revB, '--taskcluster-yml', new URL('../../.taskcluster.yml', import.meta.url).pathname, '--debug'], code: 0 },
  { name: 'validate', argv: () => ['validate'], code: 0 },
  { name: 'validate --root-url --json', argv: () => ['validate', '--root-url', tc.rootUrl, '--json'], code: 0 },
  { name: 'validate against a failing deployment --debug', argv: () => ['validate', '--root-url', queueProxy.url, '--debug'], faults: () => queueProxy.add({ path: /^\/schemas\//, fault: { kind: 'status', status: 401, body: '{}' }, times: Infinity }), code: 'failure' },

  // fallback: the graph's own fallback task after its promote task failed
  {
    name: 'fallback, GitHub answering 401 --debug',
    argv: () => {
      const promote = submittedTask('promote', basicReg.host);
      if (tc.stateOf(promote.taskId) === 'pending') tc.resolveTask(promote.taskId, 'failed');
      return [...taskCommand('fallback', 'basic').argv, '--debug'];
    },
    env: () => ({ ...baseEnv(), ...taskCommand('fallback', 'basic').env }),
    faults: githubFault(401),
    code: 'failure',
  },
  { name: 'fallback --dry-run', argv: () => [...taskCommand('fallback', 'basic').argv, '--dry-run'], env: () => ({ ...baseEnv(), ...taskCommand('fallback', 'basic').env }), code: 0 },
  { name: 'fallback', argv: () => taskCommand('fallback', 'basic').argv, env: () => ({ ...baseEnv(), ...taskCommand('fallback', 'basic').env }), code: 0 },

  // rerun
  { name: 'rerun --dry-run --debug', argv: () => ['rerun', '--script', 'signingscript', '--revision', rerunRevision, '--dry-run', '--debug'], code: 0 },
  { name: 'rerun', argv: () => ['rerun', '--script', 'signingscript', '--revision', rerunRevision, '--json'], code: 0 },
  { name: 'rerun of a revision never pushed --debug', argv: () => ['rerun', '--script', 'signingscript', '--revision', 'd'.repeat(40), '--debug'], code: 4 },
  { name: 'rerun, the Queue answering 401', argv: () => ['rerun', '--script', 'signingscript', '--revision', rerunRevision], faults: taskclusterFault(401), code: 'failure' },

  // force-push: GITHUB_TOKEN, the Taskcluster secret's token, wrong tokens, GitHub failing
  { name: 'force-push --dry-run', argv: () => ['force-push', '--branch', 'production-beetmoverscript', '--revision', repo.commits[0]!, '--dry-run', '--json'], code: 0 },
  { name: 'force-push with a wrong token --debug', argv: () => ['force-push', '--branch', 'production-beetmoverscript', '--revision', repo.commits[0]!, '--debug'], env: () => ({ ...baseEnv(), GITHUB_TOKEN: secrets.wrongGithubToken }), code: 1, process: true },
  { name: 'force-push, GitHub answering 500 --debug', argv: () => ['force-push', '--branch', 'production-beetmoverscript', '--revision', repo.commits[0]!, '--debug'], faults: githubFault(500), code: 1 },
  {
    name: 'force-push with the token from the Taskcluster secret, in a task',
    argv: () => ['force-push', '--branch', 'production-beetmoverscript', '--revision', repo.commits[0]!, '--expect', repo.rev('refs/heads/production-beetmoverscript')!, '--debug'],
    env: () => {
      const { GITHUB_TOKEN: _unset, ...env } = baseEnv();
      return { ...env, TASKCLUSTER_PROXY_URL: taskProxy.url, ...inTask('force-push') };
    },
    code: 0,
  },
  { name: 'force-push with GITHUB_TOKEN', argv: () => ['force-push', '--branch', 'production-beetmoverscript', '--revision', repo.commits[4]!, '--json'], env: () => ({ ...baseEnv(), ...inTask('force-push-2') }), code: 0 },

  // copy: the promote tasks the graphs hold, run as a worker would; and failures
  ...(['basic', 'token'] as const).flatMap((name): Run[] => [
    { name: `copy --dry-run (${name})`, argv: () => [...taskCommand('promote', name).argv, '--dry-run', '--debug'], code: 0 },
    { name: `copy with a wrong password --debug (${name})`, argv: () => [...taskCommand('promote', name).argv, '--debug'], env: () => ({ ...baseEnv(), DOCKER_CONFIG: docker.wrong, ...taskCommand('promote', name).env }), code: 'failure' },
    { name: `copy, the promote task (${name})`, argv: () => taskCommand('promote', name).argv, env: () => ({ ...baseEnv(), ...taskCommand('promote', name).env }), code: 0, process: name === 'basic' },
    { name: `copy again, a conflict --debug (${name})`, argv: () => ['copy', `${regs()[name].host}/${signing}:production`, `${regs()[name].host}/${signing}:dev`, '--expect-current', digestB[name], '--debug', ...at(name)], code: 3 },
  ]),
  // Inside a task: the registry credentials only in the secret (no docker configuration), through the proxy.
  ...(['basic', 'token'] as const).map((name): Run => ({
    name: `copy in a task, credentials from the secret's dockercfg --debug (${name})`,
    argv: () => ['copy', `${regs()[name].host}/${signing}:production`, `${regs()[name].host}/${signing}:from-secret`, '--debug', ...at(name)],
    env: () => {
      const { DOCKER_CONFIG: _none, TASKCLUSTER_CLIENT_ID: _id, TASKCLUSTER_ACCESS_TOKEN: _token, ...env } = baseEnv();
      return { ...env, DOCKER_CONFIG: path.join(out, 'no-docker-config'), TASKCLUSTER_PROXY_URL: taskProxy.url, ...inTask(`copy-secret-${name}`) };
    },
    code: 0,
    process: name === 'token',
  })),
  { name: 'copy with the identity token (token)', argv: () => ['copy', `${tokenReg.host}/${signing}:production`, `${tokenReg.host}/${signing}:staging-copy`, '--json', ...at('token')], env: () => ({ ...baseEnv(), DOCKER_CONFIG: docker.identity, ...inTask('copy-identity') }), code: 0 },
  { name: 'history after the promotions (basic)', argv: () => ['history', 'signingscript', '--json', ...at('basic')], code: 0 },
];

// ---- the search ---------------------------------------------------------------------------

/** `text` base64-encoded at each of the three alignments, without the edge characters a prefix or suffix changes. */
function encodings(text: string): string[] {
  const bytes = Buffer.from(text);
  const forms: string[] = [];
  for (const alphabet of ['base64', 'base64url'] as const) {
    for (let offset = 0; offset < 3; offset++) {
      const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(alphabet);
      const start = offset === 0 ? 0 : 4;
      const end = (offset + bytes.length) % 3 === 0 ? encoded.replace(/=+$/, '').length : Math.floor((offset + bytes.length) / 3) * 4;
      if (end - start >= 12) forms.push(encoded.slice(start, end));
    }
  }
  return forms;
}

/** Every form a secret could leak in, with a name for the failure message. */
function needles(): [string, string][] {
  const list: [string, string][] = [];
  for (const [name, value] of Object.entries(secrets)) {
    list.push([name, value]);
    for (const form of encodings(value)) list.push([`${name} (base64)`, form]);
  }
  for (const token of issuedTokens) list.push(['a bearer token the echoing registry issued', token]);
  for (const password of [secrets.basicPassword, secrets.tokenPassword, secrets.wrongPassword]) {
    const pair = `${username}:${password}`;
    list.push([`${username}:password`, pair], [`base64 of ${username}:password`, b64(pair)], [`base64url of ${username}:password`, Buffer.from(pair).toString('base64url')]);
  }
  return list;
}

const jwt = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;

function expectNoSecret(text: string, where: string): void {
  for (const [name, needle] of needles()) {
    if (text.includes(needle)) throw new Error(`${where} contains the ${name}`);
  }
  expect(text, `${where} holds a bearer token (JWT)`).not.toMatch(jwt);
  expect(text, `${where} holds a Hawk or Basic authorization`).not.toMatch(/Hawk id=|Basic [A-Za-z0-9+/]{8,}|Bearer [A-Za-z0-9._-]{8,}/);
}

function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(full));
    else files.push(full);
  }
  return files;
}

describe('secrets never leak', () => {
  const results: { name: string; result: CliResult }[] = [];

  it.each(runs.map((run) => [run.name, run] as const))('%s', async (_name, run) => {
    run.faults?.();
    try {
      const argv = run.argv();
      const env = run.env?.() ?? baseEnv();
      const result = run.process ? await runCliProcess(argv, env) : await runCli(argv, env);
      results.push({ name: run.name, result });
      if (run.code === 'failure') expect(result.code, result.stderr).not.toBe(0);
      else expect(result.code, `${result.stderr}\n${result.stdout.slice(0, 2000)}`).toBe(run.code);
      expectNoSecret(result.stdout, `${run.name}: stdout`);
      expectNoSecret(result.stderr, `${run.name}: stderr`);
      if (argv.includes('--debug') && result.code !== 0) expect(result.stderr, 'a failure with --debug prints its stack').toMatch(/\n\s+at /);
      if (run.name.includes('retrying')) expect(result.stderr).toMatch(/retrying after .*connection reset[^]*retrying after HTTP 503/);
    } finally {
      queueProxy.clear();
      githubProxy.clear();
      basicFront.clear();
    }
  });

  it('wrote files, and none holds a secret', () => {
    const files = filesUnder(out).filter((f) => !f.includes(`${path.sep}docker-`));
    const names = files.map((f) => path.relative(out, f));
    // What the runs wrote: actions.json, each task's promotion.json, the action's task graph.
    expect(names).toEqual(expect.arrayContaining(['actions.json', 'artifacts/promote-basic/promotion.json', 'artifacts/promote-token/promotion.json', 'artifacts/action/task-graph.json', 'artifacts/force-push/promotion.json', 'artifacts/fallback-basic/promotion.json']));
    for (const file of files) {
      expect(statSync(file).size).toBeGreaterThan(0);
      expectNoSecret(readFileSync(file, 'utf8'), file);
    }
  });

  it('created tasks, and none holds a secret', () => {
    expect(tc.tasks.size).toBeGreaterThan(5);
    for (const [taskId, stored] of tc.tasks) expectNoSecret(JSON.stringify(stored.task), `task ${taskId}`);
  });

  it('really ran with the credentials: the registries, the Queue and GitHub saw them', () => {
    expect(results.length).toBe(runs.length);
    // Hawk-signed calls with the client id, and GitHub requests with the token.
    expect(tc.calls.some((c) => c.clientId === 'releng-secrets-test')).toBe(true);
    expect(gh.requests().some((r) => r.auth === 'valid' && r.authorization?.includes(secrets.githubToken))).toBe(true);
    expect(gh.requests().some((r) => r.auth === 'valid' && r.authorization?.includes(secrets.secretGithubToken))).toBe(true);
    expect(gh.requests().some((r) => r.auth === 'invalid')).toBe(true);
    expect(tokenReg.token!.requests().some((r) => r.method === 'POST' && r.account !== null)).toBe(true);
  });
});
