// Holds on the real Taskcluster services (../shared/upstream/taskcluster, through
// test/support/real-taskcluster.ts): `status` and `history` read them from the real Index
// (anonymously, as Firefox-CI's anonymous role allows) and show who, why, when and which image;
// `hold` and `release` need exactly the scopes `tc-promote grants` lists for them (the real Auth
// decides); a stop (Ctrl-C) while the hold is written says whether it was written, and the real
// Index has it whole or not at all. The stall itself is injected in-process around the real
// Index client (the write's answer, or its sending, held back): a real service cannot be made
// to stall on cue.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import { HoldInterruptedError, type HoldIndex } from '../../src/history/hold.js';
import { holdEnvironment, releaseEnvironment } from '../../src/operations/hold.js';
import { requiredGrants } from '../../src/taskcluster/grants.js';
import { runCli } from '../support/cli.js';
import { buildImage } from '../support/fixtures.js';
import { realTaskclusterSkipped, sharedRealTaskcluster, type RealTaskcluster } from '../support/real-taskcluster.js';
import { client } from '../support/real-worker.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

const skipped = realTaskclusterSkipped();
const script = 'signingscript';
const holdPath = (env: string) => `scriptworker.v2.scriptworker-scripts.hold.${script}.${env}`;

let tc: RealTaskcluster;
let reg: RunningRegistry;
let config: Config;
let configPath: string;
let oncall: { clientId: string; accessToken: string };
let tags: { A: string; B: string };
let digests: { A: string; B: string };
const commits = { A: 'a'.repeat(40), B: 'b'.repeat(40) };

beforeAll(async () => {
  if (skipped) return;
  tc = await sharedRealTaskcluster();
  reg = await startRegistry({ auth: 'anonymous' });
  const embedded = loadConfig();
  config = JSON.parse(JSON.stringify({ ...embedded, taskcluster: { ...embedded.taskcluster, rootUrl: tc.rootUrl } }).replaceAll('"docker.io"', JSON.stringify(reg.host)));
  configPath = path.join(makeTempDir('holds-real-'), 'tc-promote.yml');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const now = Date.now();
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  tags = { A: `production-${stamp(now - 30 * 86_400_000)}-${commits.A}`, B: `production-${stamp(now - 2 * 86_400_000)}-${commits.B}` };
  digests = {
    A: (await buildImage(reg, { repository: `mozilla/releng-${script}`, commit: commits.A, tags: [tags.A] })).digest,
    B: (await buildImage(reg, { repository: `mozilla/releng-${script}`, commit: commits.B, tags: ['production', tags.B] })).digest,
  };
  // The on-call engineer: the hold scopes `tc-promote grants` lists for production, nothing else.
  const holdScopes = requiredGrants(config).hold.map((h) => h.scope).filter((s) => s.endsWith(`.${script}.production`));
  expect(holdScopes).toEqual([`index:insert-task:${holdPath('production')}`]);
  const clientId = `tc-promote-tests/holds-oncall-${process.pid}`;
  const made = await client('Auth', tc.rootUrl, tc.rootCredentials).createClient(clientId, { description: 'holds only', expires: new Date(now + 86_400_000).toISOString(), scopes: holdScopes });
  oncall = { clientId, accessToken: made.accessToken as string };
}, 300_000);

afterAll(async () => {
  await reg?.stop();
});

const asOncall = () => ({ TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: oncall.clientId, TASKCLUSTER_ACCESS_TOKEN: oncall.accessToken, USER: 'releng-oncall', TC_PROMOTE_REQUESTER: 'releng-oncall' });
const anonymous = () => ({ TASKCLUSTER_ROOT_URL: tc.rootUrl, TASKCLUSTER_CLIENT_ID: undefined, TASKCLUSTER_ACCESS_TOKEN: undefined });

