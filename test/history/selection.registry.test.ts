// Issue 11 against the real registry and a realistic pushlog (test/support/three-am.ts):
// target selection that refuses or explains, never guesses quietly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { buildImage, headManifest, tagExisting } from '../support/fixtures.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { D, P, now, repository, rev, seedThreeAm, type ThreeAm } from '../support/three-am.js';

let reg: RunningRegistry;
let seeded: ThreeAm;
const env = (): Record<string, string> => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '10' });
const cli = (...args: string[]) => runCli([...args, '--registry', reg.url], env());
const plan = async (...args: string[]) => {
  const result = await cli('plan', 'signingscript', ...args, '--json');
  if (result.code !== 0) throw new Error(`plan ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.json();
};

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  seeded = await seedThreeAm(reg);
});
afterAll(async () => reg?.stop());

describe('--skip must match a deploy of the environment', () => {
  it('compares revisions case-insensitively: an upper-case prefix skips the revision', async () => {
    const upper = rev.r11!.slice(0, 7).toUpperCase();
    const p = await plan('--skip', upper);
    expect(p.target.tag).toBe(P.apr1);
    expect(p.passedOver).toEqual([
      { tag: P.may3, reason: 'current' },
      { tag: P.may2Rollback, reason: `skipped (--skip ${upper})` },
      { tag: P.may2, reason: 'rolled back' },
      { tag: P.may1, reason: `skipped (--skip ${upper})` },
    ]);
  });

  it.each([
    ['a revision no deploy has', '7995c5b', /--skip: "7995c5b" matched nothing: no deploy of production has a revision starting with it; tc-promote history signingscript --env production lists its deploys/],
    ['another environment\'s tag', D.d4, new RegExp(`--skip: "${D.d4}" matched nothing: it is not a deploy of production.*${D.d4} is a deploy of dev, another environment`)],
    ['a revision only dev has', rev.r15!.slice(0, 9), /matched nothing: no deploy of production has a revision starting with it \(dev-20210531200800-\w+ is a deploy of dev, another environment\)/],
    ['a digest no production deploy has', 'DIGEST_D4', /matched nothing: no deploy of production has that digest \(the newest 12 were looked up\)/],
    ['a tag in the wrong case', P.apr1.toUpperCase(), /matched nothing: it is not a deploy of production \(tags match exactly/],
  ])('refuses %s with exit 2, naming the value', async (_name, value, message) => {
    const skip = value === 'DIGEST_D4' ? seeded.digestOf(D.d4) : value;
    const result = await cli('plan', 'signingscript', '--skip', skip);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('refuses an ambiguous revision prefix, and --skip with a named target', async () => {
    // r11 is abab…; a prefix every revision starting "ab" shares is ambiguous only if two match: r11 alone starts with abababa.
    const ambiguous = await cli('plan', 'signingscript', '--skip', `${rev.r11!.slice(0, 7)},7777777`);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/--skip: "7777777" matched nothing/);
    const named = await cli('plan', 'signingscript', '--to', P.apr1, '--skip', P.may1);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--skip: passes over candidates of the previous-known-good; with --to there is no choice to skip/);
  });

  it('skips by exact digest and by tag', async () => {
    const byDigest = await plan('--skip', seeded.digestOf(P.may1));
    // The digest is the image of may1 and of the rollback to it: both passed over.
    expect(byDigest.target.tag).toBe(P.apr1);
    expect(byDigest.passedOver.map((x: { reason: string }) => x.reason)).toEqual(['current', `skipped (--skip ${seeded.digestOf(P.may1)})`, 'rolled back', `skipped (--skip ${seeded.digestOf(P.may1)})`]);
    expect((await plan('--skip', P.may2Rollback)).target.tag).toBe(P.may1);
  });
});

describe('"not proven" is judged on the image', () => {
  it('counts every deploy of the target digest: a retag rollback 15 s before the next deploy is 20 days proven', async () => {
    const p = await plan();
    expect(p.target).toMatchObject({ tag: P.may2Rollback, digest: seeded.digestOf(P.may1), liveSeconds: 15, chosenBy: 'previous-known-good' });
    expect(p.target.imageLive).toMatchObject({ seconds: 20 * 86400 + 15, atLeast: false });
    expect(p.target.imageLive.parts.map((x: { tag: string; seconds: number }) => [x.tag, x.seconds])).toEqual([
      [P.may2Rollback, 15],
      [P.may1, 20 * 86400],
    ]);
    expect(p.warnings.join('\n')).not.toMatch(/not proven/);
    expect(p.passedOver).toEqual([{ tag: P.may3, reason: 'current' }]);
  });

  it('names the deploys when the image is not proven', async () => {
    const p = await plan('--to', P.may2);
    expect(p.warnings).toContain(`target ${P.may2} was live 2h in total over the 1 deploy(s) of its image (${P.may2}: 2h): under 24 hours, not proven`);
    expect(p.warnings.join('\n')).toMatch(/was itself rolled back once/);
  });

  it('describes a --from-env target still current in dev as such', async () => {
    const p = await plan('--from-env', 'dev');
    expect(p.target).toMatchObject({ tag: D.d4, env: 'dev', chosenBy: 'from-env', digest: seeded.digestOf(D.d4) });
    expect(p.warnings).toContain(`target ${D.d4} has been live in dev for 6h52m, still current there: under 24 hours, not proven`);
    expect(p.warnings.join('\n')).not.toMatch(/before the next deploy/);
  });

  it('judges --min-live on the image, with the reason for each deploy passed over', async () => {
    const p = await plan('--min-live', '25d');
    expect(p.target.tag).toBe(P.apr1);
    expect(p.passedOver).toEqual([
      { tag: P.may3, reason: 'current' },
      { tag: P.may2Rollback, reason: 'lived 20d < --min-live 25d' },
      { tag: P.may2, reason: 'rolled back' },
      { tag: P.may1, reason: 'lived 20d < --min-live 25d' },
    ]);
    const none = await cli('plan', 'signingscript', '--min-live', '30d');
    expect(none.code).toBe(4);
    // The refusal names the deploys it refused for their live time, with the time, and the way out (issue 22).
    expect(none.stderr).toMatch(new RegExp(`--min-live 30d: no deploy older than ${P.may3} lived that long and qualifies otherwise; refused for their live time \\(newest first\\): ${P.may2Rollback} lived 20d, ${P.may1} lived 20d, .*lived 26d.*; give a shorter --min-live, or name a target with --to`));
  });

  it('treats --min-live with a named target as a requirement', async () => {
    const result = await cli('plan', 'signingscript', '--from-env', 'dev', '--min-live', '1d');
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/--min-live 1d: target dev-20210531200800-\w+ was live 6h52m in total .*still current in dev.*refusing/);
    expect((await plan('--to', P.apr1, '--min-live', '3d')).target.tag).toBe(P.apr1);
  });
});

describe('--to REVISION resolves in the environment being promoted only', () => {
  it('exits 4 naming the exact tag and --from-env when only dev has the revision', async () => {
    const result = await cli('plan', 'signingscript', '--to', rev.r15!.slice(0, 10));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`no deploy of production records revision "${rev.r15!.slice(0, 10)}"; dev has it (${D.d4}, an image built for dev): pass --to ${D.d4} to promote that image, or --from-env dev`);
  });

  it('picks the production build of a revision both environments have, never the dev one', async () => {
    const p = await plan('--to', rev.r11!.toUpperCase());
    expect(p.target).toMatchObject({ tag: P.may2Rollback, env: 'production', digest: seeded.digestOf(P.may1), chosenBy: 'revision' });
    expect(p.target.digest).not.toBe(seeded.digestOf(D.d1));
  });

  it('allows an explicit tag of another environment and labels it', async () => {
    const result = await cli('plan', 'signingscript', '--to', D.d3);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('a deploy of dev, another environment: the image built for dev');
    expect(result.stdout).toContain(`warning: target ${D.d3} is a deploy of dev, not production`);
  });
});

describe('no quiet choice left', () => {
  it('says when a revision asked for has several images, and which one was chosen', async () => {
    const p = await plan('--to', rev.r04!.slice(0, 8));
    expect(p.target).toMatchObject({ tag: P.mar1Rebuild, rebuildOf: P.feb2 });
    expect(p.warnings.join('\n')).toContain(`revision ${rev.r04} has 2 images in production; the newest deploy of it, ${P.mar1Rebuild}, was chosen; the other image(s): ${P.feb2} (${seeded.digestOf(P.feb2)})`);
    // The table says the target is a rebuild.
    expect((await cli('plan', 'signingscript', '--to', P.mar1Rebuild)).stdout).toMatch(new RegExp(`target:    ${P.mar1Rebuild}\\n(.*\\n){2}\\s+rebuild of ${P.feb2}`));
  });

  it('names the deploy of another environment a digest asked for belongs to', async () => {
    const p = await plan('--to', seeded.digestOf(D.d4));
    expect(p.target).toMatchObject({ tag: D.d4, env: 'dev', revision: rev.r15, chosenBy: 'digest' });
    expect(p.warnings.join('\n')).toContain(`target ${D.d4} is a deploy of dev, not production`);
    // With its revision known, the step by hand records the promotion with an archive tag.
    expect(p.next.byHand[0]).toContain(`--archive-tag production-$(date -u +%Y%m%d%H%M%S)-${rev.r15}`);
  });

  it('offers no submit line when the target is what the moving tag points at already', async () => {
    const p = await plan('--to', P.may3);
    expect(p.target.tag).toBe(P.may3);
    expect(p.next.nothingToDo).toMatch(/points at sha256:[0-9a-f]{64} already: submitting would change nothing/);
    const text = await cli('plan', 'signingscript', '--to', P.may3);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}next: {6}nothing to do: /m);
    expect(text.stdout).not.toContain('tc-promote submit');
    // Any other target still gets its submit line.
    expect((await plan()).next.nothingToDo).toBeUndefined();
  });

  it('warns that a --skip matching only current changes nothing', async () => {
    const p = await plan('--skip', P.may3);
    expect(p.target.tag).toBe(P.may2Rollback);
    expect(p.warnings).toContain(`--skip ${P.may3} matches only ${P.may3}, current or newer: no candidate is older, so it changes nothing`);
  });

  it('tells archive tags pushed in the same second from a moving tag moved back', async () => {
    const repo = 'mozilla/releng-bouncerscript';
    const { buildImage } = await import('../support/fixtures.js');
    const a = `production-20210520000000-${'1'.repeat(40)}`;
    const b = `production-20210525000000-${'2'.repeat(40)}`;
    const c = `production-20210525000000-${'3'.repeat(40)}`;
    await buildImage(reg, { repository: repo, commit: '1'.repeat(40), tags: [a] });
    await buildImage(reg, { repository: repo, commit: '3'.repeat(40), tags: [c] });
    // Ties sort by tag name, descending: c before b; b was pushed last, so production points at b.
    await buildImage(reg, { repository: repo, commit: '2'.repeat(40), tags: [b] });
    await tagExisting(reg, repo, (await headManifest(reg, repo, b))!.digest, 'production');
    const h = (await runCli(['history', 'bouncerscript', '--registry', reg.url, '--json'], env())).json();
    expect(h.deploys.map((d: { tag: string }) => d.tag)).toEqual([c, b, a]);
    expect(h.current.tag).toBe(b);
    expect(h.warnings.join('\n')).toContain(`moving tag production points at ${b}, which has the same timestamp as 1 archive tag(s) sorted before it by name (${c})`);
    expect(h.warnings.join('\n')).not.toMatch(/moved back without an archive tag/);
  });
});

describe('plan explains itself and says what to run next', () => {
  it('prints the passed-over deploys, the choice, the next command, the step by hand and the undo', async () => {
    const result = await cli('plan', 'signingscript', '--min-live', '25d');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('chosen:    previous-known-good');
    expect(out).toMatch(new RegExp(`passed over \\(newest first\\):\\n\\s+${P.may3}\\s+current\\n\\s+${P.may2Rollback}\\s+lived 20d < --min-live 25d\\n\\s+${P.may2}\\s+rolled back`));
    const host = `${reg.host}/${repository}`;
    // The next step is the one-step rollback (issue 22); the graph alone is the submit line under it.
    expect(out).toContain(`next:      tc-promote rollback signingscript --env production --to ${P.apr1} --route retag --reason 'WHY' --registry ${reg.url}`);
    expect(out).toContain(`or submit: tc-promote submit signingscript --env production --to ${P.apr1} --route retag --reason 'WHY' --registry ${reg.url}`);
    expect(out).toContain('fill in:   WHY (the reason');
    expect(out).toContain('branch:    production-signingscript not checked (GitHub is not configured for this run');
    expect(out).toContain(
      `by hand:   tc-promote copy ${host}@${seeded.digestOf(P.apr1)} ${host}:production --expect-current ${seeded.digestOf(P.may3)} --archive-tag production-$(date -u +%Y%m%d%H%M%S)-${rev.r07} --registry ${reg.url}`,
    );
    expect(out).toContain(`undo:      tc-promote submit signingscript --env production --to ${P.may3} --route retag --reason 'undo: WHY' --registry ${reg.url}`);
    expect(out).toContain(
      `tc-promote copy ${host}@${seeded.digestOf(P.may3)} ${host}:production --expect-current ${seeded.digestOf(P.apr1)} --archive-tag production-$(date -u +%Y%m%d%H%M%S)-${rev.r13} --registry ${reg.url}`,
    );
  });

  it('says the target and why on stderr when render or submit choose it', async () => {
    const result = await cli('submit', 'signingscript', '--reason', 'signing broke', '--dry-run');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`target: ${P.may2Rollback}, route retag: previous-known-good; passed over ${P.may3} (current)\n`);
    const dev = await cli('render', 'signingscript', '--from-env', 'dev');
    expect(dev.stderr).toContain(`target: ${D.d4} (a deploy of dev), route retag: asked for (--from-env)`);
  });

  it('carries the Taskcluster and Docker Hub API the plan was told of into the submit lines', async () => {
    // A plan made for another deployment (--root-url) must not print a submit that goes to the
    // configuration's (Firefox-CI) when pasted.
    const p = await plan('--root-url', 'https://tc.example.test');
    for (const line of [p.next.submit, p.next.undo[0]]) expect(line).toMatch(/ --root-url https:\/\/tc\.example\.test( |$)/);
    expect(p.next.byHand[0]).not.toContain('--root-url');
    // rerun finds the push task in that Taskcluster too.
    const rerun = await plan('--root-url', 'https://tc.example.test', '--route', 'rerun');
    expect(rerun.next.byHand[0]).toMatch(/^tc-promote rerun .* --root-url https:\/\/tc\.example\.test$/);
  });

  it('gives the same in --json: passedOver[] and next', async () => {
    const p = await plan();
    expect(p.next.submit).toContain(`--to ${P.may2Rollback}`);
    expect(p.next.byHand).toHaveLength(1);
    expect(p.next.undo).toHaveLength(2);
    const rebuild = await plan('--route', 'rebuild');
    expect(rebuild.next.byHand).toEqual([`tc-promote force-push --branch production-signingscript --revision ${rev.r11}`]);
    // Without the branch head read at plan time, the undo still says how to put the branch back, first.
    expect(rebuild.next.undo[0]).toBe(
      `# the branch back where it was: tc-promote force-push --branch production-signingscript --revision <old head> --expect ${rev.r11} (the force-push prints the old head and keeps it as the branch tc-promote-backup/production-signingscript/<YYYYMMDDHHMMSS>-<old head>)`,
    );
  });
});

