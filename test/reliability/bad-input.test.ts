// The bad-input table: every way a release engineer, an action input, a configuration file or a
// misbehaving server can hand tc-promote something wrong, and what it must do about it. Each row
// runs one command (most in process, some as a real process) against real parts — a seeded
// registry, the Taskcluster and GitHub emulators, a real bare git repository — with faults
// served through loopback proxies, and asserts:
//   - the exit code: 2 for bad input, 1 for a remote fault, 4 where "not found" is the meaning;
//   - the message names the field and quotes the value (control characters escaped);
//   - no stack trace, and no raw control or invisible character anywhere in the output;
//   - nothing changed: every tag, manifest and layer link in the registry's storage, every
//     task in the Taskcluster emulator (and no write call reached it), every ref of the git
//     repository (and no write reached the GitHub emulator).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildAction, mergeAction } from '../../src/graph/actions.js';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { runCli, runCliProcess, type CliResult } from '../support/cli.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { P, now, rev, seedHistory, signing, type SeededHistory } from '../support/scenario.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { grantProjectAction, projectRepository, submitterScopes, triggerScopes } from '../support/clients.js';

const repository = 'mozilla-releng/scriptworker-scripts';
const sha = '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';
const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
const long = 'x'.repeat(10_000);

let reg: RunningRegistry;
let seeded: SeededHistory;
let registryProxy: FaultProxy;
let tc: TaskclusterEmulator;
let queueProxy: FaultProxy;
let repo: GitFixture;
let gh: GitHubEmulator;
let githubProxy: FaultProxy;
let configs: string;
let artifacts: string;
let decisionTaskId: string;
let brokenDecisionTaskId: string;

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedHistory(reg);
  registryProxy = await startFaultProxy(reg.url);
  tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  tc.addClient('releng', [...submitterScopes(), ...triggerScopes()], 'bad-input-access-token');
  grantProjectAction(tc);
  queueProxy = await startFaultProxy(tc.rootUrl);
  repo = createGitFixture({ scripts: ['signingscript', 'beetmoverscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
  githubProxy = await startFaultProxy(gh.url);

  // A decision task that published actions.json, for trigger.
  decisionTaskId = niceSlugid();
  const config = loadConfig();
  const tcyml = readFileSync(new URL('../../.taskcluster.yml', import.meta.url), 'utf8');
  const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl: `https://github.com/${repository}`, level: 3, revision: sha, branch: 'master', owner: 'releng@mozilla.com' }, tcyml);
  const created = new Date(Date.parse(now) - 60_000).toISOString();
  tc.insertTask(decisionTaskId, { taskGroupId: decisionTaskId, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', scopes: [`assume:repo:${projectRepository}:branch:main`], created, deadline: new Date(Date.parse(now) + 86_400_000).toISOString(), payload: {}, metadata: {} });
  tc.putArtifact(decisionTaskId, 'public/actions.json', JSON.stringify(mergeAction(undefined, action)));
  // And one whose actions.json was cut short (the artifact's bytes come from storage, not the Queue's API).
  brokenDecisionTaskId = niceSlugid();
  tc.insertTask(brokenDecisionTaskId, { taskGroupId: brokenDecisionTaskId, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/decision', created, deadline: new Date(Date.parse(now) + 86_400_000).toISOString(), payload: {}, metadata: {} });
  tc.putArtifact(brokenDecisionTaskId, 'public/actions.json', '{"version": 1, "actions": [');

  configs = makeTempDir('bad-input-configs-');
  artifacts = makeTempDir('bad-input-artifacts-');
  const embedded = readFileSync(new URL('../../config/scriptworker-scripts.yml', import.meta.url), 'utf8');
  const variant = (name: string, text: string): void => writeFileSync(path.join(configs, name), text);
  variant('broken.yml', 'taskcluster:\n  rootUrl: [unclosed\n');
  variant('level-type.yml', embedded.replace(/level: 3/, 'level: three'));
  variant('unknown-field.yml', `${embedded}\n"ex\\e[31mtra": 1\n`);
  variant('deploy-branch.yml', embedded.replace(/deployBranch: 'production-\{script\}'|deployBranch: production-\{script\}/, 'deployBranch: production'));
  variant('placeholder.yml', embedded.replace("repository: 'mozilla/releng-{script}'", "repository: 'mozilla/releng-{name}'"));
  variant('moving-tag.yml', embedded.replace(/movingTag: production/, "movingTag: 'production;rm -rf /'"));
  variant('env-name.yml', embedded.replace(/\n  production:\n/, "\n  '../x':\n"));
  variant('js-function.yml', `${embedded}\nhook: !!js/function 'function () { return process.exit(9) }'\n`);
  variant('default-branch.yml', embedded.replace(/defaultBranch: master/, "defaultBranch: 'master;rm -rf /'"));
  // YAML aliases (issue 12, item 10): environments aliasing one another, and a billion laughs in 6 KB.
  variant('aliases.yml', embedded.replace(/\n  dev:\n[\s\S]*$/, '\n  dev: *production\n').replace(/\n  production:\n/, '\n  production: &production\n'));
  const laughs = ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: 30 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)];
  variant('laughs.yml', `${embedded}\nlaughs:\n${laughs.map((l) => `  ${l}`).join('\n')}\n`);
  variant('merge-key.yml', embedded.replace(/\n  production:\n/, '\n  base: &base {movingTag: production}\n  production:\n    <<: *base\n'));
  variant('aliases.taskcluster.yml', 'version: 1\nx: &x {a: 1}\ntasks:\n  - *x\n');
  mkdirSync(path.join(configs, 'templates'));
  for (const kind of ['promote', 'fallback', 'force-push', 'rerun']) writeFileSync(path.join(configs, 'templates', `${kind}.yml`), `a: &a {b: 1}\nc: *a\n`);
  variant('input.json', '{"script": "signingscript", "environment": "production", "reason": "x", "extra": "$(id)"}');
}, 180_000);

afterAll(async () => {
  await githubProxy?.stop();
  await gh?.stop();
  repo?.cleanup();
  await queueProxy?.stop();
  await tc?.close();
  await registryProxy?.stop();
  await reg?.stop();
});

afterEach(() => {
  registryProxy.clear();
  queueProxy.clear();
  githubProxy.clear();
});

// ---- the state that must not change -------------------------------------------------------

/** Every link file of the registry's repositories: tags (and their digests), manifest revisions, layers. */
function registryState(): Record<string, string> {
  const root = path.join(reg.storageDir, 'docker/registry/v2/repositories');
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'link') out[path.relative(root, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(root);
  return out;
}

interface World {
  registry: Record<string, string>;
  tasks: string[];
  queueWrites: number;
  refs: Record<string, string>;
  githubWrites: number;
}

function world(): World {
  return {
    registry: registryState(),
    tasks: [...tc.tasks.keys()].sort(),
    queueWrites: tc.calls.filter((c) => c.method !== 'GET' && c.method !== 'HEAD').length,
    refs: repo.refs(),
    githubWrites: gh.writes().length,
  };
}

// ---- the table ---------------------------------------------------------------------------

interface Row {
  name: string;
  argv: () => string[];
  env?: () => Record<string, string>;
  /** Faults to serve for this row (cleared after it). */
  faults?: () => void;
  code: 1 | 2 | 4;
  /** Everything stderr must contain: the field and the quoted value (a function when it needs the fixtures). */
  says: (string | RegExp)[] | (() => (string | RegExp)[]);
  /** What must never appear (a password typed into a URL, say). */
  never?: string[];
  /** Where the message goes: stderr as an error (default), or stdout as validate's problem list. */
  on?: 'stdout';
  /** Run as a real process through bin/tc-promote.js (NUL cannot be passed to one). */
  process?: boolean;
}

const registryEnv = (): Record<string, string> => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '1' });
const queueEnv = (): Record<string, string> => ({ ...registryEnv(), TASKCLUSTER_ROOT_URL: queueProxy.url, TASKCLUSTER_CLIENT_ID: 'releng', TASKCLUSTER_ACCESS_TOKEN: 'bad-input-access-token' });
const githubEnv = (): Record<string, string> => ({ TC_PROMOTE_NOW: now, TC_PROMOTE_RETRY_BASE_MS: '1', GITHUB_API_URL: githubProxy.url, GITHUB_TOKEN: gh.token });
const registry = (): string[] => ['--registry', registryProxy.url];
const config = (name: string): string[] => ['--config', path.join(configs, name)];
const where = (): string => `${registryProxy.host}/${signing}`;
const image = (reference: string): string => `${registryProxy.host}/${signing}${reference}`;
const actionEnv = (input: unknown, extra: Record<string, string> = {}): Record<string, string> => ({
  ...queueEnv(),
  ACTION_CALLBACK: 'promote_image',
  ACTION_TASK_GROUP_ID: decisionTaskId,
  ACTION_TASK_ID: 'null',
  TASK_ID: niceSlugid(),
  ACTION_INPUT: typeof input === 'string' ? input : JSON.stringify(input),
  ...extra,
});
const actions = (): string[] => ['actions', '--taskcluster-yml', fileURLToPath(new URL('../../.taskcluster.yml', import.meta.url)), '--decision-task-id', decisionTaskId, '--revision', sha];
const goodInput = { script: 'signingscript', environment: 'production', reason: 'bad deploy' };
const branch = (value: string): string[] => ['force-push', '--branch', value, '--revision', repo.commits[3]!];
/** A registry answer served instead of the real one. */
const answer = (pathPattern: RegExp, status: number, body: string | Buffer, headers: Record<string, string> = {}, method = 'GET'): void =>
  registryProxy.add({ method, path: pathPattern, fault: { kind: 'status', status, headers, body: body as string }, times: Infinity });
