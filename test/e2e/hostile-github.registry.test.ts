// The commits a rollback undoes come from GitHub's compare, and GitHub (or what answers for
// GITHUB_API_URL) is remote text like any other: a compromised or misconfigured endpoint
// that echoes the token it was sent inside a commit's title or author, or puts escape
// sequences, bidirectional overrides or colour marks in them, must not get any of it onto
// the terminal or into --json. Here the token comes the way it does inside a task: from the
// Taskcluster secret through TASKCLUSTER_PROXY_URL (GITHUB_TOKEN is not set), and the plan
// runs against the real registry. Also here: rollback --json on a terminal shows what will
// move before it asks, and keeps stdout one JSON document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { base64Forms } from '../../src/registry/redact.js';
import { RegistryClient } from '../../src/registry/client.js';
import { main } from '../../src/cli/main.js';
import { runCli } from '../support/cli.js';
import { json, startHostileServer, type HostileServer } from '../support/hostile-server.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

const token = 'ghs_SECRETFROMTHETASKCLUSTERSECRET0123';
const day = 86_400_000;
const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

let reg: RunningRegistry;
let hostile: HostileServer;
/** How the compare answers: echoing what it was sent, or with counts no repository has. */
let mode: 'echo' | 'huge' = 'echo';

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]) });
  const base = layerOf([{ path: 'app/README', content: Buffer.from('hostile github base\n'), mtime: 0 }]);
  const now = Date.now();
  for (const [commit, ago] of [[A, 30], [B, 2]] as const) {
    await pushImage(client, { registry: reg.host, repository: 'mozilla/releng-signingscript' }, base, { commit, createdMs: now - ago * day, source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: `signingscript ${commit}` }, ['production', `production-${stamp(now - ago * day)}-${commit}`]);
  }
  hostile = await startHostileServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/api/secrets/v1/secret/')) return json(res, 200, { secret: { github_token: token } });
    if (url.includes('/compare/') && mode === 'huge') {
      return json(res, 200, { status: 'ahead', ahead_by: 1e308, behind_by: 0, total_commits: 1e308, html_url: 'https://github.com/x', merge_base_commit: { sha: A }, commits: [] });
    }
    if (url.includes('/compare/')) {
      // What it was sent, echoed: the bare token, and in the shapes a header carries it.
      const sent = (req.headers.authorization ?? '').replace(/^(token|Bearer) /i, '');
      const commit = (sha: string, message: string, name: string) => ({ sha, commit: { message, author: { name, date: '2026-01-01T00:00:00Z' } } });
      return json(res, 200, {
        status: 'ahead',
        ahead_by: 3,
        behind_by: 0,
        total_commits: 3,
        html_url: 'https://github.com/x',
        merge_base_commit: { sha: A },
        commits: [
          commit('c'.repeat(40), `fix: your token is ${sent}\nmore`, `bot ${Buffer.from(sent).toString('base64')}`),
          commit('d'.repeat(40), 'feat: \u001b[2J\u001b[31mcleared\u001b]0;title\u0007 \u202eevil\u202c \uE004ok\uE000 \u061Calm \u{E0041}\u{E0042}hidden', `x${'y'.repeat(10_000)}`),
          commit(B, `Revert ${sent.slice(0, 10)}`, sent),
        ],
      });
    }
    return json(res, 404, { message: 'Not Found' });
  });
}, 60_000);

afterAll(async () => {
  await hostile?.stop();
  await reg?.stop();
});

