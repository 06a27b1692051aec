// A second attack round on the promote step (issue 12, in its spirit), against the real
// registry: an archive tag reused from an earlier deploy, a new archive tag given as <dst> for
// an image that is not live, a <dst> that only looks like an archive tag, and a moving-tag or
// archive-tag PUT whose answer is an error although the registry kept the write. Each refusal
// changes nothing; each write the registry kept is found by reading it back.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runCli, type CliResult } from '../support/cli.js';
import { copyTestConfig } from '../support/copy-config.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { archiveTag, buildImage, headManifest, listTags, randomCommit, tagExisting, type BuiltImage } from '../support/fixtures.js';
import { makeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

let reg: RunningRegistry;
let proxy: FaultProxy;
const conf = copyTestConfig();
const now = new Date('2026-11-26T09:00:00Z');
const env = () => ({ DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '5', TC_PROMOTE_NOW: now.toISOString() });
const copy = (args: string[]) => runCli(['copy', ...args, ...conf.args], env());
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  proxy = await startFaultProxy(reg.url);
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
});

interface World {
  repository: string;
  target: BuiltImage & { commit: string };
  prior: BuiltImage & { commit: string };
  at: string;
}

async function world(): Promise<World> {
  const repository = conf.nextRepository();
  const commit = randomCommit();
  const target = { commit, ...(await buildImage(reg, { repository, commit, tags: ['target'], layers: 2 })) };
  const priorCommit = randomCommit();
  const prior = { commit: priorCommit, ...(await buildImage(reg, { repository, commit: priorCommit, tags: ['production', archiveTag('production', at(-86_400_000 * 3), priorCommit)] })) };
  return { repository, target, prior, at: `${reg.host}/${repository}` };
}

async function expectUnchanged(w: World, production: string, tagsBefore: string[], result: Pick<CliResult, 'stdout' | 'stderr'>): Promise<void> {
  expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(production);
  expect((await listTags(reg, w.repository)).sort()).toEqual(tagsBefore);
  const writes = (await reg.accessLog()).filter((e) => e.method === 'PUT' || e.method === 'POST' || e.method === 'PATCH' || e.method === 'DELETE');
  expect(writes, result.stderr).toEqual([]);
  expect(result.stdout).toBe('');
}

describe('an archive tag is never reused for a new deploy', () => {
  it('refuses the morning’s archive tag after a rollback (a command from the shell history): exit 3, nothing written, the pushlog stays true', async () => {
    const w = await world();
    const morning = archiveTag('production', at(-3_600_000), w.target.commit);
    const first = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', morning]);
    expect(first.code, first.stderr).toBe(0);
    const back = archiveTag('production', at(-1_800_000), w.prior.commit);
    const rollback = await copy([`${w.at}@${w.prior.digest}`, `${w.at}:production`, '--expect-current', w.target.digest, '--archive-tag', back]);
    expect(rollback.code, rollback.stderr).toBe(0);

    // Forward again with the morning's command: the compare-and-swap holds (production is at prior).
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const again = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', morning]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`archive tag ${w.at}:${morning} already records ${w.target.digest} (an earlier deploy), but ${w.at}:production points at ${w.prior.digest} now`);
    expect(again.stderr).toContain('give a new archive tag dated now (--archive-tag production-<YYYYMMDDHHMMSS now, UTC>-');
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    await expectUnchanged(w, w.prior.digest, before, again);
    // Also without a compare-and-swap, and in a dry run.
    for (const extra of [[], ['--dry-run']]) {
      const loose = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--archive-tag', morning, ...extra]);
      expect(loose.code, loose.stderr).toBe(3);
    }
    await expectUnchanged(w, w.prior.digest, before, { stdout: '', stderr: '' });

    // The way out: a new archive tag dated now.
    const fresh = archiveTag('production', now, w.target.commit);
    const ok = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', fresh]);
    expect(ok.code, ok.stderr).toBe(0);
    const history = await runCli(['history', `copy-${w.repository.split('-').pop()}`, '--registry', reg.url, '--json', ...conf.args], env());
    expect(history.json().current.tag).toBe(fresh);
  });

  it('still reuses it when the move is done already (a rerun finishing the step)', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    await tagExisting(reg, w.repository, w.target.digest, 'production');
    await tagExisting(reg, w.repository, w.target.digest, tag);
    const rerun = await copy([`${w.at}@${w.target.digest}`, `${w.at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { tag, outcome: 'unchanged' } });
  });
});

describe('an archive tag given as <dst> records a deploy that happened', () => {
  it.each([
    ['production', 'production'],
    ['dev', 'dev'],
  ])('refuses a new %s archive tag for an image its moving tag does not hold: exit 3, nothing written', async (env, moving) => {
    const w = await world();
    const tag = archiveTag(env, now, w.target.commit);
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}:target`, `${w.at}:${tag}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `${w.at}:${tag} would record a deploy of ${w.target.digest}, but ${w.at}:${moving} points at ${moving === 'production' ? w.prior.digest : 'nothing'}: an archive tag records a deploy that happened; copy onto the moving tag with --archive-tag ${tag} instead`,
    );
    await expectUnchanged(w, w.prior.digest, before, result);
  });

  it.each([
    ['an impossible date', (rev: string) => `production-20261399000000-${rev}`, /impossible date 20261399000000/],
    ['an uppercase revision', (rev: string) => `production-20261126090000-${rev.toUpperCase()}`, /is not lowercase hex/],
    ['a short revision', (rev: string) => `dev-20261126090000-${rev.slice(0, 12)}`, /revision .* is not 40 hex characters/],
  ])('refuses a <dst> that looks like an archive tag but has %s (history would ignore it): exit 2, nothing written', async (_name, make, reason) => {
    const w = await world();
    const tag = make(w.target.commit);
    const before = (await listTags(reg, w.repository)).sort();
    reg.clearAccessLog();
    const result = await copy([`${w.at}:target`, `${w.at}:${tag}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`<dst>: "${tag}" looks like an archive tag but is not one (`);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toContain('an archive tag is <env>-<YYYYMMDDHHMMSS>-<40 lowercase hex revision>');
    await expectUnchanged(w, w.prior.digest, before, result);
  });
});

