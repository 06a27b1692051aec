// `tc-promote status` against the real registry: every script × environment, the flags (no
// archive tag, rolled back, repository missing), drift between environments counted by the
// GitHub emulator over a real git repository, tables within 120 columns, and the request
// pattern at a distance (26 pairs through a 25 ms delay proxy in a few round trips).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDelayProxy } from '../support/delay-proxy.js';
import { loadConfig } from '../../src/config/load.js';
import { seedDrill } from '../../src/drill/seed.js';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { runCli } from '../support/cli.js';
import { createGitFixture, type GitFixture } from '../support/git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';
import { B, now, P, seedHistory, type SeededHistory } from '../support/scenario.js';

let reg: RunningRegistry;
let seeded: SeededHistory;

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedHistory(reg);
}, 120_000);
afterAll(async () => reg?.stop());

const status = (...args: string[]) => runCli(['status', '--registry', reg.url, ...args], { TC_PROMOTE_NOW: now });

describe('status of the seeded registry', () => {
  it('lists every configured script × environment; missing repositories are rows, not failures', async () => {
    const r = await status('--json');
    expect(r.code, r.stderr).toBe(0);
    const { rows } = r.json<{ rows: { script: string; env: string; flags: string[]; current: { tag: string } | null; previousKnownGood: { tag: string } | null; movingDigest: string | null; drift: { env: string; state: string }[] }[] }>();
    const config = loadConfig();
    expect(rows.map((row) => `${row.script}/${row.env}`)).toEqual(config.scripts.flatMap((s) => Object.keys(config.environments).map((e) => `${s}/${e}`)));
    const row = (script: string, env: string) => rows.find((x) => x.script === script && x.env === env)!;
    // signingscript production: the retag rollback P10 is current, P9 was rolled back.
    expect(row('signingscript', 'production')).toMatchObject({ current: { tag: P.P10 }, previousKnownGood: { tag: P.P7 }, flags: ['rolled back'] });
    expect(row('signingscript', 'production').drift).toEqual([{ env: 'dev', revision: '8888888888888888888888888888888888888888', state: 'differs', aheadBy: null, behindBy: null }]);
    // beetmoverscript dev: the moving tag points at an image no archive tag records.
    expect(row('beetmoverscript', 'dev')).toMatchObject({ current: null, movingDigest: seeded.unarchivedDigest, flags: ['no archive tag'] });
    expect(row('beetmoverscript', 'production')).toMatchObject({ current: { tag: B.B3 }, flags: [] });
    expect(row('addonscript', 'production')).toMatchObject({ current: null, flags: ['repository missing'] });
  });

  it('prints a table within 120 columns; --wide shows whole tags', async () => {
    const r = await status();
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SCRIPT\s+ENV\s+CURRENT\s+AGE\s+DIGEST\s+PREVIOUS-KNOWN-GOOD\s+DRIFT\s+FLAGS$/);
    const table = lines.slice(0, lines.indexOf(''));
    for (const line of table) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(table.find((l) => l.startsWith('signingscript ') && l.includes('production')), r.stdout).toMatch(/^signingscript\s+production\s+666666666666\s+27d\s+[0-9a-f]{12}\s+444444444444\s+dev ≠\s+rolled back$/);
    expect(table.find((l) => l.startsWith('addonscript') && l.includes('production'))).toMatch(/repository missing$/);
    expect(r.stdout).toContain('note: commit counts between environments not shown: GitHub is not configured for this run');
    const wide = await status('--wide', '--script', 'signingscript');
    expect(wide.stdout).toContain(P.P10);
    expect(wide.stdout).toContain(seeded.images.img6!.digest);
  });

  it('--env and --script narrow the table; unknown names are refused before any request', async () => {
    const r = await status('--env', 'production', '--script', 'signingscript', '--script', 'beetmoverscript', '--json');
    expect(r.json<{ rows: { script: string; env: string }[] }>().rows.map((x) => `${x.script}/${x.env}`)).toEqual(['signingscript/production', 'beetmoverscript/production']);
    const bad = await status('--script', 'signingscrpt');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('did you mean signingscript?')]);
  });

  it('an unreadable registry is a row saying why, and exit 1', async () => {
    const r = await runCli(['status', '--registry', 'http://127.0.0.1:9', '--script', 'signingscript', '--json'], { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.code).toBe(1);
    expect(r.json<{ rows: { flags: string[]; error: string }[] }>().rows.map((x) => x.flags)).toEqual([['unreadable'], ['unreadable']]);
  });
});

describe('status of three environments', () => {
  it('FLAGS are never cut to fit 120 columns: DRIFT gives up its room first ("repository missing", not "repository miss…")', async () => {
    // The embedded configuration with a staging environment beside production and dev.
    const config = loadConfig();
    const staging = JSON.parse(JSON.stringify(config.environments.dev).replaceAll('dev', 'staging'));
    const configPath = path.join(makeTempDir('status-three-envs-'), 'tc-promote.yml');
    writeFileSync(configPath, JSON.stringify({ ...config, environments: { ...config.environments, staging } }, null, 2));
    const r = await status('--config', configPath, '--script', 'pushflatpakscript', '--script', 'signingscript');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const table = lines.slice(0, lines.indexOf(''));
    expect(table).toHaveLength(7);
    for (const line of table) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(table.filter((l) => l.startsWith('pushflatpakscript'))).toHaveLength(3);
    for (const line of table.filter((l) => l.startsWith('pushflatpakscript'))) expect(line).toMatch(/ repository missing$/);
    expect(table.find((l) => /^signingscript\s+production/.test(l))).toMatch(/ rolled back$/);
    // --wide: whole cells.
    const wide = await status('--config', configPath, '--script', 'pushflatpakscript', '--wide');
    expect(wide.stdout).toMatch(/production\s+-\s+-\s+-\s+-\s+dev \?, staging \?\s+repository missing/);
  });
});