describe('a hostile compare answer', () => {
  it('lists the commits with the token it echoes redacted, and escape sequences, bidi and colour marks escaped (table and --json)', async () => {
    const env = { TASKCLUSTER_PROXY_URL: hostile.url, GITHUB_API_URL: hostile.url, TC_PROMOTE_RETRY_BASE_MS: '1' };
    const table = await runCli(['plan', 'signingscript', '--registry', reg.url], env);
    expect(table.code, table.stderr).toBe(0);
    // The compare was asked with the secret's token: the test proves something only then.
    expect(hostile.requests().some((r) => r.path.includes('/compare/') && r.authorization?.includes(token))).toBe(true);
    expect(table.stdout).toContain('3 commit(s) undone');
    const jsonRun = await runCli(['plan', 'signingscript', '--registry', reg.url, '--json'], env);
    expect(jsonRun.code, jsonRun.stderr).toBe(0);
    const commits = jsonRun.json<{ commits: { commits: { title: string; author: string }[] } }>().commits.commits;
    expect(commits).toHaveLength(3);
    for (const r of [table, jsonRun]) {
      const out = r.stdout + r.stderr;
      for (const form of [token, ...base64Forms(token)]) expect(out).not.toContain(form);
      expect(out).toContain('[REDACTED]');
      expect(out).not.toMatch(/[\u001b\u0007\u202e\u202c\uE000-\uE006\u061c]|\u{E0041}/u);
    }
    expect(table.stdout).toContain('\\u001b[2J\\u001b[31mcleared');
    expect(table.stdout).toContain('\\u202eevil\\u202c \\ue004ok\\ue000');
    // The Arabic letter mark (a bidirectional control, as in Trojan Source) and tag characters (invisible text).
    expect(table.stdout).toContain('\\u061calm \\udb40\\udc41\\udb40\\udc42hidden');
    // An author 10,000 characters long is cut as a title is.
    const line = table.stdout.split('\n').find((l) => l.includes('dddddddddddd'))!;
    expect(line.length).toBeLessThan(300);
    expect(line).toMatch(/\(xy{99}…\)$/);
  }, 60_000);

  it('redacts a token with quotes and backslashes in --json too, where JSON escapes them', async () => {
    // Registry passwords and tokens may hold " and \: in --json output they are written \" and
    // \\, which the raw value does not match.
    const odd = 'tok"with\\quotes"and\\backslashes0123';
    const env = { GITHUB_TOKEN: odd, GITHUB_API_URL: hostile.url, TC_PROMOTE_RETRY_BASE_MS: '1' };
    for (const extra of [[], ['--json']]) {
      const r = await runCli(['plan', 'signingscript', '--registry', reg.url, ...extra], env);
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout + r.stderr;
      for (const form of [odd, JSON.stringify(odd).slice(1, -1), ...base64Forms(odd)]) expect(out).not.toContain(form);
      expect(out).toContain('[REDACTED]');
    }
  }, 60_000);
});

describe('rollback --json on a terminal, without --yes', () => {
  it('shows what will move before it asks (on stderr), and a refusal is JSON on stdout', async () => {
    let stdout = '';
    let stderr = '';
    let shownBeforeQuestion = '';
    const code = await main(['rollback', 'signingscript', '--registry', reg.url, '--reason', 'test', '--json', '--no-commits'], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9', TASKCLUSTER_CLIENT_ID: 'x', TASKCLUSTER_ACCESS_TOKEN: 'not-used-here' },
      isTty: true,
      confirm: async () => {
        shownBeforeQuestion = stdout + stderr;
        return false;
      },
    });
    expect(code).toBe(1);
    // The question says "as above": the from → to summary is above it.
    expect(shownBeforeQuestion).toMatch(/rollback signingscript production[^]*\n {2}from {2}production-\d{14}-b{40}[^]*\n {2}to {4}production-\d{14}-a{40}/);
    // stdout stays one JSON document.
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'not-confirmed', taskGroupId: null });
    // Without a terminal --json prints nothing above the refusal: it does not say it did.
    const piped = await runCli(['rollback', 'signingscript', '--registry', reg.url, '--reason', 'test', '--json', '--no-commits'], { TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9', TASKCLUSTER_CLIENT_ID: 'x', TASKCLUSTER_ACCESS_TOKEN: 'not-used-here' });
    expect([piped.code, piped.stdout]).toEqual([2, '']);
    expect(JSON.parse(piped.stderr).error.message).toBe('rollback: no terminal to confirm on; pass --yes to submit without asking (tc-promote plan signingscript --env production --json shows what would move); nothing was created');
  }, 60_000);
});

describe('a compare answer with counts no repository has', () => {
  it('is a note, not "1e+308 commit(s) undone" nor a request for page 5e+306', async () => {
    mode = 'huge';
    try {
      const before = hostile.requests().length;
      const r = await runCli(['plan', 'signingscript', '--registry', reg.url], { GITHUB_TOKEN: 'ghp_0123456789abcdef', GITHUB_API_URL: hostile.url, TC_PROMOTE_RETRY_BASE_MS: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain('e+');
      expect(r.stdout).toContain("commits:   not listed: comparing " + A + '...' + B + " in mozilla-releng/scriptworker-scripts: GitHub's answer does not have the documented shape (ahead_by missing or malformed)");
      expect(hostile.requests().slice(before).filter((q) => q.path.includes('/compare/'))).toHaveLength(1);
    } finally {
      mode = 'echo';
    }
  }, 60_000);
});
