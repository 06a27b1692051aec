// tc-promote's image, built on this machine as a release would build it (scripts/build-image.sh:
// mmdebstrap's Debian root filesystem, Node from the npm node package, the built tool and git,
// assembled with umoci), held to what a consumer needs of it (issue 20):
//   - reproducible: a second build of the same commit gives the same digest;
//   - pushed to the real registry (Debian's docker-registry) with skopeo, digest kept;
//   - `tc-promote consumers` pins it only after the registry has the digest and its
//     /app/version.json names the release's commit, and refuses (exit 4, exit 2) otherwise;
//   - pulled back and unpacked with umoci, and run in a chroot as the action task runs it: the
//     command the patched .taskcluster.yml renders for the promotion hook (git init, git fetch of
//     the pinned revision, tc-promote action-callback --config taskcluster/tc-promote.yml
//     --revision --repository), with --dry-run, against the registry and the GitHub emulator.
// Only git's transport is redirected (url.<file>.insteadOf in the chroot's /etc/gitconfig): the
// repository URL stays the GitHub one the shell requires.
// Needs root (mmdebstrap --mode=root, umoci's owners, chroot): CI runs as root; elsewhere the
// file is skipped with the reason, and under CI=true not being root is a failure.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildAction } from '../../src/graph/actions.js';
import { fireHookTask, inTreeActionHookTemplate, parseTaskclusterYml, renderJsone } from '../../src/graph/taskcluster-yml.js';
import { runCli } from '../support/cli.js';
import { gitApply } from '../support/consumers.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { referencePath, repositoryRoot } from '../support/reference.js';
import { makeTempDir, removeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { now, seedThreeAm } from '../support/three-am.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot && process.env.CI === 'true') throw new Error('test/image: CI runs as root (mmdebstrap, umoci and chroot need it); this run is not root');
if (!isRoot) console.warn('test/image skipped: not root (mmdebstrap --mode=root, umoci and chroot need root; CI runs it as root)');

const repositoryUrl = 'https://github.com/mozilla-releng/scriptworker-scripts';
const version = (JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { version: string }).version;
let dir: string;
let reg: RunningRegistry;
let built: { digest: string; commit: string; seconds: number }[] = [];
let reference: string;
let head: string;

function build(output: string, revision: string): { digest: string; commit: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync('bash', [path.join(repositoryRoot, 'scripts/build-image.sh'), '--output', output, '--revision', revision], { cwd: repositoryRoot, encoding: 'utf8', env: { ...process.env }, timeout: 1_200_000 });
  if (r.status !== 0) throw new Error(`build-image.sh exited ${r.status}:\n${r.stderr}`);
  const image = JSON.parse(readFileSync(path.join(output, 'image.json'), 'utf8')) as { digest: string; commit: string };
  return { digest: image.digest, commit: image.commit, seconds: (Date.now() - started) / 1000 };
}

function sh(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

describe.skipIf(!isRoot)('the image, built here, pushed, pinned and run as the action task runs it', () => {
  beforeAll(async () => {
    dir = makeTempDir('image-');
    // Twice, from the same commit: the first may fill the mmdebstrap cache (cold), the second
    // reuses it; both must give one digest.
    // One commit for both (HEAD may move while they run): the image is built from commits only.
    head = sh('git', ['-C', repositoryRoot, 'rev-parse', 'HEAD']).trim();
    built = [build(path.join(dir, 'a'), head), build(path.join(dir, 'b'), head)];
    console.log(`build-image.sh: ${built.map((b) => `${b.seconds.toFixed(1)} s`).join(', then ')} (${built[0]!.digest})`);
    reg = await startRegistry({ auth: 'anonymous' });
    reference = `${reg.host}/mozillareleases/tc-promote:${version}@${built[0]!.digest}`;
    sh('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${path.join(dir, 'a', 'oci')}:${version}`, `docker://${reg.host}/mozillareleases/tc-promote:${version}`]);
  }, 1_500_000);
  afterAll(async () => {
    await reg?.stop();
    if (dir) removeTempDir(dir);
  });

  it('is reproducible: the same commit builds the same digest', () => {
    expect(built[1]!.digest).toBe(built[0]!.digest);
    expect(built[0]!.commit).toBe(head);
    expect(readFileSync(path.join(dir, 'a', 'image.json'), 'utf8')).toBe(readFileSync(path.join(dir, 'b', 'image.json'), 'utf8'));
  });

  it('consumers refuses a digest the registry lacks (exit 4), another commit (exit 2) and a tag at another digest (exit 2), writing nothing', async () => {
    const out = path.join(dir, 'refused');
    const env = { DOCKER_CONFIG: reg.dockerConfigDir };
    const missing = await runCli(['consumers', '--image', `${reg.host}/mozillareleases/tc-promote:${version}@sha256:${'1'.repeat(64)}`, '--commit', built[0]!.commit, '--output', out], env);
    expect([missing.code, missing.stderr]).toEqual([4, expect.stringContaining(`sha256:${'1'.repeat(64)} does not exist in the registry: push the release image first`)]);
    const other = await runCli(['consumers', '--image', reference, '--commit', 'f'.repeat(40), '--output', out], env);
    expect([other.code, other.stderr]).toEqual([2, expect.stringContaining(`/app/version.json names commit ${built[0]!.commit}, not --commit ${'f'.repeat(40)}: it is another build than the release`)]);
    // The tag moved to another image (one of three-am's, which has its own version.json).
    const seeded = await seedThreeAm(reg, 'mozillareleases/tc-promote');
    const someDigest = Object.values(seeded.images)[0]!.digest;
    sh('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/mozillareleases/tc-promote@${someDigest}`, `docker://${reg.host}/mozillareleases/tc-promote:moved`]);
    const moved = await runCli(['consumers', '--image', `${reg.host}/mozillareleases/tc-promote:moved@${built[0]!.digest}`, '--commit', built[0]!.commit, '--output', out], env);
    expect([moved.code, moved.stderr]).toEqual([2, expect.stringContaining(`tag "moved" points at ${someDigest}, not ${built[0]!.digest}: the tag moved`)]);
    const unpinned = await runCli(['consumers', '--image', `${reg.host}/mozillareleases/tc-promote:${version}`, '--commit', built[0]!.commit, '--output', out], env);
    expect([unpinned.code, unpinned.stderr]).toEqual([2, expect.stringContaining('names no digest')]);
    expect(existsSync(out)).toBe(false);
  });

  it('consumers writes every consumer file with the image pinned, and the patch still applies to the real .taskcluster.yml', async () => {
    const out = path.join(dir, 'consumers');
    const r = await runCli(['consumers', '--image', reference, '--commit', built[0]!.commit, '--output', out, '--json'], { DOCKER_CONFIG: reg.dockerConfigDir });
    expect(r.code, r.stderr).toBe(0);
    const written = r.json() as { digest: string; files: string[]; versionLayer: string };
    expect(written.digest).toBe(built[0]!.digest);
    expect(written.files.sort()).toEqual(
      [
        'README.md',
        'image.json',
        'fxci-config/actions.yml.patch',
        'fxci-config/scriptworker-grants.patch',
        'scriptworker-scripts/actions.py',
        'scriptworker-scripts/push-image-hold.patch',
        'scriptworker-scripts/scriptworker_taskgraph.patch',
        'scriptworker-scripts/taskcluster.yml.patch',
        'scriptworker-scripts/tc-promote.yml',
      ].sort(),
    );
    const config = loadConfig(path.join(out, 'scriptworker-scripts', 'tc-promote.yml'));
    expect(config.taskcluster.image).toBe(reference);
    for (const f of ['scriptworker-scripts/tc-promote.yml', 'scriptworker-scripts/taskcluster.yml.patch']) expect(readFileSync(path.join(out, f), 'utf8')).not.toMatch(/sha256:0{64}/);
    // The other files are the checked-in ones, unchanged.
    for (const f of ['fxci-config/actions.yml.patch', 'fxci-config/scriptworker-grants.patch', 'scriptworker-scripts/push-image-hold.patch', 'scriptworker-scripts/scriptworker_taskgraph.patch']) {
      expect(readFileSync(path.join(out, f), 'utf8'), f).toBe(readFileSync(path.join(repositoryRoot, 'consumers', f), 'utf8'));
    }
    // The .taskcluster.yml patch applies to the real file, and the action task runs in the pinned image.
    const consumer = path.join(dir, 'scriptworker-scripts');
    mkdirSync(consumer);
    cpSync(referencePath('consumers', 'scriptworker-scripts.taskcluster.yml'), path.join(consumer, '.taskcluster.yml'));
    sh('chmod', ['u+w', path.join(consumer, '.taskcluster.yml')]);
    gitApply(consumer, [path.join(out, 'scriptworker-scripts', 'taskcluster.yml.patch')]);
    expect(actionTask(readFileSync(path.join(consumer, '.taskcluster.yml'), 'utf8'), config, 'a'.repeat(40)).payload.image).toBe(reference);
    const again = await runCli(['consumers', '--image', reference, '--commit', built[0]!.commit, '--output', out], { DOCKER_CONFIG: reg.dockerConfigDir });
    expect([again.code, again.stderr]).toEqual([2, expect.stringContaining('exists and is not empty')]);
  });

  describe('run from the registry, in a chroot', () => {
    let rootfs: string;
    let repo: GitFixture;
    let gh: GitHubEmulator;
    let pinned: string;
    let prHead: string;
    beforeAll(async () => {
      const pulled = path.join(dir, 'pulled');
      sh('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/mozillareleases/tc-promote@${built[0]!.digest}`, `oci:${pulled}:run`]);
      sh('umoci', ['unpack', '--image', `${pulled}:run`, path.join(dir, 'bundle')]);
      rootfs = path.join(dir, 'bundle', 'rootfs');
      // The consumer's repository: master's head adds the pinned configuration.
      repo = createGitFixture({ scripts: ['signingscript'] });
      const config = readFileSync(path.join(dir, 'consumers', 'scriptworker-scripts', 'tc-promote.yml'), 'utf8');
      const work = path.join(dir, 'checkout');
      sh('git', ['clone', '-q', repo.gitDir, work]);
      mkdirSync(path.join(work, 'taskcluster'));
      writeFileSync(path.join(work, 'taskcluster', 'tc-promote.yml'), config);
      const who = { GIT_AUTHOR_NAME: 'r', GIT_AUTHOR_EMAIL: 'r@example.com', GIT_COMMITTER_NAME: 'r', GIT_COMMITTER_EMAIL: 'r@example.com' };
      sh('git', ['-C', work, 'add', 'taskcluster/tc-promote.yml']);
      sh('git', ['-C', work, 'commit', '-qm', 'pin tc-promote'], { env: { ...process.env, ...who } });
      sh('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:master']);
      pinned = sh('git', ['-C', work, 'rev-parse', 'HEAD']).trim();
      // A pull request's head: fetchable by id, on no protected branch.
      sh('git', ['-C', work, 'commit', '-q', '--allow-empty', '-m', 'a pull request'], { env: { ...process.env, ...who } });
      sh('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:refs/pull/7/head']);
      prHead = sh('git', ['-C', work, 'rev-parse', 'HEAD']).trim();
      gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts' });
      // The registry holds signingscript's deploys (three-am's), which the plan reads.
      await seedThreeAm(reg);
      // git's transport only: the URL the shell checks stays GitHub's.
      cpSync(repo.gitDir, path.join(rootfs, 'tmp', 'consumer.git'), { recursive: true });
      writeFileSync(path.join(rootfs, 'etc', 'gitconfig'), `[url "file:///tmp/consumer.git"]\n\tinsteadOf = ${repositoryUrl}\n[safe]\n\tdirectory = *\n`);
      sh('git', ['--git-dir', path.join(rootfs, 'tmp', 'consumer.git'), 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
    }, 300_000);
    afterAll(async () => {
      await gh?.stop();
      repo?.cleanup();
    });

    // Asynchronous: the GitHub emulator answers from this process, so its event loop must run.
    const inChroot = (script: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn('chroot', [rootfs, '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/builds/worker', 'NODE_ENV=production', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), '/bin/sh', '-ec', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.on('error', reject);
        child.on('close', (status) => {
          clearTimeout(timer);
          resolve({ status, stdout, stderr });
        });
      });

    it('runs tc-promote (Node 24) and has git', async () => {
      const v = await inChroot('tc-promote --version && node --version && git --version && cat /app/version.json');
      expect(v.status, v.stderr).toBe(0);
      expect(v.stdout).toContain(`tc-promote ${version} (Node.js v24.`);
      expect(v.stdout).toMatch(/\ngit version \d/);
      expect(JSON.parse(v.stdout.slice(v.stdout.indexOf('{')))).toMatchObject({ commit: built[0]!.commit, version });
    });

    it('runs the action task\'s command from the patched .taskcluster.yml: fetches the pinned revision, checks it, plans the promotion in the pinned image (dry run)', async () => {
      const tcyml = readFileSync(path.join(dir, 'scriptworker-scripts', '.taskcluster.yml'), 'utf8');
      const config = loadConfig(path.join(dir, 'consumers', 'scriptworker-scripts', 'tc-promote.yml'));
      const task = actionTask(tcyml, config, pinned);
      expect(task.payload.image).toBe(reference);
      const script = `${task.payload.command[2]!} --dry-run --registry ${reg.url}`;
      const env = { ...task.payload.env, TASK_ID: 'fUAi2wXRRdGZcxKDrDiRZw', GITHUB_API_URL: gh.url, GITHUB_TOKEN: gh.token, TC_PROMOTE_NOW: now };
      const r = await inChroot(script, env);
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toContain(`revision ${pinned}: the head of master`);
      const graph = JSON.parse(r.stdout) as { tasks: { label: string; task: { payload: { image: string } } }[] };
      expect(graph.tasks.map((t) => t.label)).toContain('promote-signingscript-production');
      // The promotion's tasks run in the image the configuration pins: this one.
      for (const t of graph.tasks) expect(t.task.payload.image).toBe(reference);
      // A pull request's head (fetchable, on no protected branch) is refused before planning.
      const stray = await inChroot(script, { ...env, SCRIPTWORKER_HEAD_REV: prHead });
      expect([stray.status, stray.stdout]).toEqual([2, '']);
      expect(stray.stderr).toContain(`revision ${prHead} is not protected`);
    });
  });
});

/** The action task the patched .taskcluster.yml renders when the promotion hook fires for `revision`. */
function actionTask(tcymlText: string, config: ReturnType<typeof loadConfig>, revision: string): { payload: { image: string; command: string[]; env: Record<string, string> } } {
  const decisionTaskId = 'Cv1d8fPHRzWvO3MZbI1e3A';
  const action = buildAction(config, { taskGroupId: decisionTaskId, repositoryUrl, level: 3, revision, branch: 'master', owner: 'releng@mozilla.com' }, tcymlText);
  const payload = renderJsone(action.hookPayload, { taskGroupId: decisionTaskId, taskId: decisionTaskId, input: { script: 'signingscript', environment: 'production', reason: 'the image test' } }, 'hookPayload');
  return fireHookTask(inTreeActionHookTemplate(parseTaskclusterYml(tcymlText, 'tcyml'), { actionPermission: 'release-promotion' }), { firedBy: 'triggerHook', payload, clientId: 'mozilla-auth0/ad|Mozilla-LDAP|relengineer' }, 'fUAi2wXRRdGZcxKDrDiRZw', new Date('2026-11-30T12:00:00.000Z')) as never;
}
