// History, plan and status over Docker Hub's tag API at its real shape: 100 tags a page,
// newest first, `count` on the first page. The API is test/support/hub-api.ts (a stand-in in
// Hub's documented shapes: Hub's API cannot run here) behind the delay proxy, which counts
// round trips; the manifests come from a real registry seeded with a realistic pushlog.
// Counts are deterministic; times are the benchmarks' (bench/hub.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { hubEntriesOf, startHubApi, type HubApi } from '../support/hub-api.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { seedScaleHistory } from '../support/scale-history.js';

const repository = 'mozilla/releng-signingscript';
const size = 1500;
let reg: RunningRegistry;
let hub: HubApi;
let proxy: DelayProxy;
let tagCount = 0;

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  const seeded = await seedScaleHistory(reg, repository, size, 7);
  const entries = hubEntriesOf(seeded.entries);
  tagCount = entries.length;
  hub = await startHubApi(new Map([[repository, entries]]));
  proxy = await startDelayProxy(hub.url, 10);
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
  await hub?.stop();
  await reg?.stop();
});

const env = { TC_PROMOTE_RETRY_BASE_MS: '5' };
const viaHub = (...args: string[]) => runCli([...args, '--registry', reg.url, '--hub-api', proxy.url], env);
const direct = (...args: string[]) => runCli([...args, '--registry', reg.url], env);
const pages = (): number[] => hub.requests().map((r) => r.page);

function reset(): void {
  proxy.clear();
  hub.clear();
  hub.setRateLimit(undefined);
}

