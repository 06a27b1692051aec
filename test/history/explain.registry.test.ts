// A release engineer at 3 a.m. against the real registry, trying every plan a tired person
// might type (about 300: every --to and --skip form of every deploy, --min-live values,
// routes, --from-env, after a hand move too) over three pushlogs: the 3 a.m. one, one with
// every awkward thing (gap and oldest eras, a gone image, equal timestamps, a promotion from
// dev, dev's moving tag ahead of its archive tag), and one moved forward by hand to a build
// nobody archived. Every plan must either explain its target (how it was chosen, every newer
// deploy passed over with a reason, another environment's image labelled, "not proven" under
// a day, a rolled-back or gone target or a no-op said, what to run next and how to undo) or
// refuse in one line that names the way out.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { buildImage, headManifest, tagExisting } from '../support/fixtures.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';
import { D, P, now, rev, seedThreeAm } from '../support/three-am.js';

let reg: RunningRegistry;
const findings: string[] = [];
const env = () => ({ TC_PROMOTE_NOW: now, DOCKER_CONFIG: reg.dockerConfigDir, TC_PROMOTE_RETRY_BASE_MS: '5' });

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  // S1: the 3 a.m. pushlog.
  await seedThreeAm(reg);
  // S2: a second repository with every awkward thing at once: gap era, oldest era, a gone
  // image, equal timestamps, a dev moving tag ahead of its archive tag.
  const repo = 'mozilla/releng-balrogscript';
  const o = (c: string) => c.repeat(40);
  await buildImage(reg, { repository: repo, commit: o('1'), tags: [`production-4.1.2-20200115093000-${o('1')}`] });
  await buildImage(reg, { repository: repo, commit: o('9'), tags: ['production-20200701120000-'] });
  await buildImage(reg, { repository: repo, commit: o('8'), tags: ['production-20200702120000-'] });
  await buildImage(reg, { repository: repo, commit: o('2'), tags: [`production-20210101000000-${o('2')}`] });
  await buildImage(reg, { repository: repo, commit: o('3'), tags: [`production-20210101000000-${o('3')}`] });
  await buildImage(reg, { repository: repo, commit: o('4'), tags: [`production-20210201000000-${o('4')}`, `dev-20210125000000-${o('4')}`] });
  await buildImage(reg, { repository: repo, commit: o('5'), tags: ['production', `production-20210301000000-${o('5')}`] });
  await buildImage(reg, { repository: repo, commit: o('6'), tags: ['dev'] });
  // A deploy whose image is gone (the tag lists, the manifest does not), between two good ones,
  // and two deploys in the same second.
  const { mkdirSync, writeFileSync: write } = await import('node:fs');
  const { join } = await import('node:path');
  const dir = join(reg.storageDir, 'docker/registry/v2/repositories', repo, '_manifests/tags', `production-20210215000000-${o('a')}`, 'current');
  mkdirSync(dir, { recursive: true });
  write(join(dir, 'link'), `sha256:${'0'.repeat(63)}2`);
  await buildImage(reg, { repository: repo, commit: o('b'), tags: [`production-20210220000000-${o('b')}`] });
  await buildImage(reg, { repository: repo, commit: o('c'), tags: [`production-20210220000000-${o('c')}`] });
  // S3: a copy of S1 with production moved forward by hand to a build nobody archived.
  const s3 = await seedThreeAm(reg, 'mozilla/releng-addonscript');
  void s3;
  await buildImage(reg, { repository: 'mozilla/releng-addonscript', commit: o('7'), tags: ['production'] });
});
afterAll(async () => reg?.stop());

async function plan(script: string, ...args: string[]) {
  return runCli(['plan', script, ...args, '--registry', reg.url, '--json'], env());
}

