import { readFileSync } from 'node:fs';
import { load as yamlLoad } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultConfigPath, loadConfig, parseConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const defaultText = readFileSync(defaultConfigPath, 'utf8');

describe('configuration', () => {
  it('embeds the scriptworker-scripts default', () => {
    const config = loadConfig();
    expect(config.scripts).toHaveLength(13);
    expect(config.scripts).toContain('signingscript');
    expect(config.taskcluster).toMatchObject({ rootUrl: 'https://firefox-ci-tc.services.mozilla.com', trustDomain: 'scriptworker', workerPool: 'scriptworker-3/images' });
    expect(config.taskcluster.secrets.registry).toBe('project/releng/scriptworker-scripts/deploy');
    expect(Object.keys(config.environments).sort()).toEqual(['dev', 'production']);
  });

  it('keeps schemas/config.schema.json generated from the one source of truth', () => {
    const file = JSON.parse(readFileSync(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(configSchema)));
  });

  it.each([
    ['taskcluster:\n  level: 7', /\/taskcluster\/level: must be <= 3 \(got 7\)/],
    ['scripts: [signingscript, "Bad Name"]', /\/scripts\/1: must match pattern/],
    ['environments:\n  production:\n    movingTag: "bad tag"', /\/environments\/production\/movingTag: must match pattern .* \(got "bad tag"\)/],
    ['extra: 1', /\/extra: is not a known property/],
  ])('names the file, path and value for %j', (patch, message) => {
    // Merge the patch into the default configuration.
    const key = patch.split(':')[0]!;
    const config = loadConfig();
    const merged = { ...config } as Record<string, unknown>;
    const patchValue = (yamlLoad(patch) as Record<string, unknown>)[key];
    merged[key] = key in config && typeof patchValue === 'object' && patchValue !== null && !Array.isArray(patchValue) ? deepMerge((config as Record<string, unknown>)[key], patchValue) : patchValue;
    expect(() => parseConfig(JSON.stringify(merged), 'custom.yml')).toThrow(message);
    try {
      parseConfig(JSON.stringify(merged), 'custom.yml');
    } catch (error) {
      expect((error as Error).message.startsWith('custom.yml: ')).toBe(true);
    }
  });

  it('refuses a deploy branch without {script} and the default branch as a deploy branch', () => {
    expect(() => parseConfig(defaultText.replace("deployBranch: 'production-{script}'", 'deployBranch: production-all'), 'c.yml')).toThrow(/deployBranch: "production-all" must contain \{script\}/);
    expect(() => parseConfig(defaultText.replace('sharedBranch: production', 'sharedBranch: master'), 'c.yml')).toThrow(/may not be the default branch/);
  });

  it('reports unreadable files and YAML errors with the file name', () => {
    expect(() => loadConfig('/nonexistent/tc-promote.yml')).toThrow(/--config: "\/nonexistent\/tc-promote.yml" does not exist \(ENOENT\)/);
    expect(() => parseConfig('scripts: [a\n  b: {', 'broken.yml')).toThrow(/broken.yml: not valid YAML/);
  });
});

function deepMerge(base: unknown, patch: unknown): unknown {
  if (typeof base !== 'object' || base === null || typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = deepMerge(out[k], v);
  return out;
}
