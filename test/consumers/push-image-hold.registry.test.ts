// The consumer patch consumers/scriptworker-scripts/push-image-hold.patch, applied to copies of
// scriptworker-scripts' real push_image.sh and push-image kind, and the patched script RUN as
// the push task runs it: bash, the kind's environment, its fetched image.tar.zst, the deploy
// secret read through a task proxy at http://taskcluster/ (curl's http_proxy, as the worker's
// DNS would send it), skopeo and umoci from Debian pushing to a real docker-registry with
// basic auth. Holds are written by tc-promote's own hold module through taskcluster-client to
// the Taskcluster emulator's index (the real index is issue 17's fixture).
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import taskcluster from 'taskcluster-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { niceSlugid } from '../../src/taskcluster-api/slugid.js';
import { holdIndexPath, placeHold, releaseHold, type HoldIndex } from '../../src/history/hold.js';
import { consumersDir, gitApply } from '../support/consumers.js';
import { buildImage, headManifest, listTags, randomCommit } from '../support/fixtures.js';
import { referencePath } from '../support/reference.js';
import { makeTempDir, removeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from '../support/taskcluster-emulator.js';
import { startTaskProxy, type TaskProxy } from '../support/task-proxy.js';

const patchPath = path.join(consumersDir, 'scriptworker-scripts', 'push-image-hold.patch');
const deploySecret = 'project/releng/scriptworker-scripts/deploy';
const holdPrefix = 'scriptworker.v2.scriptworker-scripts.hold';
const key = { trustDomain: 'scriptworker', project: 'scriptworker-scripts', script: 'signingscript', env: 'production' };
const repository = 'mozilla/releng-signingscript';

let reg: RunningRegistry;
let tc: TaskclusterEmulator;
let work: string;
let scriptPath: string;
let referenceScript: string;
let imageTar: string;
let index: HoldIndex;
const proxies: TaskProxy[] = [];

beforeAll(async () => {
  work = makeTempDir('push-image-');
  const sws = path.join(work, 'scriptworker-scripts');
  for (const file of ['taskcluster/docker/skopeo/push_image.sh', 'taskcluster/kinds/push-image/kind.yml']) {
    mkdirSync(path.dirname(path.join(sws, file)), { recursive: true });
    cpSync(referencePath('consumers', 'scriptworker-scripts', file), path.join(sws, file));
  }
  execFileSync('chmod', ['-R', 'u+w', sws]);
  gitApply(sws, [patchPath]);
  scriptPath = path.join(sws, 'taskcluster/docker/skopeo/push_image.sh');
  referenceScript = referencePath('consumers', 'scriptworker-scripts', 'taskcluster/docker/skopeo/push_image.sh');

  reg = await startRegistry({ auth: 'basic' });
  tc = await startTaskclusterEmulator();
  tc.setSecret(deploySecret, { dockercfg: JSON.parse(readFileSync(path.join(reg.dockerConfigDir, 'config.json'), 'utf8')) });
  const releng = tc.addClient('releng-oncall', [`index:insert-task:${holdPrefix}.*`]);
  index = new taskcluster.Index({ rootUrl: tc.rootUrl, credentials: releng, retries: 0 }) as unknown as HoldIndex;

  // What production runs before: one image, the moving tag and its archive tag.
  await buildImage(reg, { repository, commit: randomCommit(), tags: ['production', 'production-20261201000000-' + 'a'.repeat(40)] });
  // The docker-image task's artifact: an image as a docker-archive, zstd-compressed.
  await buildImage(reg, { repository: 'build/signingscript', commit: randomCommit(), tags: ['latest'] });
  const tarDir = makeTempDir('push-image-tar-');
  imageTar = path.join(tarDir, 'image.tar.zst');
  execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--src-creds', reg.skopeoCreds!, `docker://${reg.host}/build/signingscript:latest`, `docker-archive:${path.join(tarDir, 'image.tar')}`]);
  execFileSync('zstd', ['-q', '--rm', path.join(tarDir, 'image.tar'), '-o', imageTar]);
}, 120_000);

afterAll(async () => {
  for (const p of proxies) await p.stop();
  await tc?.close();
  await reg?.stop();
  if (work) removeTempDir(work);
});

interface PushRun {
  status: number | null;
  log: string;
  archiveTag: string;
}

/** One push task: a task in the Queue with the kind's scopes, its proxy, a fresh home and fetches folder, the script run by bash. */
async function push(script = scriptPath, options: { indexDown?: boolean } = {}): Promise<PushRun> {
  const revision = randomCommit();
  const archiveTag = `production-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${revision}`;
  const id = niceSlugid();
  tc.insertTask(id, { taskGroupId: id, schedulerId: 'scriptworker-level-3', taskQueueId: 'scriptworker-3/images', scopes: [`secrets:get:${deploySecret}`], created: new Date().toISOString(), deadline: new Date(Date.now() + 3_600_000).toISOString(), expires: new Date(Date.now() + 86_400_000).toISOString(), payload: {}, metadata: { name: 'push-image-signingscript', description: '', owner: 'x@example.com', source: 'https://github.com/mozilla-releng/scriptworker-scripts' } }, 'running');
  const real = await startTaskProxy(tc.rootUrl, tc.taskCredentials(id));
  proxies.push(real);
  const proxy = options.indexDown ? await indexDownProxy(real.url) : real;
  const home = makeTempDir('push-image-home-');
  const fetches = path.join(home, 'fetches');
  mkdirSync(fetches);
  cpSync(imageTar, path.join(fetches, 'image.tar.zst'));
  // The image's /etc/containers/policy.json, and the loopback registry speaks plain HTTP (a
  // registries.conf entry; the script is unchanged).
  mkdirSync(path.join(home, '.config', 'containers'), { recursive: true });
  cpSync(referencePath('consumers', 'scriptworker-scripts', 'taskcluster/docker/skopeo/policy.json'), path.join(home, '.config', 'containers', 'policy.json'));
  writeFileSync(path.join(home, '.config', 'containers', 'registries.conf'), `[[registry]]\nlocation = "${reg.host}"\ninsecure = true\n`);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: path.join(home, 'run'),
    TMPDIR: home,
    // The worker resolves http://taskcluster to its proxy; curl here reaches it as an HTTP proxy.
    http_proxy: proxy.url,
    no_proxy: '127.0.0.1',
    // The kind's environment, and what the transform and run-task set.
    APP: 'signingscript',
    DOCKER_TAG: 'production',
    DOCKER_ARCHIVE_TAG: archiveTag,
    DOCKER_REPO: `${reg.host}/${repository}`,
    MOZ_FETCHES_DIR: fetches,
    TASKCLUSTER_ROOT_URL: tc.rootUrl,
    TASK_ID: id,
    VCS_HEAD_REPOSITORY: 'https://github.com/mozilla-releng/scriptworker-scripts',
    VCS_HEAD_REV: revision,
    TC_PROMOTE_HOLD_INDEX: kindEnv().TC_PROMOTE_HOLD_INDEX!,
  };
  mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
  // Not spawnSync: the task proxy and the emulator answer from this process.
  const run = await new Promise<{ status: number | null; log: string }>((resolve) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, log });
    });
  });
  removeTempDir(home);
  return { status: run.status, log: run.log, archiveTag };
}