describe('history tells promotions from rebuilds', () => {
  it('marks promotions, rebuilds, rollbacks, current and the default rollback target', async () => {
    const result = await cli('history', 'signingscript', '--json');
    expect(result.code).toBe(0);
    const h = result.json();
    const by = Object.fromEntries(h.deploys.map((d: { tag: string }) => [d.tag, d]));
    expect(h.current.tag).toBe(P.may3);
    expect(h.rollbackTarget).toEqual({ tag: P.may2Rollback, passedOver: [{ tag: P.may3, reason: 'current' }] });
    expect(by[P.may2Rollback]).toMatchObject({ promotedFrom: P.may1, rebuildOf: null, liveSeconds: 15 });
    expect(by[P.may2]).toMatchObject({ rolledBack: true });
    expect(h.records).toEqual({ state: 'not-asked', notes: [] });
    // The rows near current are looked up in one batch; older rows link by revision.
    expect(h.lookedUp).toBeGreaterThanOrEqual(8);
    const table = (await cli('history', 'signingscript', '--wide')).stdout;
    expect(table).toMatch(new RegExp(`${P.may3}\\s+CURRENT\\n`));
    expect(table).toMatch(new RegExp(`${P.may2Rollback}\\s+default rollback target, promoted from ${P.may1}`));
    // Within 120 columns the markers come first, whole: a long link is what gets cut.
    const narrow = (await cli('history', 'signingscript')).stdout;
    const row = narrow.split('\n').find((l) => l.includes(P.may2Rollback.slice(0, 36)))!;
    expect(row.length).toBeLessThanOrEqual(120);
    expect(row).toMatch(/\s+15s\s+default rollback target, promoted from production-\d*…?$/);
    expect(table).toContain('promotion records not read (set TASKCLUSTER_ROOT_URL, or pass --records');
  });

  it('marks a branch-rebuild rollback as a rebuild once its digests are looked up', async () => {
    // mar1Rebuild is older than the first batch: show its neighbourhood with --limit and --skip-free history of dev? Look it up through plan --to.
    const p = await plan('--to', P.mar1Rebuild);
    expect(p.target).toMatchObject({ tag: P.mar1Rebuild, rebuildOf: P.feb2, promotedFrom: null, redeployOf: P.feb2 });
  });

  it('tells a promotion from dev', async () => {
    // Promote dev's d3 (r13 built for dev) by hand: production now runs dev's image.
    const h = (await cli('history', 'signingscript', '--env', 'dev', '--json')).json();
    expect(h.current.tag).toBe(D.d4);
    expect(h.deploys.find((d: { tag: string }) => d.tag === D.d3).promotedFrom).toBeNull();
  });
});

