// `tc-promote consumers` against the real registry with fixture images (no root needed; the
// image built by scripts/build-image.sh is held to the same command in test/image/): it pins
// the image in every consumer file only after the registry has the digest, the tag points at
// it and its /app/version.json names the release's commit; otherwise it exits 4 or 2, names
// what is wrong and the way out, and writes nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { taskgraphActionModule } from '../../src/graph/taskgraph-module.js';
import { runCli } from '../support/cli.js';
import { buildImage } from '../support/fixtures.js';
import { repositoryRoot } from '../support/reference.js';
import { makeTempDir, removeTempDir, startRegistry, type RunningRegistry } from '../support/registry.js';

const commit = 'c0ffee'.padEnd(40, '0');
let reg: RunningRegistry;
let dir: string;
let digest: string;
let other: string;

beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  dir = makeTempDir('consumers-');
  digest = (await buildImage(reg, { repository: 'mozillareleases/tc-promote', commit, tags: ['0.1.0'], source: 'https://github.com/mozilla-releng/tc-promote' })).digest;
  other = (await buildImage(reg, { repository: 'mozillareleases/tc-promote', commit: 'b'.repeat(40), tags: ['0.0.9'] })).digest;
});
afterAll(async () => {
  await reg?.stop();
  if (dir) removeTempDir(dir);
});

const run = (image: string, out: string) => runCli(['consumers', '--image', image, '--commit', commit, '--output', out], { DOCKER_CONFIG: reg.dockerConfigDir });

describe('tc-promote consumers', () => {
  it('writes every file of consumers/ with the image pinned in tc-promote.yml and the .taskcluster.yml patch, actions.py regenerated', async () => {
    const out = path.join(dir, 'ok');
    const image = `${reg.host}/mozillareleases/tc-promote:0.1.0@${digest}`;
    const r = await run(image, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${image}: digest exists, tag 0.1.0 points at it, its /app/version.json names commit ${commit}`);
    const config = loadConfig(path.join(out, 'scriptworker-scripts', 'tc-promote.yml'));
    expect(config.taskcluster.image).toBe(image);
    const patch = readFileSync(path.join(out, 'scriptworker-scripts', 'taskcluster.yml.patch'), 'utf8');
    expect(patch).toContain(`then: ${image}`);
    expect(patch).not.toMatch(/sha256:0{64}|^index /m);
    expect(readFileSync(path.join(out, 'scriptworker-scripts', 'tc-promote.yml'), 'utf8')).toContain(`# Pinned by \`tc-promote consumers\` to ${image}:`);
    expect(readFileSync(path.join(out, 'scriptworker-scripts', 'actions.py'), 'utf8')).toBe(taskgraphActionModule(config));
    expect(JSON.parse(readFileSync(path.join(out, 'image.json'), 'utf8'))).toEqual({ reference: image, digest, commit });
    // Every checked-in consumer file is there.
    const walk = (d: string, p = ''): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name), `${p}${e.name}/`) : [`${p}${e.name}`]));
    expect(walk(out).sort()).toEqual([...walk(path.join(repositoryRoot, 'consumers')), 'image.json'].sort());
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses, writing nothing: a digest the registry lacks (4), a missing tag (4), a tag at another digest (2), another commit (2), no digest (2)', async () => {
    const out = path.join(dir, 'refused');
    const repo = `${reg.host}/mozillareleases/tc-promote`;
    const cases: [string, number, string][] = [
      [`${repo}:0.1.0@sha256:${'1'.repeat(64)}`, 4, 'does not exist in the registry: push the release image first'],
      [`${repo}:0.2.0@${digest}`, 4, 'tag "0.2.0" of'],
      [`${repo}:0.0.9@${digest}`, 2, `tag "0.0.9" points at ${other}, not ${digest}: the tag moved, or the digest is of another build`],
      [`${repo}@${other}`, 2, `/app/version.json names commit ${'b'.repeat(40)}, not --commit ${commit}: it is another build than the release`],
      [`${repo}:0.1.0`, 2, 'names no digest'],
    ];
    for (const [image, code, message] of cases) {
      const r = await run(image, out);
      expect([r.code, r.stderr], image).toEqual([code, expect.stringContaining(message)]);
      expect(existsSync(out)).toBe(false);
    }
    const short = await runCli(['consumers', '--image', `${repo}@${digest}`, '--commit', 'c0ffee', '--output', out], { DOCKER_CONFIG: reg.dockerConfigDir });
    expect([short.code, short.stderr]).toEqual([2, expect.stringContaining('--commit: "c0ffee" is not a 40-hex commit')]);
    const full = await run(`${repo}@${digest}`, path.join(dir, 'ok'));
    expect([full.code, full.stderr]).toEqual([2, expect.stringContaining('exists and is not empty; give a new folder (nothing was written)')]);
  });
});
