import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { defaultTemplatesDir } from '../../src/graph/templates.js';
import { validateEverything } from '../../src/graph/validate-all.js';
import { applyConsumerPatches, consumerConfigPath } from '../support/consumers.js';
import { makeTempDir } from '../support/registry.js';

const config = loadConfig();
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function copyTemplates(): string {
  const dir = makeTempDir('tc-promote-validate-');
  dirs.push(dir);
  cpSync(defaultTemplatesDir, dir, { recursive: true });
  return dir;
}

describe('validate', () => {
  it('passes on the repository: every script, environment and route, actions.json and .taskcluster.yml', () => {
    const report = validateEverything(config);
    expect(report.problems).toEqual([]);
    // 13 scripts × 2 environments × (retag ×2 fallback variants with 2 tasks, rebuild 1, rerun 1)
    expect(report.graphs).toBe(13 * 2 * 4);
    expect(report.tasks).toBe(13 * 2 * (2 + 2 + 1 + 1));
    expect(report.taskclusterYml).toEqual(['github-push', 'github-pull-request', 'action']);
  });

  it('fails on a broken template copy, printing template: script/env/route: path: message', () => {
    const dir = copyTemplates();
    const promote = path.join(dir, 'promote.yml');
    writeFileSync(promote, readFileSync(promote, 'utf8').replace('maxRunTime: 1800', "maxRunTime: '1800'"));
    const rerun = path.join(dir, 'rerun.yml');
    writeFileSync(rerun, readFileSync(rerun, 'utf8').replace("'${promotion.target.revision}']", "'${promotion.no_such_field}']"));
    const report = validateEverything(config, { templatesDir: dir });
    expect(report.problems).toContain(`${path.join(dir, 'promote.yml')}: addonscript/production/retag: /payload/maxRunTime: must be integer (got "1800") (and 51 more script/env/route)`);
    expect(report.problems.some((p) => p.startsWith(`${path.join(dir, 'rerun.yml')}: addonscript/production/rerun: template.payload.command`) && p.includes('no_such_field'))).toBe(true);
    expect(report.problems).toHaveLength(2);
  });

  it('fails on a broken .taskcluster.yml', () => {
    const dir = copyTemplates();
    const file = path.join(dir, 'taskcluster.yml');
    writeFileSync(file, readFileSync(new URL('../../.taskcluster.yml', import.meta.url), 'utf8').replace("ACTION_CALLBACK: '${action.cb_name}'", "ACTION_CALLBACK: 'something-else'"));
    const report = validateEverything(config, { taskclusterYmlPath: file });
    expect(report.problems).toEqual([`${file}: action: /payload/env/ACTION_CALLBACK: "something-else" is not the action's cb_name "promote_image"`]);
  });
});

describe('the image the tasks run in', () => {
  it('warns at level 3 when taskcluster.image carries no digest, or the placeholder one; not below level 3', async () => {
    const { imageWarnings } = await import('../../src/graph/validate-all.js');
    const { loadConfig } = await import('../../src/config/load.js');
    const base = loadConfig();
    const withImage = (image: string, level = 3) => ({ ...base, taskcluster: { ...base.taskcluster, image, level } });
    expect(imageWarnings(withImage('mozillareleases/tc-promote:latest'))).toEqual([expect.stringContaining('carries no digest; at level 3 pin it')]);
    expect(imageWarnings(withImage(`mozillareleases/tc-promote:0.1.0@sha256:${'0'.repeat(64)}`))).toEqual([expect.stringContaining('placeholder digest')]);
    expect(imageWarnings(withImage(`mozillareleases/tc-promote:0.1.0@sha256:${'a1'.repeat(32)}`))).toEqual([]);
    expect(imageWarnings(withImage('mozillareleases/tc-promote:latest', 1))).toEqual([]);
    // A digest that is not one is named as such, not as a missing one.
    expect(imageWarnings(withImage('mozillareleases/tc-promote:0.1.0@sha256:1234'))).toEqual([expect.stringContaining('"@sha256:1234" is not a sha256 digest (64 hex)')]);
  });

  it("warns when the consumer's .taskcluster.yml runs the action task in another image than taskcluster.image (one of the two pins not updated)", () => {
    const copies = applyConsumerPatches();
    try {
      const consumer = loadConfig(consumerConfigPath);
      const pinned = `mozillareleases/tc-promote:0.1.0@sha256:${'a1'.repeat(32)}`;
      // Both still hold the placeholder: only that is said.
      const before = validateEverything(consumer, { taskclusterYmlPath: copies.taskclusterYmlPath });
      expect(before.problems).toEqual([]);
      expect(before.warnings).toEqual([expect.stringContaining('placeholder digest')]);
      // The configuration got the published digest, .taskcluster.yml did not.
      const half = validateEverything({ ...consumer, taskcluster: { ...consumer.taskcluster, image: pinned } }, { taskclusterYmlPath: copies.taskclusterYmlPath });
      expect(half.warnings).toEqual([
        `${copies.taskclusterYmlPath}: action: /payload/image: "mozillareleases/tc-promote:0.1.0@sha256:${'0'.repeat(64)}" is not taskcluster.image "${pinned}": the action task and the tasks it creates would run different tc-promote images; pin the same reference in both`,
      ]);
      // Both updated: nothing to say.
      writeFileSync(copies.taskclusterYmlPath, readFileSync(copies.taskclusterYmlPath, 'utf8').replace(`@sha256:${'0'.repeat(64)}`, `@sha256:${'a1'.repeat(32)}`));
      expect(validateEverything({ ...consumer, taskcluster: { ...consumer.taskcluster, image: pinned } }, { taskclusterYmlPath: copies.taskclusterYmlPath }).warnings).toEqual([]);
    } finally {
      copies.cleanup();
    }
  });
});
