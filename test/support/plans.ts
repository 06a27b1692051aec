// Plans without a registry, for graph tests: offline plans with a given target, as
// `render --offline` makes them.
import type { Config } from '../../src/config/load.js';
import { offlinePlan } from '../../src/graph/offline-plan.js';
import type { Plan } from '../../src/history/plan.js';

export const revision = '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';
export const targetDigest = `sha256:${'a1'.repeat(32)}`;
export const movingDigest = `sha256:${'b2'.repeat(32)}`;

export function examplePlan(config: Config, options: { script?: string; env?: string; route?: Plan['route']; nowMs?: number } = {}): Plan {
  const env = options.env ?? 'production';
  const prefix = config.environments[env]?.archivePrefix ?? env;
  return offlinePlan(config, {
    script: options.script ?? 'signingscript',
    env,
    ...(options.route !== undefined && { route: options.route }),
    targetTag: `${prefix}-20210929025643-${revision}`,
    targetDigest,
    movingDigest,
    nowMs: options.nowMs ?? Date.now(),
  });
}

/** A deterministic task id source (valid slugids). */
export function sequentialIds(): () => string {
  let n = 0;
  return () => {
    const bytes = Buffer.alloc(16);
    bytes.writeUInt32BE(++n, 12);
    bytes[6] = 0x40;
    bytes[8] = 0x80;
    return bytes.toString('base64url');
  };
}