function check(script: string, args: string[], r: Awaited<ReturnType<typeof plan>>, deploys: { tag: string }[]): void {
  const label = `plan ${script} ${args.join(' ')}`;
  if (r.code !== 0) {
    const line = r.stderr.trim();
    if (line.split('\n').length !== 1) findings.push(`${label}: more than one line of error: ${line}`);
    if (!/--to|--from-env|--route|matched nothing|give|drop|not a|unknown|ambiguous|refusing|name a target|does not exist|too short/i.test(line)) findings.push(`${label}: refusal names no way out: ${line}`);
    return;
  }
  const p = r.json();
  const w = (p.warnings as string[]).join('\n');
  if (!p.target.chosenBy) findings.push(`${label}: target without chosenBy`);
  if (p.target.chosenBy === 'previous-known-good') {
    const index = deploys.findIndex((d) => d.tag === p.target.tag);
    const passed = (p.passedOver as { tag: string; reason: string }[]).map((x) => x.tag);
    const newer = deploys.slice(0, index).map((d) => d.tag);
    if (JSON.stringify(passed) !== JSON.stringify(newer)) findings.push(`${label}: passedOver ${JSON.stringify(passed)} is not every newer deploy ${JSON.stringify(newer)}`);
  }
  if (p.target.tag && p.target.env !== 'production' && !/is a deploy of|still current there|live in dev/.test(w) && p.target.chosenBy !== 'from-env') findings.push(`${label}: another environment's target without a label`);
  const live = p.target.imageLive;
  const seconds = live?.seconds ?? p.target.liveSeconds;
  if ((seconds === null || seconds === undefined || seconds < 86400) && !/not proven/.test(w)) findings.push(`${label}: target live ${live?.seconds ?? '?'}s without "not proven"`);
  if (p.target.rolledBack && !/rolled back/.test(w)) findings.push(`${label}: rolled-back target without a warning`);
  if (p.current && p.target.digest === p.current.digest && !/changes nothing/.test(w)) findings.push(`${label}: no-op without a warning`);
  if (!p.target.available && p.route !== 'rebuild' && !args.includes('rerun')) findings.push(`${label}: gone image with route ${p.route}`);
  if (!p.target.available && !/gone/.test(w) && !args.includes('--route')) findings.push(`${label}: gone image, no word`);
  if (!p.next?.submit || !p.next.undo?.length) findings.push(`${label}: no next/undo`);
}

it('explains every target it chooses, or refuses naming the way out', { timeout: 300_000 }, async () => {
  for (const script of ['signingscript', 'balrogscript', 'addonscript']) {
    const h = (await runCli(['history', script, '--registry', reg.url, '--json'], env())).json();
    const deploys = h.deploys as { tag: string; revision: string | null; digest?: string }[];
    const dev = (await runCli(['history', script, '--env', 'dev', '--registry', reg.url, '--json'], env())).json();
    const tries: string[][] = [[], ['--route', 'retag'], ['--route', 'rebuild'], ['--route', 'rerun'], ['--from-env', 'dev']];
    for (const m of ['1h', '1d', '3d', '14d', '25d', '60d']) tries.push(['--min-live', m]);
    for (const d of deploys) {
      tries.push(['--skip', d.tag], ['--to', d.tag]);
      if (d.revision) tries.push(['--skip', d.revision.slice(0, 7).toUpperCase()], ['--to', d.revision.slice(0, 7)], ['--to', d.revision.slice(0, 9).toUpperCase()]);
      if (d.digest) tries.push(['--skip', d.digest], ['--to', d.digest]);
    }
    for (const d of dev.deploys as { tag: string; revision: string | null; digest?: string }[]) {
      tries.push(['--to', d.tag], ['--skip', d.tag]);
      if (d.revision) tries.push(['--to', d.revision]);
      if (d.digest) tries.push(['--to', d.digest]);
    }
    tries.push(['--skip', '7995c5b'], ['--to', '7995c5b'], ['--min-live', '1d', '--skip', deploys[1]?.tag ?? 'x'], ['--to', deploys[0]!.tag, '--route', 'retag'], ['--from-env', 'dev', '--min-live', '1h']);
    for (const args of tries) check(script, args, await plan(script, ...args), deploys);
  }
  // The hand move at 3 a.m.: production back to February's rebuild, no archive tag.
  await tagExisting(reg, 'mozilla/releng-signingscript', (await headManifest(reg, 'mozilla/releng-signingscript', P.mar1Rebuild))!.digest, 'production');
  const moved = (await runCli(['history', 'signingscript', '--registry', reg.url, '--json'], env())).json();
  for (const args of [[], ['--min-live', '3d'], ['--to', P.may3], ['--to', rev.r13!], ['--from-env', 'dev'], ['--to', D.d4]]) check('signingscript', args, await plan('signingscript', ...args), moved.deploys);
  expect(findings).toEqual([]);
});
