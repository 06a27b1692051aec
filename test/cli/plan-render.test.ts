// plan's human summary says where a target's image lived when it lived in more than one environment.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { renderPlan } from '../../src/cli/plan.js';
import { examplePlan } from '../support/plans.js';

describe('plan summary', () => {
  it('breaks the image live time down by environment', () => {
    const plan = examplePlan(loadConfig());
    plan.target.imageLive = {
      seconds: 3600 + 10 * 86400,
      atLeast: false,
      parts: [
        { tag: plan.target.tag!, env: 'production', seconds: 3600, current: false },
        { tag: 'dev-20210901000000-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89', env: 'dev', seconds: 10 * 86400, current: false },
      ],
      movedBack: [],
    };
    expect(renderPlan(plan)).toContain('image live 10d1h over 2 deploy(s): 1h in production, 10d in dev');
  });
});
