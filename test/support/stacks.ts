// Set-ups several test files share: a real registry with the seeded pushlog and a Taskcluster
// emulator on the same pinned clock; and putting a GitHub fixture back to its starting refs.
import type { GitFixture } from './git-fixture.js';
import type { GitHubEmulator } from './github-emulator.js';
import { startRegistry, type RunningRegistry } from './registry.js';
import { now, seedHistory, type SeededHistory } from './scenario.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from './taskcluster-emulator.js';

export interface SeededStack {
  reg: RunningRegistry;
  seeded: SeededHistory;
  /** Its clock is the scenario's `now`, like TC_PROMOTE_NOW in the tests. */
  tc: TaskclusterEmulator;
  stop(): Promise<void>;
}

export async function startSeededStack(): Promise<SeededStack> {
  const reg = await startRegistry({ auth: 'anonymous' });
  const seeded = await seedHistory(reg);
  const tc = await startTaskclusterEmulator({ now: () => Date.parse(now) });
  return {
    reg,
    seeded,
    tc,
    async stop() {
      await tc.close();
      await reg.stop();
    },
  };
}

/** `ref` back at commit `at` (default the fixture's second commit), no backup branches, an empty request log. */
export function resetGitHubFixture(repo: GitFixture, gh: GitHubEmulator, ref: string, at = repo.commits[1]!): void {
  repo.git('update-ref', ref, at);
  for (const name of Object.keys(repo.refs())) if (name.includes('tc-promote-backup')) repo.git('update-ref', '-d', name);
  gh.reset();
}
