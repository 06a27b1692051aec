// `tc-promote force-push` end to end: in process through main(argv, io), and once as a
// process through bin/tc-promote.js, against the GitHub emulator and a real bare repository.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { resetGitHubFixture } from '../support/stacks.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const repository = 'mozilla-releng/scriptworker-scripts';
const branch = 'production-signingscript';
const ref = `refs/heads/${branch}`;
const now = '2024-05-06T07:08:09Z';

let repo: GitFixture;
let gh: GitHubEmulator;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url, TC_PROMOTE_NOW: now, TC_PROMOTE_RETRY_BASE_MS: '1', ...env },
    isTty: false,
    // Messages whole, as they are matched (test/cli/widths.test.ts holds the wrapping).
    wrap: false,
  });
  return { code, stdout, stderr };
}

const fp = (...args: string[]): string[] => ['force-push', ...args];

beforeAll(async () => {
  repo = createGitFixture({ scripts: ['signingscript', 'beetmoverscript'] });
  gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository });
});
afterAll(async () => {
  await gh?.stop();
  repo?.cleanup();
});
beforeEach(() => resetGitHubFixture(repo, gh, ref));

describe('tc-promote force-push', () => {
  it('moves the branch, keeps a backup ref and prints a table', async () => {
    const [oldHead, target] = [repo.commits[1]!, repo.commits[3]!];
    const result = await run(fp('--branch', branch, '--revision', target, '--expect', oldHead));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const backupRef = `refs/heads/tc-promote-backup/${branch}/20240506070809-${oldHead}`;
    expect(repo.rev(ref)).toBe(target);
    expect(repo.rev(backupRef)).toBe(oldHead);
    expect(result.stdout).toContain(`force-push: ${repository} ${branch}: moved`);
    expect(result.stdout).toMatch(new RegExp(`old head\\s+${oldHead}`));
    expect(result.stdout).toMatch(new RegExp(`backup ref\\s+${backupRef}`));
    expect(result.stdout).toContain(`To undo: tc-promote force-push --branch ${branch} --revision ${oldHead} --expect ${target}`);
  });

  it('prints JSON with --json, and a rerun after success is a no-op', async () => {
    const [oldHead, target] = [repo.commits[1]!, repo.commits[3]!];
    const first = await run(fp('--branch', branch, '--revision', target, '--expect', oldHead, '--json'));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      repository,
      branch,
      revision: target,
      oldHead,
      backupRef: `refs/heads/tc-promote-backup/${branch}/20240506070809-${oldHead}`,
      moved: true,
      dryRun: false,
    });
    gh.reset();
    // The same command again (a rerun of the task): the lease is stale but the state is right.
    const again = await run(fp('--branch', branch, '--revision', target, '--expect', oldHead, '--json'));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ repository, branch, revision: target, oldHead: target, backupRef: null, moved: false, dryRun: false });
    expect(gh.writes()).toEqual([]);
    const table = await run(fp('--branch', branch, '--revision', target));
    expect(table.stdout).toContain(`${branch} is already at ${target}; nothing was written.`);
  });

  it('warns when it moves the branch without a lease (--expect), and says from where', async () => {
    const [oldHead, target] = [repo.commits[1]!, repo.commits[3]!];
    const backupRef = `refs/heads/tc-promote-backup/${branch}/20240506070809-${oldHead}`;
    const dry = await run(fp('--branch', branch, '--revision', target, '--dry-run'));
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe(`warning: no lease (--expect): ${branch} would be moved from ${oldHead} without checking that it is the head seen when the move was planned; its old head would be kept as ${backupRef}\n`);
    const moved = await run(fp('--branch', branch, '--revision', target));
    expect(moved.code).toBe(0);
    expect(moved.stderr).toBe(`warning: no lease (--expect): ${branch} was moved from ${oldHead} without checking that it is the head seen when the move was planned; its old head is kept as ${backupRef}\n`);
    // Already there: nothing is replaced, nothing to warn about.
    expect((await run(fp('--branch', branch, '--revision', target))).stderr).toBe('');
  });

  it('exits 3 when the lease is broken, leaving the branch alone', async () => {
    const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--expect', repo.commits[2]!));
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `tc-promote force-push: error: branch "${branch}" is at ${repo.commits[1]}, not at the expected ${repo.commits[2]}; it moved since the plan, nothing was changed\n`,
    );
    expect(repo.rev(ref)).toBe(repo.commits[1]);
    expect(gh.writes()).toEqual([]);
  });

  it.each([
    ['master', 'is the default branch'],
    ['production', 'shared deploy branch'],
    ['dev', 'shared deploy branch'],
    ['production-unknownscript', '"unknownscript" is not a configured script'],
    ['production-signingscript;rm -rf /', 'is not an acceptable branch name'],
    ['../x', 'is not an acceptable branch name'],
    ['production-signingscript\nmaster', 'control character'],
    ['tc-promote-backup/production-signingscript/x', 'is not a deploy branch'],
  ])('exits 2 for the branch %j without any request', async (bad, why) => {
    const result = await run(fp('--branch', bad, '--revision', repo.commits[3]!));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`tc-promote force-push: error: --branch: ${JSON.stringify(bad)}`);
    expect(result.stderr).toContain(why);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(gh.requests()).toEqual([]);
    expect(repo.rev('refs/heads/master')).toBe(repo.commits[4]);
  });

  it.each([
    [['--revision', 'abc1234'], '--revision: "abc1234" is not a full commit id'],
    [['--revision', `${'a'.repeat(40)};id`], '--revision: "aaaa'],
    [['--expect', 'HEAD~1'], '--expect: "HEAD~1" is not a full commit id'],
    [[], '--revision: missing'],
  ])('exits 2 for bad revisions %j', async (flags, message) => {
    const args = ['--branch', branch, ...(flags.includes('--revision') ? [] : flags.includes('--expect') ? ['--revision', repo.commits[3]!] : []), ...flags];
    const result = await run(fp(...args));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(gh.requests()).toEqual([]);
  });

  it('exits 2 for a missing --branch and unknown flags', async () => {
    expect((await run(fp('--revision', repo.commits[3]!))).stderr).toContain('--branch: missing');
    const unknown = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--force'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--force'");
    expect((await run(fp(branch))).code).toBe(2);
  });

  it('exits 4 for a revision the repository does not have, before any write', async () => {
    const unknown = 'e'.repeat(40);
    const result = await run(fp('--branch', branch, '--revision', unknown));
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(`tc-promote force-push: error: revision ${unknown} does not exist in ${repository} (HTTP 422 "No commit found for SHA: ${unknown}")\n`);
    expect(gh.writes()).toEqual([]);
  });

  it('dry-run reads, writes nothing and says what it would do', async () => {
    const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--dry-run'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(': dry run');
    expect(result.stdout).toContain(`Would keep ${repo.commits[1]} as refs/heads/tc-promote-backup/${branch}/20240506070809-${repo.commits[1]} and move ${branch} to ${repo.commits[3]}; nothing was written.`);
    expect(gh.requests().length).toBeGreaterThan(0);
    expect(gh.writes()).toEqual([]);
    expect(repo.rev(ref)).toBe(repo.commits[1]);
    const json = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--dry-run', '--json'));
    expect(JSON.parse(json.stdout)).toMatchObject({ moved: false, dryRun: true, oldHead: repo.commits[1] });
  });

  describe('credentials', () => {
    const secret = 'ghp_wrongwrongwrongwrong1234567890';

    it('exits 1 on 401 and names GITHUB_TOKEN but never its value', async () => {
      for (const extra of [[], ['--debug'], ['--json']]) {
        const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!, ...extra), { GITHUB_TOKEN: secret });
        expect(result.code).toBe(1);
        // With --json the error is a JSON object on stderr: the same message.
        const said = extra[0] === '--json' ? (JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { error: { message: string } }).error.message : result.stderr;
        expect(said).toContain(`reading repository ${repository}: GitHub refused the request (HTTP 401 "Bad credentials"); check the token from GITHUB_TOKEN`);
        expect(result.stderr + result.stdout).not.toContain(secret);
        expect(result.stderr + result.stdout).not.toContain('wrongwrong');
      }
      expect(gh.requests().every((r) => r.method === 'GET')).toBe(true);
      expect(gh.requests()[0]!.authorization).toBe(`token ${secret}`);
    });

    it('exits 2 without any credentials, before any request', async () => {
      const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!), { GITHUB_TOKEN: undefined });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no GitHub credentials: set GITHUB_TOKEN, or run inside a task with TASKCLUSTER_PROXY_URL');
      expect(gh.requests()).toEqual([]);
    });

    it('dry-run goes anonymous, and a refusal says where a token would come from', async () => {
      const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--dry-run'), { GITHUB_TOKEN: undefined });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('(HTTP 401 "Requires authentication"); no token was sent: set GITHUB_TOKEN');
      expect(gh.requests().map((r) => r.auth)).toEqual(['none']);
    });

    it('uses the github_token of the Taskcluster secret inside a task, and never prints it', async () => {
      let secretToken = gh.token;
      const proxy = http.createServer((req, res) => {
        const ok = req.url === '/api/secrets/v1/secret/project%2Freleng%2Fscriptworker-scripts%2Fdeploy';
        res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { secret: { github_token: secretToken }, expires: '2030-01-01T00:00:00Z' } : { message: 'no' }));
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const env = { GITHUB_TOKEN: undefined, TASKCLUSTER_PROXY_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
      try {
        const moved = await run(fp('--branch', branch, '--revision', repo.commits[3]!, '--json'), env);
        expect(moved.code).toBe(0);
        expect(repo.rev(ref)).toBe(repo.commits[3]);
        secretToken = secret;
        const refused = await run(fp('--branch', branch, '--revision', repo.commits[2]!), env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('check the token from Taskcluster secret "project/releng/scriptworker-scripts/deploy" (field github_token) (GITHUB_TOKEN, when set, is used instead)');
        expect(refused.stderr).not.toContain(secret);
      } finally {
        await new Promise<void>((resolve) => proxy.close(() => resolve()));
      }
    });

    it('refuses a GITHUB_API_URL with credentials in it without echoing them', async () => {
      const result = await run(fp('--branch', branch, '--revision', repo.commits[3]!), { GITHUB_API_URL: 'http://user:pass@127.0.0.1:1' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('GITHUB_API_URL');
      expect(gh.requests()).toEqual([]);
    });
  });

  it('prints help', async () => {
    const result = await run(fp('--help'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: tc-promote force-push --branch B --revision SHA');
    expect(result.stdout).toContain('github_token');
    expect((await run(['--help'])).stdout).toMatch(/force-push\s+move a deploy branch/);
  });
});

describe('tc-promote force-push as a process', () => {
  beforeAll(() => {
    // bin/tc-promote.js runs the compiled CLI: build it when it is missing or older than the sources.
    const built = path.join(root, 'dist/cli/force-push.js');
    const newest = (dir: string): number => Math.max(...readdirSync(dir, { recursive: true }).map((f) => statSync(path.join(dir, String(f))).mtimeMs));
    if (!existsSync(built) || statSync(built).mtimeMs < newest(path.join(root, 'src'))) {
      try {
        execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'pipe' });
      } catch {
        // Type errors elsewhere still emit JavaScript; the test below fails if ours did not.
      }
      // As npm run build does: help.json records each module's size and time, and a rebuild
      // without it left every --help of bin (test/cli/startup.test.ts) loading the whole module.
      execFileSync(process.execPath, [path.join(root, 'scripts/write-schemas.js')], { cwd: root, stdio: 'pipe' });
    }
  }, 120_000);

  it('moves the branch and exits 0, printing JSON and no token', async () => {
    const target = repo.commits[4]!;
    const { code, stdout, stderr } = await new Promise<Run>((resolve) => {
      const env = { ...process.env, GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url, TC_PROMOTE_NOW: now };
      execFile(process.execPath, [path.join(root, 'bin/tc-promote.js'), 'force-push', '--branch', branch, '--revision', target, '--expect', repo.commits[1]!, '--json'], { env }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ branch, revision: target, oldHead: repo.commits[1], moved: true });
    expect(execFileSync('git', ['--git-dir', repo.gitDir, 'rev-parse', ref], { encoding: 'utf8' }).trim()).toBe(target);
    expect(stdout + stderr).not.toContain(gh.token);
  });

  it('exits 2 for a disallowed branch', async () => {
    const code = await new Promise<number>((resolve) => {
      execFile(process.execPath, [path.join(root, 'bin/tc-promote.js'), 'force-push', '--branch', 'master', '--revision', repo.commits[0]!], { env: { ...process.env, GITHUB_TOKEN: gh.token, GITHUB_API_URL: gh.url } }, (error) =>
        resolve(error ? Number((error as { code?: number }).code) : 0),
      );
    });
    expect(code).toBe(2);
    expect(gh.requests()).toEqual([]);
  });
});