describe('drift counted by GitHub', () => {
  let repo: GitFixture;
  let gh: GitHubEmulator;
  let own: RunningRegistry;
  beforeAll(async () => {
    repo = createGitFixture({ scripts: ['signingscript'], commits: 8 });
    gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts', anonymousReads: true });
    own = await startRegistry({ auth: 'anonymous' });
    // Production at commit 2, dev three commits ahead at commit 5: images pushed with tc-promote's own client.
    const client = new RegistryClient({ plainHttpHosts: new Set([own.host]) });
    const repoRef = { registry: own.host, repository: 'mozilla/releng-signingscript' };
    const base = layerOf([{ path: 'app/README', content: Buffer.from('base\n'), mtime: 0 }]);
    const push = (commit: string, tags: string[]) => pushImage(client, repoRef, base, { commit, createdMs: Date.parse(now) - 86_400_000, source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: commit }, tags);
    await push(repo.commits[2]!, ['production', `production-20210220000000-${repo.commits[2]}`]);
    await push(repo.commits[5]!, ['dev', `dev-20210225000000-${repo.commits[5]}`]);
  }, 60_000);
  afterAll(async () => {
    await gh?.stop();
    await own?.stop();
    repo?.cleanup();
  });

  it('says how many commits dev is ahead of production (one compare for both rows), anonymously', async () => {
    const r = await runCli(['status', '--registry', own.url, '--script', 'signingscript', '--json'], { TC_PROMOTE_NOW: now, GITHUB_API_URL: gh.url });
    expect(r.code, r.stderr).toBe(0);
    const { rows, notes } = r.json<{ rows: { env: string; drift: unknown[] }[]; notes: string[] }>();
    expect(rows.map((x) => [x.env, x.drift])).toEqual([
      ['production', [{ env: 'dev', revision: repo.commits[5], state: 'differs', aheadBy: 3, behindBy: 0 }]],
      ['dev', [{ env: 'production', revision: repo.commits[2], state: 'differs', aheadBy: 0, behindBy: 3 }]],
    ]);
    // No GitHub note (the compare answered); holds were not asked for (no Taskcluster given), and that is said.
    expect(notes).toEqual(['holds not read (set TASKCLUSTER_ROOT_URL, or pass --holds): a held environment does not move on the next push']);
    expect(gh.requests().filter((q) => q.path.includes('/compare/'))).toHaveLength(1);
    const table = await runCli(['status', '--registry', own.url, '--script', 'signingscript'], { TC_PROMOTE_NOW: now, GITHUB_API_URL: gh.url });
    expect(table.stdout).toMatch(/signingscript\s+production\s+.*dev \+3/);
    expect(table.stdout).toMatch(/signingscript\s+dev\s+.*production -3/);
  });

  it('GitHub unreachable is a note, and the table is still printed', async () => {
    const r = await runCli(['status', '--registry', own.url, '--script', 'signingscript'], { TC_PROMOTE_NOW: now, GITHUB_API_URL: 'http://127.0.0.1:1', TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dev ≠/);
    expect(r.stdout).toMatch(/note: commit counts between environments not shown for 1 comparison\(s\): comparing/);
  });
});

describe('26 pairs at a distance', () => {
  let own: RunningRegistry;
  beforeAll(async () => {
    own = await startRegistry({ auth: 'anonymous', accessLog: false });
    const client = new RegistryClient({ plainHttpHosts: new Set([own.host]), connections: 32 });
    await seedDrill(client, own.host, loadConfig(), 'signingscript', Date.now());
  }, 120_000);
  afterAll(async () => own?.stop());

  it('every pair read at once: a few round trips through a 25 ms delay proxy, whatever the number of pairs', async () => {
    const proxy = await startDelayProxy(own.url, 25);
    try {
      const started = performance.now();
      const r = await runCli(['status', '--registry', proxy.url, '--json']);
      const ms = performance.now() - started;
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ rows: { flags: string[] }[] }>().rows).toHaveLength(26);
      const stats = { log: proxy.requests(), requests: proxy.requests().length, roundTrips: proxy.roundTrips(), connections: proxy.connections() };
      // Every pair starts at once: the 13 tag lists and 26 moving tags are the first round trip,
      // and no pair waits for another (a chain of histories would be dozens of round trips).
      expect(stats.log.filter((l) => l.depth === 1).map((l) => l.method).sort()).toEqual([...Array(26).fill('HEAD'), ...Array(13).fill('GET')].sort());
      // History's pattern per pair (the list and the moving tag, the digests, the selection's few more), overlapping.
      expect(stats.roundTrips, JSON.stringify(stats.log.map((l) => `${l.depth} ${l.method} ${l.path}`))).toBeLessThanOrEqual(6);
      // eslint-disable-next-line no-console
      console.log(`status (indicative, not a benchmark): 26 pairs, ${stats.requests} requests, ${stats.roundTrips} round trips, ${stats.connections} connections, ${Math.round(ms)} ms in-process through a 25 ms proxy`);
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});