const digestOf = (bytes: string | Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const manifests = /\/manifests\//;

const rows: Row[] = [
  // -- command-line arguments: scripts, environments, flags ---------------------------------
  { name: 'a shell command as the script', argv: () => ['history', 'production-signingscript;rm -rf /', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "production-signingscript;rm -rf /"'], process: true },
  { name: '$(id) as the script', argv: () => ['plan', '$(id)', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "$(id)"'] },
  { name: 'backticks as the script', argv: () => ['render', '`id`', '--offline', '--target-tag', P.P5], code: 2, says: ['script: unknown script "`id`"'] },
  { name: 'an escape sequence in the script', argv: () => ['history', 'sign\u001b[31mingscript', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "sign\\u001b[31mingscript"'], process: true },
  { name: 'a NUL in the script', argv: () => ['history', 'signingscript\u0000', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "signingscript\\u0000"'] },
  { name: 'a 10,000-character script', argv: () => ['history', long, ...registry()], env: registryEnv, code: 2, says: [`script: unknown script "${'x'.repeat(120)}…"`] },
  { name: 'a look-alike script (Cyrillic і)', argv: () => ['history', 'signingscr\u0456pt', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "signingscr\u0456pt"'] },
  { name: 'a zero-width space in the script', argv: () => ['history', 'signing\u200bscript', ...registry()], env: registryEnv, code: 2, says: ['script: unknown script "signing\\u200bscript"'] },
  { name: '../ as the environment', argv: () => ['plan', 'signingscript', '--env', '../', ...registry()], env: registryEnv, code: 2, says: ['--env: unknown environment "../"'] },
  { name: 'a newline in the environment', argv: () => ['history', 'signingscript', '--env', 'prod\nuction', ...registry()], env: registryEnv, code: 2, says: ['--env: unknown environment "prod\\nuction"'], process: true },
  { name: 'an unknown --from-env', argv: () => ['plan', 'signingscript', '--from-env', 'staging', ...registry()], env: registryEnv, code: 2, says: ['--from-env: unknown environment "staging"'] },
  { name: 'an injected route', argv: () => ['plan', 'signingscript', '--route', 'retag;id', ...registry()], env: registryEnv, code: 2, says: ['--route: "retag;id" is not a route'] },
  { name: 'a limit of 0', argv: () => ['history', 'signingscript', '--limit', '0', ...registry()], env: registryEnv, code: 2, says: ['--limit: "0" is not a whole number'] },
  { name: 'a duration in words', argv: () => ['plan', 'signingscript', '--min-live', '3 days', ...registry()], env: registryEnv, code: 2, says: ['--min-live: "3 days" is not a duration'] },
  { name: 'a --skip that matches nothing ever', argv: () => ['plan', 'signingscript', '--skip', 'rm -rf /\u0007', ...registry()], env: registryEnv, code: 2, says: ['--skip: "rm -rf /\\u0007" is not an archive tag, a revision or a digest'] },
  { name: 'an unknown flag with an escape sequence', argv: () => ['history', 'signingscript', '--bo\u001b[2Jgus'], code: 2, says: ["Unknown option '--bo\\u001b[2Jgus'"] },
  { name: 'a password in --registry', argv: () => ['history', 'signingscript', '--registry', 'http://releng:hunter2@127.0.0.1:5000'], code: 2, says: ['--registry: "http://releng:***@127.0.0.1:5000" must be http(s)://host[:port]'], never: ['hunter2'] },
  { name: 'a file URL as --registry', argv: () => ['history', 'signingscript', '--registry', 'file:///etc/passwd'], code: 2, says: ['--registry: "file:///etc/passwd" must be http(s)://host[:port]'] },
  { name: 'a zero --page-size', argv: () => ['history', 'signingscript', '--page-size', '0', ...registry()], env: registryEnv, code: 2, says: ['--page-size: "0" is not a whole number'] },
  { name: 'an unknown format', argv: () => ['render', 'signingscript', '--offline', '--target-tag', P.P5, '--format', 'svg;id'], code: 2, says: ['--format: "svg;id" is not a format'] },
  { name: 'a path as the task group id', argv: () => ['render', 'signingscript', '--offline', '--target-tag', P.P5, '--task-group-id', '../../etc'], code: 2, says: ['--task-group-id: "../../etc" is not a task id'] },
  { name: 'an escape sequence in the reason', argv: () => ['submit', 'signingscript', '--offline', '--target-tag', P.P5, '--route', 'rebuild', '--reason', 'oops\u001b]0;owned\u0007'], env: queueEnv, code: 2, says: ['--reason: "oops\\u001b]0;owned\\u0007" is not a reason'] },
  { name: 'a 10,000-character reason', argv: () => ['submit', 'signingscript', '--offline', '--target-tag', P.P5, '--route', 'rebuild', '--reason', long], env: queueEnv, code: 2, says: ['--reason: "xxxx', '1 to 1000 characters'] },
  { name: 'a timeout that is not a number', argv: () => ['history', 'signingscript', ...registry()], env: () => ({ ...registryEnv(), TC_PROMOTE_HTTP_TIMEOUT_MS: 'soon' }), code: 2, says: ['TC_PROMOTE_HTTP_TIMEOUT_MS: "soon" is not a whole number'], process: true },
  { name: 'a rebuild graph that would force-push without a lease', argv: () => ['submit', 'signingscript', '--offline', '--target-tag', P.P5, '--route', 'rebuild', '--reason', 'r'], env: queueEnv, code: 2, says: ['submit: force-push-signingscript-production would force-push the deploy branch without a lease', 'give --no-lease to submit it anyway; nothing was created'] },
  { name: 'a tag cap that is not a number', argv: () => ['history', 'signingscript', ...registry()], env: () => ({ ...registryEnv(), TC_PROMOTE_MAX_TAGS: 'lots' }), code: 2, says: ['TC_PROMOTE_MAX_TAGS: "lots" is not a whole number'] },
  { name: 'a page cap of zero', argv: () => ['history', 'signingscript', ...registry()], env: () => ({ ...registryEnv(), TC_PROMOTE_MAX_TAG_PAGES: '0' }), code: 2, says: ['TC_PROMOTE_MAX_TAG_PAGES: "0" is not a whole number'] },
  { name: 'an impossible TC_PROMOTE_NOW (February 30)', argv: () => ['history', 'signingscript', ...registry()], env: () => ({ ...registryEnv(), TC_PROMOTE_NOW: '2021-02-30T00:00:00Z' }), code: 2, says: ['TC_PROMOTE_NOW: "2021-02-30T00:00:00Z" is not an ISO 8601 time'] },

  // -- configuration files -------------------------------------------------------------------
  { name: 'a configuration that is not YAML', argv: () => ['history', 'signingscript', ...config('broken.yml'), ...registry()], env: registryEnv, code: 2, says: [/broken\.yml: not valid YAML: /] },
  { name: 'a level of the wrong type', argv: () => ['history', 'signingscript', ...config('level-type.yml'), ...registry()], env: registryEnv, code: 2, says: ['level-type.yml: /taskcluster/level: must be integer (got "three")'] },
  { name: 'an unknown field with an escape sequence in its name', argv: () => ['history', 'signingscript', ...config('unknown-field.yml'), ...registry()], env: registryEnv, code: 2, says: ['unknown-field.yml: /ex\\u001b[31mtra: is not a known property'] },
  { name: 'a deploy branch pattern without {script}', argv: () => ['plan', 'signingscript', ...config('deploy-branch.yml'), ...registry()], env: registryEnv, code: 2, says: ['/environments/production/deployBranch: "production" must contain {script}'] },
  { name: 'an unknown placeholder in a repository pattern', argv: () => ['history', 'signingscript', ...config('placeholder.yml'), ...registry()], env: registryEnv, code: 2, says: ['unknown placeholder "{name}" in "mozilla/releng-{name}"'] },
  { name: 'a shell command as the moving tag', argv: () => ['history', 'signingscript', ...config('moving-tag.yml'), ...registry()], env: registryEnv, code: 2, says: ['/environments/production/movingTag: must match pattern', '(got "production;rm -rf /")'] },
  { name: '../ as an environment name', argv: () => ['history', 'signingscript', ...config('env-name.yml'), ...registry()], env: registryEnv, code: 2, says: ['env-name.yml: /environments: property name "../x" is invalid'] },
  { name: 'a !!js/function tag', argv: () => ['history', 'signingscript', ...config('js-function.yml'), ...registry()], env: registryEnv, code: 2, says: [/js-function\.yml: not valid YAML: unknown scalar tag /] },
  { name: 'a shell command as the default branch', argv: () => ['validate', ...config('default-branch.yml')], code: 2, says: ['/github/defaultBranch: must match pattern', '(got "master;rm -rf /")'] },
  { name: 'a configuration whose environments alias one another', argv: () => ['history', 'signingscript', ...config('aliases.yml'), ...registry()], env: registryEnv, code: 2, says: [/aliases\.yml: YAML aliases \(\*name, and <<: \*name merges\) are not accepted \(the first at line \d+, column \d+\)/] },
  { name: 'a configuration holding a billion laughs (6 KB expanding to 10^31 strings)', argv: () => ['plan', 'signingscript', ...config('laughs.yml'), ...registry()], env: registryEnv, code: 2, says: [/laughs\.yml: YAML aliases .* are not accepted/], process: true },
  { name: 'a configuration using a merge key', argv: () => ['validate', ...config('merge-key.yml')], code: 2, says: [/merge-key\.yml: YAML aliases .* are not accepted/] },
  { name: 'a .taskcluster.yml with an alias', argv: () => ['validate', '--taskcluster-yml', path.join(configs, 'aliases.taskcluster.yml')], code: 2, says: [/aliases\.taskcluster\.yml: YAML aliases .* are not accepted/], on: 'stdout' },
  { name: 'templates with an alias', argv: () => ['render', 'signingscript', '--offline', '--target-tag', P.P5, '--templates', path.join(configs, 'templates')], code: 2, says: [/templates\/[a-z-]+\.yml: YAML aliases .* are not accepted/] },
  { name: 'a configuration that does not exist', argv: () => ['history', 'signingscript', '--config', '/nonexistent/\u001b.yml'], code: 2, says: ['--config: "/nonexistent/\\u001b.yml" does not exist (ENOENT)'] },
  { name: '/dev/zero as the configuration', argv: () => ['history', 'signingscript', '--config', '/dev/zero'], code: 2, says: ['--config: "/dev/zero" is not a regular file'], process: true },

  { name: '/dev/zero as .taskcluster.yml', argv: () => ['validate', '--taskcluster-yml', '/dev/zero'], code: 2, says: ['/dev/zero: --taskcluster-yml: "/dev/zero" is not a regular file'], on: 'stdout', process: true },

  // -- the decision task's actions.json ----------------------------------------------------------
  { name: 'a shell command as the decided branch', argv: () => [...actions(), '--branch', 'master;rm -rf /'], code: 2, says: ['--branch: "master;rm -rf /" is not an acceptable branch name'] },
  { name: '$(id) in the repository URL', argv: () => [...actions(), '--repository-url', 'https://github.com/$(id)'], code: 2, says: ['--repository-url: "https://github.com/$(id)" is not an https repository URL'] },
  { name: 'a newline in the owner', argv: () => [...actions(), '--owner', 'releng@mozilla.com\nX-Injected: 1'], code: 2, says: ['--owner: "releng@mozilla.com\\nX-Injected: 1" is not an owner'] },
  { name: 'an actions.json to merge that is not JSON', argv: () => [...actions(), '--merge', path.join(configs, 'broken.yml')], code: 2, says: [/--merge: ".*broken\.yml" is not JSON/] },

  // -- action input: trigger --input and action-callback's ACTION_* ----------------------------
  { name: 'an input that is not JSON', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', '{script: signingscript'], env: queueEnv, code: 2, says: ['--input: "{script: signingscript" is not JSON'] },
  { name: 'a shell command as the input script', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', JSON.stringify({ ...goodInput, script: 'signingscript;rm -rf /' })], env: queueEnv, code: 2, says: ['--input: /script: must be equal to one of the allowed values (got "signingscript;rm -rf /")'], process: true },
  { name: 'an unknown input field from a file', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', `@${path.join(configs, 'input.json')}`], env: queueEnv, code: 2, says: ['--input: /extra: is not a known property'] },
  { name: 'an input file that is a device', argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', '@/dev/zero'], env: queueEnv, code: 2, says: ['--input: "/dev/zero" is not a regular file'] },
  { name: 'a path as the decision task id', argv: () => ['trigger', '--decision-task-id', '../../task', '--input', '{}'], env: queueEnv, code: 2, says: ['--decision-task-id: "../../task" is not a task id'] },
  { name: '../ as the input environment', argv: () => ['action-callback'], env: () => actionEnv({ ...goodInput, environment: '../' }), code: 2, says: ['ACTION_INPUT: /environment: must be equal to one of the allowed values (got "../")'] },
  { name: 'a newline in the input target', argv: () => ['action-callback'], env: () => actionEnv({ ...goodInput, target: `${P.P5}\nproduction` }), code: 2, says: ['ACTION_INPUT: /target: must match pattern', `(got "${P.P5}\\nproduction")`] },
  { name: 'an escape sequence in the input reason', argv: () => ['action-callback'], env: () => actionEnv({ ...goodInput, reason: 'x\u001b[2J' }), code: 2, says: ['ACTION_INPUT: /reason: must match pattern', '(got "x\\u001b[2J")'] },
  { name: 'a 10,000-character input reason', argv: () => ['action-callback'], env: () => actionEnv({ ...goodInput, reason: long }), code: 2, says: ['ACTION_INPUT: /reason: must NOT have more than 1000 characters', `(got "${'x'.repeat(120)}…")`] },
  { name: 'an input min-live in words', argv: () => ['action-callback'], env: () => actionEnv({ ...goodInput, 'min-live': '3 days' }), code: 2, says: ['ACTION_INPUT: /min-live: must match pattern', '(got "3 days")'] },
  { name: 'an input that is an array', argv: () => ['action-callback'], env: () => actionEnv('[1,2]'), code: 2, says: ['ACTION_INPUT: /: must be object'] },
  { name: 'ACTION_INPUT that is not JSON', argv: () => ['action-callback'], env: () => actionEnv('{"script": `id`}'), code: 2, says: ['ACTION_INPUT: "{\\"script\\": `id`}" is not JSON'] },
  { name: 'an injected callback name', argv: () => ['action-callback'], env: () => actionEnv(goodInput, { ACTION_CALLBACK: 'promote_image;id' }), code: 2, says: ['ACTION_CALLBACK: "promote_image;id" is not tc-promote\'s callback'] },
  { name: 'a NUL in the task group id', argv: () => ['action-callback'], env: () => actionEnv(goodInput, { ACTION_TASK_GROUP_ID: `${decisionTaskId}\u0000` }), code: 2, says: () => [`ACTION_TASK_GROUP_ID: "${decisionTaskId}\\u0000" is not a task group id`] },

  // -- tag names -------------------------------------------------------------------------------
  { name: 'an archive tag with an impossible date', argv: () => ['plan', 'signingscript', '--to', `production-20211301000000-${sha}`, ...registry()], env: registryEnv, code: 2, says: [`--to: "production-20211301000000-${sha}" is not an archive tag (impossible date 20211301000000`] },
  { name: '../ as the target', argv: () => ['plan', 'signingscript', '--to', '../../etc/passwd', ...registry()], env: registryEnv, code: 2, says: ['--to: "../../etc/passwd" is not an archive tag'] },
  { name: 'a 10,000-character target', argv: () => ['plan', 'signingscript', '--to', long, ...registry()], env: registryEnv, code: 2, says: [`--to: "${'x'.repeat(120)}…" is not an archive tag`] },
  { name: 'a February 30 archive tag', argv: () => ['copy', image(`:${P.P5}`), image(':production'), '--archive-tag', `production-20210230000000-${rev.r4}`], env: registryEnv, code: 2, says: [`--archive-tag: "production-20210230000000-${rev.r4}" is not an archive tag (impossible date 20210230000000`] },
  { name: '$(id) in an archive tag', argv: () => ['copy', image(`:${P.P5}`), image(':production'), '--archive-tag', `production-20210301000000-$(id)`], env: registryEnv, code: 2, says: ['--archive-tag: "production-20210301000000-$(id)" is not a valid tag'] },
  { name: 'backticks as the expected digest', argv: () => ['copy', image(`:${P.P5}`), image(':production'), '--expect-current', 'sha256:`id`'], env: registryEnv, code: 2, says: ['--expect-current: "sha256:`id`" is not a sha256 digest'] },
  { name: '../ in a source tag', argv: () => ['copy', image(':../production'), image(':production')], env: registryEnv, code: 2, says: ['<src>: "'] },
  { name: 'a look-alike destination tag (Cyrillic о)', argv: () => ['copy', image(`:${P.P5}`), image(':pr\u043eduction')], env: registryEnv, code: 2, says: () => [`<dst>: "pr\u043eduction" in "${image(':pr\u043eduction')}" is not a valid tag`] },
  { name: 'a bidirectional override in a destination tag', argv: () => ['copy', image(`:${P.P5}`), image(':production\u202e')], env: registryEnv, code: 2, says: ['<dst>: "production\\u202e" in'] },
  { name: 'a 10,000-character destination', argv: () => ['copy', image(`:${P.P5}`), image(`:${long}`)], env: registryEnv, code: 2, says: ['<dst>: "', '…" is not an image reference'] },
  { name: 'a destination without a tag', argv: () => ['copy', image(`:${P.P5}`), image(`@${seeded.images.img4b!.digest}`)], env: registryEnv, code: 2, says: ['<dst>: "', '" must name a tag and no digest'] },
  { name: 'an offline target tag with an impossible date', argv: () => ['render', 'signingscript', '--offline', '--target-tag', `production-20210229120000-${sha}`], code: 2, says: [`--target-tag: "production-20210229120000-${sha}" is not an archive tag: impossible date 20210229120000`] },
  {
    name: 'a promotion record that is not JSON (checked before the copy writes)',
    argv: () => ['copy', image(`@${seeded.images.img4b!.digest}`), image(':production'), '--expect-current', seeded.images.img6!.digest, '--archive-tag', `production-20210301000000-${rev.r4}`],
    env: () => ({ ...registryEnv(), TC_PROMOTE_ARTIFACTS: artifacts, TC_PROMOTE_PROMOTION: '{"script": "signingscript"' }),
    code: 2,
    says: ['TC_PROMOTE_PROMOTION: not valid JSON'],
  },

  // -- revisions -------------------------------------------------------------------------------
  { name: 'an ambiguous revision prefix', argv: () => ['plan', 'signingscript', '--to', 'abcdef1', ...registry()], env: registryEnv, code: 2, says: ['--to: revision prefix "abcdef1" is ambiguous', rev.r2, rev.r3] },
  { name: 'a revision prefix too short', argv: () => ['plan', 'signingscript', '--to', 'abc', ...registry()], env: registryEnv, code: 2, says: ['--to: revision prefix "abc" is too short'] },
  { name: 'a revision that is not hex', argv: () => ['plan', 'signingscript', '--to', 'ggggggg', ...registry()], env: registryEnv, code: 2, says: ['--to: "ggggggg" is not an archive tag, a revision (7 to 40 hex) or a digest'] },
  { name: 'a revision no deploy records', argv: () => ['plan', 'signingscript', '--to', '1234567', ...registry()], env: registryEnv, code: 4, says: ['--to: no archive tag in', 'records revision "1234567"'] },
  { name: 'an archive tag that does not exist', argv: () => ['plan', 'signingscript', '--to', `production-20210101000000-${'f'.repeat(40)}`, ...registry()], env: registryEnv, code: 4, says: [`--to: archive tag "production-20210101000000-${'f'.repeat(40)}" does not exist`] },
  { name: 'a force-push revision that is not hex', argv: () => ['force-push', '--branch', 'production-signingscript', '--revision', 'g'.repeat(40)], env: githubEnv, code: 2, says: [`--revision: "${'g'.repeat(40)}" is not a full commit id`] },
  { name: 'a revision expression as the lease', argv: () => ['force-push', '--branch', 'production-signingscript', '--revision', repo.commits[3]!, '--expect', 'HEAD~1'], env: githubEnv, code: 2, says: ['--expect: "HEAD~1" is not a full commit id'] },

  // -- branch names ----------------------------------------------------------------------------
  { name: 'a shell command in the branch', argv: () => branch('production-signingscript;rm -rf /'), env: githubEnv, code: 2, says: ['--branch: "production-signingscript;rm -rf /" is not an acceptable branch name'], process: true },
  { name: '../ in the branch', argv: () => branch('../production-signingscript'), env: githubEnv, code: 2, says: ['--branch: "../production-signingscript" is not an acceptable branch name'] },
  { name: 'a newline in the branch', argv: () => branch('production-signingscript\nmaster'), env: githubEnv, code: 2, says: ['--branch: "production-signingscript\\nmaster" is not an acceptable branch name: it contains a control character'], process: true },
  { name: 'a NUL in the branch', argv: () => branch('production-signingscript\u0000'), env: githubEnv, code: 2, says: ['--branch: "production-signingscript\\u0000" is not an acceptable branch name'] },
  { name: 'a 10,000-character branch', argv: () => branch(long), env: githubEnv, code: 2, says: [`--branch: "${'x'.repeat(120)}…" is not an acceptable branch name: it is longer than 200 characters`] },
  { name: 'a look-alike branch (Cyrillic і)', argv: () => branch('production-signingscr\u0456pt'), env: githubEnv, code: 2, says: ['--branch: "production-signingscr\u0456pt" is not an acceptable branch name: it contains "\u0456"'] },
  { name: 'a right-to-left override in the branch', argv: () => branch('production-\u202etpircsgningis'), env: githubEnv, code: 2, says: ['--branch: "production-\\u202etpircsgningis" is not an acceptable branch name'] },
  { name: '$(id) as the branch', argv: () => branch('$(id)'), env: githubEnv, code: 2, says: ['--branch: "$(id)" is not an acceptable branch name'] },
  { name: 'the default branch', argv: () => branch('master'), env: githubEnv, code: 2, says: ['--branch: "master" is the default branch'] },
  { name: 'a fully qualified branch', argv: () => branch('refs/heads/production-signingscript'), env: githubEnv, code: 2, says: ['--branch: "refs/heads/production-signingscript" is not an acceptable branch name: give the short branch name'] },
  { name: 'a negative retry pacing for GitHub', argv: () => branch('production-signingscript'), env: () => ({ ...githubEnv(), TC_PROMOTE_RETRY_BASE_MS: '-5' }), code: 2, says: ['TC_PROMOTE_RETRY_BASE_MS: "-5" is not a whole number'] },
  { name: 'a password in GITHUB_API_URL', argv: () => branch('production-signingscript'), env: () => ({ ...githubEnv(), GITHUB_API_URL: 'https://releng:hunter2@api.github.com' }), code: 2, says: ['GITHUB_API_URL: "https://releng:***@api.github.com" must be http(s)'], never: ['hunter2'] },

  // -- malformed registry answers --------------------------------------------------------------
  { name: 'a tag page that is not JSON', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/tags\/list/, 200, '{"tags": ["production-'), code: 1, says: () => [`${where()} tags: page 1 is not valid JSON`], process: true },
  { name: 'a tag page whose tags are not an array', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/tags\/list/, 200, '{"name": "x", "tags": "production"}'), code: 1, says: ['tags: page 1 has no tags array'] },
  { name: 'a tag page listing a number', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/tags\/list/, 200, '{"tags": [20210101]}'), code: 1, says: ['tags: page 1 lists a tag that is not a string'] },
  { name: 'a tag page linking to another host', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/tags\/list/, 200, '{"tags": []}', { link: '<http://169.254.169.254/latest/meta-data>; rel="next"' }), code: 1, says: ['tags: page 1 links its next page to another host, "http://169.254.169.254/latest/meta-data"'] },
  { name: 'a tag page linking to a malformed URL', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/tags\/list/, 200, '{"tags": []}', { link: '<http://[::1>; rel="next"' }), code: 1, says: ['tags: page 1: the Link header\'s next page "http://[::1" is not a URL'] },
  { name: 'a malformed digest header', argv: () => ['history', 'signingscript', ...registry()], env: registryEnv, faults: () => answer(/\/manifests\/production$/, 200, '', { 'docker-content-digest': 'sha256:../../etc/passwd' }, 'HEAD'), code: 1, says: [':production: registry sent a malformed digest "sha256:../../etc/passwd"'] },
  {
    name: 'a manifest that is not JSON',
    argv: () => ['copy', image(`:${P.P5}`), image(':production')],
    env: registryEnv,
    faults: () => answer(manifests, 200, '{"schemaVersion": 2,', { 'content-type': ociManifest, 'docker-content-digest': digestOf('{"schemaVersion": 2,') }),
    code: 1,
    says: [`:${P.P5}: manifest is not valid JSON`],
  },
  { name: 'a manifest over 4 MiB', argv: () => ['copy', image(`:${P.P5}`), image(':production')], env: registryEnv, faults: () => answer(manifests, 200, Buffer.alloc(4 * 1024 * 1024 + 1, 32), { 'content-type': ociManifest }), code: 1, says: [`:${P.P5}: manifest larger than 4194304 bytes`], process: true },
  { name: 'a manifest of the wrong media type', argv: () => ['copy', image(`:${P.P5}`), image(':production')], env: registryEnv, faults: () => answer(manifests, 200, '{"schemaVersion": 2, "mediaType": "text/html"}', { 'content-type': 'text/html' }), code: 1, says: [`:${P.P5}: unsupported manifest media type "text/html"`] },
  {
    name: 'manifest bytes that do not match the digest',
    argv: () => ['copy', image(`@${seeded.images.img4b!.digest}`), image(':production'), '--expect-current', seeded.images.img6!.digest],
    env: registryEnv,
    faults: () => registryProxy.add({ method: 'GET', path: manifests, fault: { kind: 'replace-body', body: '{"schemaVersion": 2, "layers": []}' }, times: Infinity }),
    code: 1,
    says: () => [`@${seeded.images.img4b!.digest}: manifest bytes hash to`, `not ${seeded.images.img4b!.digest}; refusing a manifest that does not match its digest`],
  },
  { name: 'a manifest whose layers are malformed', argv: () => ['copy', image(`:${P.P5}`), image(':production')], env: registryEnv, faults: () => answer(manifests, 200, '{"schemaVersion": 2, "layers": [{"digest": "sha256:../../x", "size": 1}]}', { 'content-type': ociManifest }), code: 1, says: [`:${P.P5}: manifest field layers is malformed`] },
  { name: 'a repository the registry does not have', argv: () => ['history', 'addonscript', ...registry()], env: registryEnv, code: 4, says: ['/mozilla/releng-addonscript tags: repository not found (HTTP 404)'] },
  { name: 'a source tag the registry does not have', argv: () => ['copy', image(':nonexistent'), image(':production')], env: registryEnv, code: 4, says: ['<src>: ', ':nonexistent does not exist'] },

  // -- malformed Queue answers -----------------------------------------------------------------
  {
    name: 'a Queue answering createTask with an HTML page',
    argv: () => ['submit', 'signingscript', '--offline', '--target-tag', P.P5, '--route', 'rebuild', '--reason', 'r', '--no-lease'],
    env: queueEnv,
    faults: () => queueProxy.add({ path: /./, fault: { kind: 'status', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }, times: Infinity }),
    code: 1,
    says: [/createTask \S+: the Queue's answer is not a task status for \S+; the task may not exist/],
  },
  {
    name: 'a Queue answering createTask with broken JSON',
    argv: () => ['submit', 'signingscript', '--offline', '--target-tag', P.P5, '--route', 'rebuild', '--reason', 'r', '--no-lease'],
    env: queueEnv,
    faults: () => queueProxy.add({ path: /./, fault: { kind: 'status', status: 200, headers: { 'content-type': 'application/json' }, body: '{"status": {' }, times: Infinity }),
    code: 1,
    says: [/createTask \S+: /],
  },
  {
    name: 'a Queue answering the decision task with an HTML page',
    argv: () => ['trigger', '--decision-task-id', decisionTaskId, '--input', JSON.stringify(goodInput)],
    env: queueEnv,
    faults: () => queueProxy.add({ path: /./, fault: { kind: 'status', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }, times: Infinity }),
    code: 1,
    says: () => [`--decision-task-id ${decisionTaskId}: the Queue's answer is not a task definition`],
  },
  {
    name: 'an actions.json that is not JSON',
    argv: () => ['trigger', '--decision-task-id', brokenDecisionTaskId, '--input', JSON.stringify(goodInput)],
    env: queueEnv,
    code: 1,
    says: () => [`public/actions.json of decision task ${brokenDecisionTaskId}: not JSON`],
  },
  { name: 'a decision task the Queue does not have', argv: () => ['trigger', '--decision-task-id', niceSlugid(), '--input', JSON.stringify(goodInput)], env: queueEnv, code: 4, says: [/--decision-task-id \S+: no such task in \S+; a push's decision task is indexed by its revision/] },

  // -- malformed GitHub answers ----------------------------------------------------------------
  { name: 'GitHub answering invalid JSON', argv: () => branch('production-signingscript'), env: githubEnv, faults: () => githubProxy.add({ path: /./, fault: { kind: 'status', status: 200, body: '{"full_name": ' }, times: Infinity }), code: 1, says: [`reading repository ${repository}: GitHub's answer does not have the documented shape`] },
  {
    name: 'GitHub answering a branch head that is not a commit id',
    argv: () => branch('production-signingscript'),
    env: githubEnv,
    faults: () => githubProxy.add({ method: 'GET', path: /\/git\/ref\//, fault: { kind: 'status', status: 200, body: JSON.stringify({ ref: 'refs/heads/production-signingscript', object: { sha: '$(id)\u001b', type: 'commit' } }) }, times: Infinity }),
    code: 1,
    says: [`reading refs/heads/production-signingscript of ${repository}: GitHub's answer does not have the documented shape`],
  },
  { name: 'a revision GitHub does not have', argv: () => ['force-push', '--branch', 'production-signingscript', '--revision', 'e'.repeat(40)], env: githubEnv, code: 4, says: [`revision ${'e'.repeat(40)} does not exist in ${repository}`] },

  // -- fallback and rerun (issue 5) ------------------------------------------------------------
  { name: 'fallback: a shell command in the branch', argv: () => ['fallback', '--script', 'signingscript', '--env', 'production', '--branch', 'production-signingscript;rm -rf /', '--promote-task', niceSlugid()], env: () => ({ ...queueEnv(), ...githubEnv() }), code: 2, says: ['--branch: "production-signingscript;rm -rf /" is not an acceptable branch name'] },
  { name: 'fallback: a path as the promote task', argv: () => ['fallback', '--script', 'signingscript', '--env', 'production', '--branch', 'production-signingscript', '--promote-task', '../x'], env: () => ({ ...queueEnv(), ...githubEnv() }), code: 2, says: ['--promote-task: "../x"'] },
  { name: 'fallback: an unknown environment', argv: () => ['fallback', '--script', 'signingscript', '--env', 'prod\u001b', '--branch', 'production-signingscript', '--promote-task', niceSlugid()], env: () => ({ ...queueEnv(), ...githubEnv() }), code: 2, says: ['"prod\\u001b"'] },
  { name: 'rerun: a revision that is not hex', argv: () => ['rerun', '--script', 'signingscript', '--revision', '$(id)'], env: queueEnv, code: 2, says: ['--revision: "$(id)" is not a full commit id'] },
  {
    name: 'fallback: a Queue answering status with an HTML page',
    argv: () => ['fallback', '--script', 'signingscript', '--env', 'production', '--branch', 'production-signingscript', '--revision', sha, '--allow-force-push', '--promote-task', niceSlugid()],
    env: () => ({ ...queueEnv(), ...githubEnv() }),
    faults: () => queueProxy.add({ path: /\/status$/, fault: { kind: 'status', status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }, times: Infinity }),
    code: 1,
    says: [/queue.status of promote task \S+: the Queue's answer is not a task status/],
  },
  {
    name: 'rerun: an index answer that names no task',
    argv: () => ['rerun', '--script', 'signingscript', '--revision', sha],
    env: queueEnv,
    faults: () => queueProxy.add({ path: /\/api\/index\//, fault: { kind: 'status', status: 200, headers: { 'content-type': 'application/json' }, body: '{"namespace": "x", "taskId": "../../etc"}' }, times: Infinity }),
    code: 1,
    says: [/index.findTask \S+: the index's answer names no task id/],
  },
  {
    name: 'rerun: a TASK_GROUP_ID that is not a task group id',
    argv: () => ['rerun', '--script', 'signingscript', '--revision', sha],
    env: () => ({ ...queueEnv(), TASK_GROUP_ID: '../x;id' }),
    code: 2,
    says: ['TASK_GROUP_ID: "../x;id" is not a task group id'],
  },
  // A typo in a flag is found before the plan reads anything: a registry that is down does not hide it.
  { name: 'submit: an --attempt that is not a number, with the registry down', argv: () => ['submit', 'signingscript', '--registry', 'http://127.0.0.1:9', '--attempt', 'two'], env: queueEnv, code: 2, says: ['--attempt: "two" is not a whole number from 1 to 1000'] },
  { name: 'rerun: an unknown script', argv: () => ['rerun', '--script', 'signingscript\u0000', '--revision', sha], env: queueEnv, code: 2, says: ['"signingscript\\u0000"'] },
];

const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

async function run(row: Row): Promise<CliResult> {
  const argv = row.argv();
  const env = row.env?.() ?? {};
  return row.process ? runCliProcess(argv, env) : runCli(argv, env);
}

describe('bad input', () => {
  it('has at least 40 rows, a few of them as real processes', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(rows.filter((r) => r.process).length).toBeGreaterThanOrEqual(5);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const before = world();
    row.faults?.();
    const result = await run(row);
    const command = row.argv()[0];
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(row.code);
    const message = row.on === 'stdout' ? result.stdout : result.stderr;
    if (row.on !== 'stdout') expect(result.stderr).toContain(`tc-promote ${command}: error: `);
    for (const said of typeof row.says === 'function' ? row.says() : row.says) {
      if (typeof said === 'string') expect(message).toContain(said);
      else expect(message).toMatch(said);
    }
    for (const secret of row.never ?? []) expect(result.stderr + result.stdout).not.toContain(secret);
    // No stack trace, no raw control or invisible character, nothing on stdout.
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(unsafe);
    expect(result.stdout).not.toMatch(unsafe);
    if (row.on !== 'stdout') expect(result.stdout).toBe('');
    // A long value is cut, not echoed whole.
    expect(message.length).toBeLessThan(2_000);
    // Nothing changed anywhere.
    const after = world();
    expect(after.registry).toEqual(before.registry);
    expect(after.tasks).toEqual(before.tasks);
    expect(after.queueWrites).toBe(before.queueWrites);
    expect(after.refs).toEqual(before.refs);
    expect(after.githubWrites).toBe(before.githubWrites);
  });
});