describe('a moving tag moved back by hand, without an archive tag', () => {
  // Its own repository, so that the other tests keep their history.
  const script = 'pushapkscript';
  const other = 'mozilla/releng-pushapkscript';
  const digests: Record<string, string> = {};
  beforeAll(async () => {
    // The same pushlog in its own repository, then production pointed back at may1's image by
    // hand: a PUT of the same manifest bytes, as a hand `copy` without --archive-tag does.
    const own = await seedThreeAm(reg, other);
    for (const t of Object.values(P)) digests[t] = own.digestOf(t);
    await tagExisting(reg, other, digests[P.may1]!, 'production');
    expect((await headManifest(reg, other, 'production'))!.digest).toBe(digests[P.may1]);
  });

  it('history names the current deploy, warns, and stops counting the newer deploy as live', async () => {
    const result = await runCli(['history', script, '--registry', reg.url, '--json'], env());
    expect(result.code).toBe(0);
    const h = result.json();
    // The newest deploy of the image the moving tag points at.
    expect(h.current.tag).toBe(P.may2Rollback);
    const newest = h.deploys[0];
    expect(newest).toMatchObject({ tag: P.may3, current: false, rolledBack: true, liveSeconds: null });
    expect(newest.liveSecondsAtMost).toBe(Date.parse(now) / 1000 - Date.parse('2021-05-21T12:00:15Z') / 1000);
    expect(h.warnings.join('\n')).toMatch(new RegExp(`moving tag production was moved back without an archive tag: it points at ${digests[P.may1]} of ${P.may2Rollback}, older than 1 archive tag\\(s\\) \\(newest ${P.may3}\\); moved at an unknown time`));
    const table = (await runCli(['history', script, '--registry', reg.url, '--wide'], env())).stdout;
    expect(table).toMatch(new RegExp(`\\?≤10d14h\\s+${P.may3}\\s+rolled back`));
    expect(table).toMatch(new RegExp(`${P.may2Rollback}\\s+CURRENT, promoted from ${P.may1}`));
  });

  it('names the other environment\'s deploy when the moving tag was copied from dev by hand', async () => {
    const repo = 'mozilla/releng-shipitscript';
    const own = await seedThreeAm(reg, repo);
    await tagExisting(reg, repo, own.digestOf(D.d4), 'production');
    const result = await runCli(['history', 'shipitscript', '--registry', reg.url, '--json'], env());
    expect(result.code).toBe(0);
    const h = result.json();
    expect(h.current).toBeNull();
    expect(h.warnings.join('\n')).toContain(`it is the image of ${D.d4}, a deploy of dev (copied here without an archive tag?); current is unknown`);
    const refused = await runCli(['plan', 'shipitscript', '--registry', reg.url], env());
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/Name a target with --to/);
  });

  it('plan passes over the deploy the tag was moved back past, and counts no live time for it', async () => {
    const result = await runCli(['plan', script, '--registry', reg.url, '--json'], env());
    expect(result.code).toBe(0);
    const p = result.json();
    expect(p.current.tag).toBe(P.may2Rollback);
    expect(p.target.tag).toBe(P.apr1);
    expect(p.passedOver).toEqual([
      { tag: P.may3, reason: 'newer than current (the moving tag was moved back past it)' },
      { tag: P.may2Rollback, reason: 'current' },
      { tag: P.may2, reason: 'rolled back' },
      { tag: P.may1, reason: 'same image as current' },
    ]);
    expect(p.warnings.join('\n')).toMatch(/moved back without an archive tag/);
    // Undo puts back the image the tag points at now, by digest of the current deploy.
    expect(p.next.undo[0]).toContain(`--to ${P.may2Rollback}`);
    // --to the newer deploy: its live time is unknown, so not proven.
    const newer = (await runCli(['plan', script, '--registry', reg.url, '--to', P.may3, '--json'], env())).json();
    expect(newer.target.liveSeconds).toBeNull();
    expect(newer.warnings.join('\n')).toMatch(new RegExp(`target ${P.may3} was live for an unknown time over the 1 deploy\\(s\\) of its image \\(${P.may3}: unknown.*not proven`));
  });
});

