import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real registries on loopback: keep parallelism to the machine's two cores.
    maxWorkers: 2,
    reporters: ['default'],
    // The real Taskcluster services, started once per run by the first test file that needs them.
    globalSetup: ['test/support/real-taskcluster.global.ts'],
  },
});