describe('Docker Hub listing, 100 a page', () => {
  it('history reads the first page, then every other page in rounds of 10 sent at once: the same pushlog as the registry API', async () => {
    reset();
    const h = await viaHub('history', 'signingscript', '--json');
    expect(h.code, h.stderr).toBe(0);
    const total = Math.ceil(tagCount / 100);
    expect(pages().sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(hub.requests().every((r) => r.path.includes('page_size=100') && r.path.includes('ordering=last_updated'))).toBe(true);
    // Page 1 alone, then the other pages in rounds of ten: 6 round trips for 51 pages. On a loaded
    // machine the last requests of a round can reach the proxy after the round's first answer went
    // out, and the proxy then counts them one deeper; the bound is 8.
    expect(proxy.roundTrips()).toBeGreaterThanOrEqual(1 + Math.ceil((total - 1) / 10));
    expect(proxy.roundTrips()).toBeLessThanOrEqual(8);
    const r = await direct('history', 'signingscript', '--json');
    expect(h.json().deploys.map((d: { tag: string }) => d.tag)).toEqual(r.json().deploys.map((d: { tag: string }) => d.tag));
    expect(h.json().current).toMatchObject({ tag: r.json().current.tag, digest: r.json().current.digest });
    expect(h.json().rollbackTarget).toEqual(r.json().rollbackTarget);
    expect(h.json().warnings).toEqual([]);
  });

  it('plan whose answer is on the newest page reads that page alone, and says what it did not read', async () => {
    reset();
    const p = await viaHub('plan', 'signingscript', '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(pages()).toEqual([1]);
    expect(proxy.roundTrips()).toBeLessThanOrEqual(2);
    const r = await direct('plan', 'signingscript', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(p.json().target.tag).toBe(r.json().target.tag);
    expect(p.json().current.tag).toBe(r.json().current.tag);
    expect(p.json().passedOver).toEqual(r.json().passedOver);
    const note = p.json().warnings.find((w: string) => w.startsWith('Docker Hub: read the newest'));
    expect(note).toMatch(new RegExp(`^Docker Hub: read the newest 100 of ${tagCount} tags \\(1 of ${Math.ceil(tagCount / 100)} pages, every tag pushed since \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\): current, the previous-known-good and every deploy passed over are among them; the ${tagCount - 100} older tags were not read`));
    const text = await viaHub('plan', 'signingscript');
    expect(text.stdout).toContain('warning: Docker Hub: read the newest 100 of');
  });

  it('reads on when --to names an older deploy, and history --limit reads as far as its rows', async () => {
    const all = (await direct('history', 'signingscript', '--json')).json().deploys as { tag: string }[];
    reset();
    const old = all[all.length - 20]!.tag;
    const p = await viaHub('plan', 'signingscript', '--to', old, '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(p.json().target.tag).toBe(old);
    expect(new Set(pages()).size).toBe(Math.ceil(tagCount / 100));
    reset();
    const few = await viaHub('history', 'signingscript', '--limit', '5', '--json');
    expect(few.code, few.stderr).toBe(0);
    expect(pages()).toEqual([1]);
    expect(few.json().deploys.map((d: { tag: string }) => d.tag)).toEqual(all.slice(0, 5).map((d) => d.tag));
    reset();
    // 250 production rows are on more than the first page (about 66 of each 100 tags are production's).
    const more = await viaHub('history', 'signingscript', '--limit', '250', '--json');
    expect(more.json().deploys.map((d: { tag: string }) => d.tag)).toEqual(all.slice(0, 250).map((d) => d.tag));
    expect(pages().length).toBeGreaterThan(1);
    expect(pages().length).toBeLessThan(Math.ceil(tagCount / 100));
    expect(proxy.roundTrips()).toBe(2);
  });

  it('--skip of a deploy on the newest page stays there; --skip of an older one reads on until it is found', async () => {
    const all = (await direct('history', 'signingscript', '--json')).json().deploys as { tag: string; current: boolean }[];
    reset();
    const r = (await direct('plan', 'signingscript', '--json')).json();
    const p = await viaHub('plan', 'signingscript', '--skip', r.target.tag, '--json');
    expect(p.code, p.stderr).toBe(0);
    expect(p.json().target.tag).toBe((await direct('plan', 'signingscript', '--skip', r.target.tag, '--json')).json().target.tag);
    expect(pages()).toEqual([1]);
    reset();
    const older = all[300]!.tag;
    const q = await viaHub('plan', 'signingscript', '--skip', older, '--json');
    expect(q.code, q.stderr).toBe(0);
    expect(pages().length).toBeGreaterThan(1);
  });

  it('status lists the repository once for both environments, in at most 3 round trips', async () => {
    reset();
    const s = await viaHub('status', '--script', 'signingscript', '--json');
    expect(s.code, s.stderr).toBe(0);
    const d = await direct('status', '--script', 'signingscript', '--json');
    const pick = (rows: { env: string; current: { tag: string } | null; previousKnownGood: { tag: string } | null }[]) => rows.map((row) => [row.env, row.current?.tag, row.previousKnownGood?.tag]);
    expect(pick(s.json().rows)).toEqual(pick(d.json().rows));
    // Page 1 once, for production and dev.
    expect(pages().filter((p) => p === 1)).toHaveLength(1);
    expect(proxy.roundTrips()).toBeLessThanOrEqual(3);
    expect(s.json().notes.join('\n')).toMatch(new RegExp(`^Docker Hub: only the newest pages of 1 repository were read \\(100 of ${tagCount} tags, 1 of ${Math.ceil(tagCount / 100)} pages: [^ ]*mozilla/releng-signingscript 1/${Math.ceil(tagCount / 100)}\\): every row's current, previous-known-good and the deploys passed over are among them`));
  });
});

describe("Docker Hub's rate limit", () => {
  it('a limit reached that resets within a minute is waited for (Retry-After), then the listing completes', async () => {
    reset();
    hub.setRateLimit({ limit: 10, windowMs: 1_000 });
    const h = await viaHub('history', 'signingscript', '--json');
    expect(h.code, h.stderr).toBe(0);
    expect(hub.requests().some((r) => r.status === 429)).toBe(true);
    expect(new Set(hub.requests().filter((r) => r.status === 200).map((r) => r.page)).size).toBe(Math.ceil(tagCount / 100));
  });

  it('says plainly that the limit is reached and when it resets, and does not wait an hour for it', async () => {
    reset();
    hub.setRateLimit({ limit: 3, windowMs: 3_600_000 });
    const started = Date.now();
    const h = await viaHub('history', 'signingscript');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/Docker Hub API mozilla\/releng-signingscript: rate limit reached \(HTTP 429, 3 calls a period\); it resets at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, in \d+ s, longer than tc-promote waits for a rate limit \(60 s\); run the command again after that/);
  });

  it("never waits past the command's deadline: a reset due after it is said so at once", async () => {
    reset();
    hub.setRateLimit({ limit: 3, windowMs: 30_000 });
    const started = Date.now();
    const h = await runCli(['history', 'signingscript', '--registry', reg.url, '--hub-api', proxy.url], { ...env, TC_PROMOTE_COMMAND_TIMEOUT_MS: '8000' });
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/rate limit reached \(HTTP 429, 3 calls a period\); it resets at [\dT:Z-]+, in \d+ s, after this command's deadline \(TC_PROMOTE_COMMAND_TIMEOUT_MS\), so it was not waited for/);
  });

  it('a listing that used the last call says the limit is reached and when it resets', async () => {
    // Pages the last command stopped may still reach the stand-in: let them land before the window opens.
    await new Promise((resolve) => setTimeout(resolve, 500));
    reset();
    hub.setRateLimit({ limit: Math.ceil(tagCount / 100), windowMs: 3_600_000 });
    const h = await viaHub('history', 'signingscript', '--json');
    expect(h.code, h.stderr).toBe(0);
    expect(h.json().warnings.join('\n')).toMatch(/Docker Hub API rate limit reached: 0 of \d+ calls left; it resets at \d{4}-[\dT:-]+Z/);
    hub.setRateLimit(undefined);
  });
});