describe('the step by hand, run as printed', () => {
  it('moves production with compare-and-swap and an archive tag, and the undo moves it back', async () => {
    const p = await plan();
    const stamp = now.replace(/[-:TZ]/g, '').slice(0, 14);
    const argv = (line: string): string[] => line.replace('$(date -u +%Y%m%d%H%M%S)', stamp).replace(/\s+#.*$/, '').split(/\s+/).slice(1);
    const done = await runCli(argv(p.next.byHand[0]), env());
    expect(done.stderr).not.toMatch(/error/);
    expect(done.code).toBe(0);
    expect((await headManifest(reg, repository, 'production'))!.digest).toBe(seeded.digestOf(P.may1));
    const after = (await cli('history', 'signingscript', '--json')).json();
    expect(after.current).toMatchObject({ tag: `production-${stamp}-${rev.r11}`, promotedFrom: P.may2Rollback });
    // The undo (by hand), a second later: production points at may3 again, recorded by an archive tag.
    const later = '2021-06-01T03:00:01Z';
    const undo = await runCli(argv(p.next.undo[1]).map((a) => a.replace(stamp, '20210601030001')), { ...env(), TC_PROMOTE_NOW: later });
    expect(undo.code).toBe(0);
    expect((await headManifest(reg, repository, 'production'))!.digest).toBe(seeded.digestOf(P.may3));
    const back = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], { ...env(), TC_PROMOTE_NOW: later })).json();
    expect(back.current).toMatchObject({ tag: `production-20210601030001-${rev.r13}`, promotedFrom: P.may3 });
  });
});