/** In front of the task proxy: the index answers 503 (a fault the real index cannot be made to have here), the rest passes. */
async function indexDownProxy(target: string): Promise<TaskProxy> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').includes('/index/')) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"ServiceUnavailable"}');
    const upstream = http.request(`${target}${new URL(req.url ?? '/', 'http://taskcluster').pathname}`, { method: req.method ?? 'GET' }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stopped: TaskProxy = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: [], stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
  proxies.push(stopped);
  return stopped;
}

/** The kind's env, as the patch leaves it (what the task gets). */
function kindEnv(): Record<string, string> {
  const text = readFileSync(path.join(path.dirname(scriptPath), '../../kinds/push-image/kind.yml'), 'utf8');
  const match = /TC_PROMOTE_HOLD_INDEX: (\S+)/.exec(text);
  return match ? { TC_PROMOTE_HOLD_INDEX: match[1]! } : {};
}

const moving = async (): Promise<string | undefined> => (await headManifest(reg, repository, 'production'))?.digest;

describe('push_image.sh, patched, as the push task runs it', () => {
  it('the kind names the hold namespace tc-promote writes', () => {
    expect(kindEnv().TC_PROMOTE_HOLD_INDEX).toBe(holdPrefix);
    expect(holdIndexPath(key)).toBe(`${holdPrefix}.signingscript.production`);
  });

  it('not held (never held: the index answers 404): moves the moving tag and writes the archive tag, as before', async () => {
    const before = await moving();
    const run = await push();
    expect(run.status, run.log).toBe(0);
    expect(run.log).toContain('signingscript production is not held');
    const archived = (await headManifest(reg, repository, run.archiveTag))?.digest;
    expect(archived).toMatch(/^sha256:/);
    expect(await moving()).toBe(archived);
    expect(await moving()).not.toBe(before);
  });

  it('held: writes the archive tag, leaves the moving tag, and says why and how to release', async () => {
    const before = await moving();
    await placeHold(index, { key, by: 'releng-oncall', reason: 'signing broke with the new image', image: { tag: 'production-20261201000000-' + 'a'.repeat(40), digest: before ?? null, revision: 'a'.repeat(40) }, nowMs: Date.now() });
    const run = await push();
    expect(run.status, run.log).toBe(0);
    expect(await moving()).toBe(before);
    expect(await listTags(reg, repository)).toContain(run.archiveTag);
    expect(run.log).toContain(`HELD: wrote ${reg.host}/${repository}:${run.archiveTag}; did NOT move ${reg.host}/${repository}:production, which stays at ${before}`);
    expect(run.log).toContain('HELD: why: releng-oncall held production of signingscript at production-20261201000000-' + 'a'.repeat(40));
    expect(run.log).toContain('signing broke with the new image');
    expect(run.log).toContain('HELD: to deploy this push: tc-promote release signingscript --env production, then rerun this task');
  });

  it('the unpatched script moves the moving tag through the same hold (what the patch changes)', async () => {
    const before = await moving();
    const run = await push(referenceScript);
    expect(run.status, run.log).toBe(0);
    expect(await moving()).not.toBe(before);
    expect(await moving()).toBe((await headManifest(reg, repository, run.archiveTag))?.digest);
  });

  it('a hold that cannot be read (the index does not answer): nothing is pushed, the task fails and says so', async () => {
    const before = await moving();
    const tagsBefore = await listTags(reg, repository);
    const run = await push(scriptPath, { indexDown: true });
    expect(run.status).not.toBe(0);
    expect(run.log).toContain('ERROR: the hold of signingscript production could not be read');
    expect(run.log).toContain('nothing was pushed');
    expect(await moving()).toBe(before);
    expect(await listTags(reg, repository)).toEqual(tagsBefore);
  });

  it('released: the next push moves the moving tag again', async () => {
    await releaseHold(index, { key, by: 'releng-oncall', nowMs: Date.now() + 1000 });
    const run = await push();
    expect(run.status, run.log).toBe(0);
    expect(run.log).toContain('signingscript production is not held');
    expect(await moving()).toBe((await headManifest(reg, repository, run.archiveTag))?.digest);
  });
});