describe.skipIf(skipped)('holds on the real Taskcluster index: status and history show them; the scopes grants lists; a stop mid-write', () => {
  it('hold needs exactly the listed scope: production is held, dev is refused by the real Auth naming the scope, and nothing is written', async () => {
    const refused = await runCli(['hold', script, '--env', 'dev', '--config', configPath, '--reason', 'not mine'], asOncall());
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`hold: could not write the index entry ${holdPath('dev')} (needs index:insert-task:${holdPath('dev')})`);
    expect(refused.stderr).toContain('the hold is unchanged');
    await expect(client('Index', tc.rootUrl).findTask(holdPath('dev'))).rejects.toMatchObject({ statusCode: 404 });

    const held = await runCli(['hold', script, '--config', configPath, '--reason', 'signing fails with B'], asOncall());
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toMatch(new RegExp(`^${script} production: held at ${tags.B} since \\S+ \\(\\S+ ago\\) by releng-oncall: signing fails with B; `));
    const entry = await client('Index', tc.rootUrl).findTask(holdPath('production'));
    expect(entry.data).toMatchObject({ held: true, script, env: 'production', by: 'releng-oncall', reason: 'signing fails with B', image: { tag: tags.B, digest: digests.B, revision: commits.B } });
  });

  it('status shows the hold (FLAGS held, the line under the table, --json hold), read anonymously; without Taskcluster it says holds were not read', async () => {
    const text = await runCli(['status', '--script', script, '--config', configPath], anonymous());
    expect(text.code, text.stderr).toBe(0);
    const production = text.stdout.split('\n').find((l) => l.startsWith(`${script}  production`))!;
    expect(production).toMatch(/held$/);
    expect(text.stdout.split('\n').find((l) => l.startsWith(`${script}  dev`))).not.toMatch(/held/);
    expect(text.stdout).toMatch(new RegExp(`\\n${script} production: held at ${tags.B} since \\S+ \\(\\S+ ago\\) by releng-oncall: signing fails with B; a push writes its archive tag but does not move the moving tag; release: tc-promote release ${script} --env production\\n`));
    const json = await runCli(['status', '--script', script, '--config', configPath, '--json'], anonymous());
    const rows = json.json().rows as { env: string; flags: string[]; hold: Record<string, unknown> | null }[];
    const row = rows.find((r) => r.env === 'production')!;
    expect(row.flags).toContain('held');
    expect(row.hold).toMatchObject({ state: 'held', path: holdPath('production'), by: 'releng-oncall', reason: 'signing fails with B', image: { tag: tags.B, digest: digests.B, revision: commits.B } });
    expect(Date.parse(row.hold!.at as string)).toBeGreaterThan(Date.now() - 600_000);
    expect(rows.find((r) => r.env === 'dev')!.hold).toEqual({ state: 'none', path: holdPath('dev') });
    // Offline: not read, and said so (a hold unseen is not "not held").
    const offline = await runCli(['status', '--script', script, '--config', configPath, '--json'], { TASKCLUSTER_ROOT_URL: undefined, TASKCLUSTER_PROXY_URL: undefined });
    expect(offline.json().rows[0].hold).toBeNull();
    expect(offline.json().notes).toContain('holds not read (set TASKCLUSTER_ROOT_URL, or pass --holds): a held environment does not move on the next push');
    // An index that does not answer: "hold unknown", never "not held".
    const dead = await runCli(['status', '--script', script, '--env', 'production', '--config', configPath, '--root-url', 'http://127.0.0.1:9'], { TASKCLUSTER_ROOT_URL: undefined });
    expect(dead.stdout).toMatch(/hold unknown/);
    expect(dead.stdout).toContain(`${script} production: hold unknown: hold: the Taskcluster index could not be read at ${holdPath('production')}`);
  });

  it('history shows the hold over the table and marks the deploy it keeps HELD (--json: hold, deploys[].held)', async () => {
    const text = await runCli(['history', script, '--config', configPath], anonymous());
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[1]).toMatch(new RegExp(`^hold: held at ${tags.B} since \\S+ \\(\\S+ ago\\) by releng-oncall: signing fails with B; .*release: tc-promote release ${script} --env production$`));
    expect(lines.slice(2).find((l) => l.includes(tags.B.slice(0, 'production-'.length + 14)))).toMatch(/CURRENT, HELD/);
    expect(lines.slice(2).find((l) => l.includes(tags.A.slice(0, 'production-'.length + 14)))).not.toMatch(/HELD/);
    const json = (await runCli(['history', script, '--config', configPath, '--json'], anonymous())).json();
    expect(json.hold).toMatchObject({ state: 'held', by: 'releng-oncall', reason: 'signing fails with B', image: { tag: tags.B } });
    expect(json.deploys.filter((d: { held?: boolean }) => d.held).map((d: { tag: string }) => d.tag)).toEqual([tags.B]);
  });

  it('release: status and history say released by whom, and nothing is HELD', async () => {
    const released = await runCli(['release', script, '--config', configPath, '--reason', 'fixed'], asOncall());
    expect(released.code, released.stderr).toBe(0);
    const status = (await runCli(['status', '--script', script, '--env', 'production', '--config', configPath, '--json'], anonymous())).json();
    expect(status.rows[0].flags).not.toContain('held');
    expect(status.rows[0].hold).toMatchObject({ state: 'released', by: 'releng-oncall', releasedBy: 'releng-oncall', releaseReason: 'fixed' });
    const history = await runCli(['history', script, '--config', configPath], anonymous());
    expect(history.stdout.split('\n')[1]).toMatch(/^hold: not held \(released by releng-oncall at \S+; held before by releng-oncall: signing fails with B\)$/);
    expect(history.stdout).not.toMatch(/HELD/);
  });

  describe('a stop (Ctrl-C) while the hold is written: written whole or not at all, and said which', () => {
    const target = () => ({ config, connection: { rootUrl: tc.rootUrl, apiRootUrl: tc.rootUrl, viaProxy: false, credentials: oncall }, script, env: 'production' });
    /** The real Index client, its insertTask stalled: `answer` holds back the answer of a write the index has done; `send` holds back the request itself. */
    const stalled = (how: 'answer' | 'send', ms: number, controller: AbortController): HoldIndex => {
      const index = client('Index', tc.rootUrl, oncall);
      return {
        findTask: (p) => index.findTask(p),
        insertTask: async (namespace, payload) => {
          // Ctrl-C 200 ms into the write.
          setTimeout(() => controller.abort(new Error('SIGINT received')), 200);
          if (how === 'send') await new Promise((r) => setTimeout(r, ms));
          const done = await index.insertTask(namespace, payload);
          if (how === 'answer') await new Promise((r) => setTimeout(r, ms));
          return done;
        },
      };
    };
    const image = { tag: tags?.A ?? null, digest: null, revision: null };

    it('the write landed but its answer did not come: read back, "written whole"', async () => {
      const controller = new AbortController();
      const error = await holdEnvironment({ ...target(), index: stalled('answer', 4000, controller), reason: 'stop mid-write 1', by: 'releng-oncall', nowMs: Date.now(), image: { ...image, tag: tags.A }, signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HoldInterruptedError);
      expect((error as HoldInterruptedError).written).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`^stopped: SIGINT received, while the hold was written: the hold was written whole \\(${holdPath('production').replace(/\./g, '\\.')}: held by releng-oncall since \\S+; read back\\); tc-promote release ${script} --env production ends it$`));
      expect((await client('Index', tc.rootUrl).findTask(holdPath('production'))).data).toMatchObject({ held: true, reason: 'stop mid-write 1', image: { tag: tags.A } });
    });

    it('the write not sent yet: "not known to be written" with the command that tells; the index keeps the record before it whole', async () => {
      const controller = new AbortController();
      const before = (await client('Index', tc.rootUrl).findTask(holdPath('production'))).data;
      const error = await releaseEnvironment({ ...target(), index: stalled('send', 3000, controller), by: 'releng-oncall', reason: 'stop mid-release', nowMs: Date.now() + 2000, signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HoldInterruptedError);
      expect((error as HoldInterruptedError).written).toBeNull();
      expect((error as Error).message).toBe(
        `stopped: SIGINT received, while the hold was written: not known to be written (the index reads held, as before so far; the request may still land, and an entry is written whole or not at all); tc-promote status --script ${script} --env production --holds says which`,
      );
      // Right after: the record before, whole.
      expect((await client('Index', tc.rootUrl).findTask(holdPath('production'))).data).toEqual(before);
      // The stalled request lands later: then the release, whole (never a mix of the two).
      await new Promise((r) => setTimeout(r, 3500));
      const after = (await client('Index', tc.rootUrl).findTask(holdPath('production'))).data;
      expect(after).toEqual({ ...before, held: false, releasedBy: 'releng-oncall', releasedAt: expect.any(String), releaseReason: 'stop mid-release' });
    });

    it('a write the real index refuses while stopping: "not written", the hold unchanged; a stop before the write: not sent at all', async () => {
      const noScopes = { ...target(), env: 'dev' };
      const controller = new AbortController();
      const refusing = client('Index', tc.rootUrl, oncall);
      const slowRefusal: HoldIndex = {
        findTask: (p) => refusing.findTask(p),
        insertTask: async (n, p) => {
          setTimeout(() => controller.abort(new Error('SIGINT received')), 100);
          await new Promise((r) => setTimeout(r, 400));
          return refusing.insertTask(n, p);
        },
      };
      const error = await holdEnvironment({ ...noScopes, index: slowRefusal, reason: 'no scope for dev', by: 'releng-oncall', nowMs: Date.now(), image, signal: controller.signal }).catch((e: unknown) => e);
      expect((error as HoldInterruptedError).written).toBe(false);
      expect((error as Error).message).toBe('stopped: SIGINT received, while the hold was written: it was not written (the index refused or failed the write); the hold is unchanged');
      await expect(client('Index', tc.rootUrl).findTask(holdPath('dev'))).rejects.toMatchObject({ statusCode: 404 });
      const early = new AbortController();
      early.abort(new Error('SIGINT received'));
      let sent = 0;
      const counting: HoldIndex = { findTask: (p) => refusing.findTask(p), insertTask: async (n, p) => (sent++, refusing.insertTask(n, p)) };
      const before = await holdEnvironment({ ...target(), index: counting, reason: 'too late', by: 'releng-oncall', nowMs: Date.now(), image, signal: early.signal }).catch((e: unknown) => e);
      expect((before as Error).message).toBe(`stopped: SIGINT received, before the hold was written: the hold is unchanged (${holdPath('production')} not written)`);
      expect(sent).toBe(0);
    });
  });
});