describe('a PUT answered with an error is read back', () => {
  const onProxy = (w: World) => `${proxy.host}/${w.repository}`;

  it.each([
    ['HTTP 500 after the registry kept it', { kind: 'status-after', status: 500 } as const],
    ['the answer lost after the registry kept it', { kind: 'reset-after' } as const],
  ])('the moving tag PUT: %s, every attempt: the write is found, the archive tag written, exit 0', async (_name, fault) => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production$/, fault, times: Infinity });
    const result = await copy([`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, '--json']);
    proxy.clear();
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ tag: 'written', archiveTag: { tag, outcome: 'written' } });
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.target.digest);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
  });

  it('the archive tag PUT: HTTP 500 after the registry kept it, every attempt: found, exit 0', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production-/, fault: { kind: 'status-after', status: 500 }, times: Infinity });
    const result = await copy([`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag]);
    proxy.clear();
    expect(result.code, result.stderr).toBe(0);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
  });

  it('the moving tag PUT refused (nothing kept): says production did not move, exit 1', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production$/, fault: { kind: 'status', status: 500 }, times: Infinity });
    const result = await copy([`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag]);
    proxy.clear();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`HTTP 500 UNAVAILABLE: injected fault; read back, ${onProxy(w)}:production points at ${w.prior.digest}: the write did not land; the archive tag ${tag} was not written`);
    expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.prior.digest);
  });

  it.each([
    ['keeps answering 503', { kind: 'status', status: 503 } as const, {}],
    ['stalls past the command deadline', { kind: 'stall', ms: 30_000 } as const, { TC_PROMOTE_COMMAND_TIMEOUT_MS: '2500' }],
  ])('the verifying read after the move %s: says production moved and the archive tag was not written, exit 1; the rerun converges', async (_name, fault, extra) => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'HEAD', path: /manifests\/production$/, fault, times: Infinity, when: () => proxy.requests().some((r) => r.method === 'PUT') });
    const args = [`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag];
    const result = await runCli(['copy', ...args, ...conf.args], { ...env(), ...extra });
    proxy.clear();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${onProxy(w)}:production now points at ${w.target.digest} (this run moved it), but the read that checks no other copy wrote after it did not complete, so the archive tag ${tag} was not written: run the same command again`,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(await headManifest(reg, w.repository, tag)).toBeNull();
    const rerun = await copy(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
  });

  it('the command deadline during the settle (a registry 1.2 s away, a settle of seconds): stopped at once, says production moved', async () => {
    const w = await world();
    const far = await startFaultProxy(reg.url, { delayMs: 1_200 });
    try {
      const at = `${far.host}/${w.repository}`;
      const tag = archiveTag('production', now, w.target.commit);
      const start = performance.now();
      // GET ‖ HEAD, layer ‖ HEAD, PUT: about 3.6 s; then a settle of over 2 s, which the deadline cuts.
      const result = await runCli(['copy', `${at}@${w.target.digest}`, `${at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, ...conf.args], { ...env(), TC_PROMOTE_COMMAND_TIMEOUT_MS: '5000' });
      expect(performance.now() - start).toBeLessThan(6_500);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the settle before the verifying read was stopped: the command deadline of 5000 ms passed (TC_PROMOTE_COMMAND_TIMEOUT_MS)');
      expect(result.stderr).toContain(`${at}:production now points at ${w.target.digest} (this run moved it), but the read that checks no other copy wrote after it did not complete, so the archive tag ${tag} was not written: run the same command again`);
      expect((await headManifest(reg, w.repository, 'production'))!.digest).toBe(w.target.digest);
    } finally {
      await far.stop();
    }
  });

  it('a registry that answers 201 to the archive tag PUT and keeps nothing: says production moved and the archive tag is missing, exit 1; the rerun writes it', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production-/, fault: { kind: 'status', status: 201, body: '' } });
    const args = [`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag];
    const result = await copy(args);
    proxy.clear();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${onProxy(w)}:production-${tag.slice('production-'.length)}: the registry accepted the write but does not hold the tag when read back; ${onProxy(w)}:production now points at ${w.target.digest} (this run moved it), but the archive tag ${tag} was not written: run the same command again`);
    const rerun = await copy(args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
  });

  it('the last read, after both writes, keeps failing: says both were written, exit 1; the rerun changes nothing', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'HEAD', path: /manifests\/production-/, fault: { kind: 'status', status: 503 }, times: Infinity, when: () => proxy.requests().some((r) => r.method === 'PUT' && /manifests\/production-/.test(r.path)) });
    const args = [`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag];
    const result = await copy(args);
    proxy.clear();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${onProxy(w)}:production and the archive tag ${tag} were written (${w.target.digest}), but reading them back failed: run the same command again, it changes nothing when both are in place`);
    const rerun = await copy([...args, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { outcome: 'unchanged' } });
  });

  it('the moving tag PUT answered 500 and the read-back fails too: both possible states and "run the same command again"; the rerun converges', async () => {
    const w = await world();
    const tag = archiveTag('production', now, w.target.commit);
    let put = false;
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production$/, fault: { kind: 'status-after', status: 500 }, times: Infinity });
    proxy.add({ method: 'HEAD', path: /manifests\/production$/, fault: { kind: 'status', status: 503 }, times: Infinity, when: () => (put ||= proxy.requests().some((r) => r.method === 'PUT')) });
    const args = [`${onProxy(w)}@${w.target.digest}`, `${onProxy(w)}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag];
    const result = await copy(args);
    proxy.clear();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `reading it back failed too, so ${onProxy(w)}:production points at either ${w.prior.digest} (nothing moved) or ${w.target.digest} (the write landed); run the same command again: it finishes the step or changes nothing; the archive tag ${tag} was not written`,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const rerun = await copy([...args, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({ tag: 'unchanged', archiveTag: { outcome: 'written' } });
  });
});

describe('SIGTERM or SIGINT between the writes (a cancelled task, Ctrl-C)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s: the process says production moved and the archive tag may not be written, records it, and the rerun converges', async (signal) => {
    const w = await world();
    const at = `${proxy.host}/${w.repository}`;
    const tag = archiveTag('production', now, w.target.commit);
    proxy.clear();
    proxy.add({ method: 'PUT', path: /manifests\/production-/, fault: { kind: 'stall', ms: 30_000 } });
    const artifacts = makeTempDir('signal-artifacts-');
    const args = ['copy', `${at}@${w.target.digest}`, `${at}:production`, '--expect-current', w.prior.digest, '--archive-tag', tag, ...conf.args];
    const child = spawn(process.execPath, [binPath, ...args], {
      // COLUMNS: messages whole, as they are matched (test/cli/widths.test.ts holds the wrapping).
      env: { PATH: process.env.PATH, HOME: process.env.HOME, COLUMNS: '9999', ...env(), TC_PROMOTE_ARTIFACTS: artifacts, TC_PROMOTE_PROMOTION: JSON.stringify({ script: 'x' }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = performance.now() + 15_000;
    while (!proxy.requests().some((r) => r.faulted) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const sent = performance.now();
    child.kill(signal);
    const code = await closed;
    expect(performance.now() - sent).toBeLessThan(2_500);
    proxy.clear();
    expect(code).toBe(1);
    const said = `${at}:production now points at ${w.target.digest} (this run moved it), but the archive tag ${tag} may not have been written (reading it back failed too): run the same command again`;
    expect(stderr).toContain(`stopped: ${signal} received`);
    expect(stderr).toContain(said);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(artifacts, 'promotion.json'), 'utf8'))).toMatchObject({ outcome: 'failed', error: expect.stringContaining(said) });
    const rerun = await runCli(args, env());
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await headManifest(reg, w.repository, tag))!.digest).toBe(w.target.digest);
  });
});