describe('a target no archive tag names the revision of', () => {
  it('takes the revision from the image\'s /app/version.json, so the promotion is recorded and the next plan knows current', async () => {
    // dev moved forward by hand to a build nobody archived: promoting it used to write no
    // archive tag, and production's next history had no current (no rollback target either).
    const script = 'landoscript';
    const repo = 'mozilla/releng-landoscript';
    await seedThreeAm(reg, repo);
    const commit = 'c0ffee'.repeat(6) + 'c0ff';
    const unarchived = await buildImage(reg, { repository: repo, commit, tags: ['dev'] });
    const result = await runCli(['plan', script, '--from-env', 'dev', '--registry', reg.url, '--json'], env());
    expect(result.code, result.stderr).toBe(0);
    const p = result.json();
    expect(p.target).toMatchObject({ tag: null, digest: unarchived.digest, revision: commit, revisionFrom: 'version.json' });
    expect(p.warnings).toContain(`target ${unarchived.digest}: no archive tag names its revision; its /app/version.json says ${commit}, and the promotion's archive tag records that (the promote step checks it against the image again)`);
    expect(p.warnings.join('\n')).not.toMatch(/no archive tag will record this promotion/);
    const promote = p.tasks.find((t: { label: string }) => t.label.startsWith('promote-'));
    expect(promote).toBeDefined();
    expect(p.next.byHand[0]).toContain(`--archive-tag production-$(date -u +%Y%m%d%H%M%S)-${commit}`);
    // The step by hand, as printed: production moves, and history knows what is live.
    const stamp = now.replace(/[-:TZ]/g, '').slice(0, 14);
    const argv = p.next.byHand[0].replace('$(date -u +%Y%m%d%H%M%S)', stamp).replace(/\s+#.*$/, '').split(/\s+/).slice(1);
    const done = await runCli(argv, env());
    expect(done.code, done.stderr).toBe(0);
    const after = (await runCli(['history', script, '--registry', reg.url, '--json'], env())).json();
    expect(after.current).toMatchObject({ tag: `production-${stamp}-${commit}`, digest: unarchived.digest });
    expect(after.warnings).toEqual([]);
    // The graph's promote task writes the same archive tag.
    const rendered = await runCli(['render', script, '--from-env', 'dev', '--registry', reg.url, '--format', 'json'], env());
    expect(rendered.code, rendered.stderr).toBe(0);
    const command = JSON.parse(rendered.stdout).tasks.find((t: { label: string }) => t.label.startsWith('promote-')).task.payload.command as string[];
    expect(command[command.indexOf('--archive-tag') + 1]).toMatch(new RegExp(`^production-\\d{14}-${commit}$`));
  });
});

describe('after a rollback was undone', () => {
  it('says when the target image was rolled back at a later deploy of it', async () => {
    // Roll back (may3 -> may1's image, a new archive tag), then undo it (back to may3's image):
    // the rollback's deploy is rolled back, but the older deploy of the same image is not, and
    // plan picks it again. It must say that this image's last time live ended in a rollback.
    const script = 'treescript';
    const repo = 'mozilla/releng-treescript';
    const own = await seedThreeAm(reg, repo);
    const at = (seconds: number) => ({ ...env(), TC_PROMOTE_NOW: new Date(Date.parse(now) + seconds * 1000).toISOString().replace('.000Z', 'Z') });
    const stampAt = (seconds: number) => new Date(Date.parse(now) + seconds * 1000).toISOString().replace(/[-:TZ]|\.\d+/g, '').slice(0, 14);
    const host = `${reg.host}/${repo}`;
    const rollback = `production-${stampAt(0)}-${rev.r11}`;
    expect((await runCli(['copy', `${host}@${own.digestOf(P.may1)}`, `${host}:production`, '--expect-current', own.digestOf(P.may3), '--archive-tag', rollback, '--registry', reg.url], at(0))).code).toBe(0);
    expect((await runCli(['copy', `${host}@${own.digestOf(P.may3)}`, `${host}:production`, '--expect-current', own.digestOf(P.may1), '--archive-tag', `production-${stampAt(60)}-${rev.r13}`, '--registry', reg.url], at(60))).code).toBe(0);
    const result = await runCli(['plan', script, '--registry', reg.url, '--json'], at(120));
    expect(result.code, result.stderr).toBe(0);
    const p = result.json();
    expect(p.target.tag).toBe(P.may2Rollback);
    expect(p.passedOver).toContainEqual({ tag: rollback, reason: 'rolled back' });
    expect(p.warnings).toContain(`the image of target ${P.may2Rollback} was rolled back when it was deployed again, as ${rollback}: that deploy is passed over, this older one is not; look at why before promoting it again`);
  });
});
