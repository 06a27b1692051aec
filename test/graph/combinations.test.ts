// validate and grants walk the same synthetic promotions: every script × environment × route,
// retag with and without the fallback allowed. The route list is offline-plan's own (it must
// not load the graph builder); it must be the builder's.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { routeTasks } from '../../src/graph/build.js';
import { everyCombination } from '../../src/graph/offline-plan.js';

describe('everyCombination', () => {
  it('is every script × environment × route of the builder, retag twice, each planned offline', () => {
    const config = loadConfig();
    const all = [...everyCombination(config, Date.parse('2026-11-26T09:00:00Z'))];
    expect(new Set(all.map((c) => c.route))).toEqual(new Set(Object.keys(routeTasks)));
    expect(all).toHaveLength(config.scripts.length * Object.keys(config.environments).length * (Object.keys(routeTasks).length + 1));
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
    const one = all.find((c) => c.name === 'signingscript/production/retag (fallback allowed)')!;
    const plan = one.plan();
    expect(plan.target.tag).toBe(`production-20261125090000-${one.revision}`);
    expect(one.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(one.branchHead).not.toBe(one.revision);
  });
});
