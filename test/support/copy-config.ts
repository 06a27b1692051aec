// A configuration for copy tests: the embedded one with many more scripts, so that each test
// promotes into a repository of its own (`mozilla/releng-copy-N`) whose `production` and `dev`
// tags are real moving tags of the configuration (copy holds them to the promote step's rules).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { makeTempDir } from './registry.js';

export interface CopyConfig {
  /** `--config` and its file. */
  args: string[];
  path: string;
  /** A repository of its own for the next test: `mozilla/releng-copy-N`. */
  nextRepository(): string;
}

export function copyTestConfig(count = 200): CopyConfig {
  const config = loadConfig();
  const extra = Array.from({ length: count }, (_, i) => `copy-${i + 1}`);
  const file = path.join(makeTempDir('copy-config-'), 'copy-config.yml');
  // YAML is a superset of JSON.
  writeFileSync(file, JSON.stringify({ ...config, scripts: [...config.scripts, ...extra] }, null, 2));
  let next = 0;
  return {
    args: ['--config', file],
    path: file,
    nextRepository: () => {
      if (next >= count) throw new Error('copy-config: out of repositories');
      return `mozilla/releng-${extra[next++]}`;
    },
  };
}
