// What the rollback end-to-end tests on the REAL Taskcluster services stand on (issue 17): the
// real registry, a real git repository served by the GitHub emulator (GitHub's API cannot run
// here), the run's shared real Taskcluster (./real-taskcluster.ts: sharedRealTaskcluster), an
// on-call client made in the real Auth holding exactly what `tc-promote grants` lists (plus the
// hold's index scope), the deploy secret in the real Secrets service, and a worker of the real
// Queue API (./real-worker.ts) on a task queue of this world's own (the database is shared by
// the run's test files: the configuration's workerPool and secret names are this world's).
// Per script two deploys in production: A (a month old, the previous-known-good) and B (two days
// old, current), as ./rollback-world.ts seeds them for the emulator.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { submitterScopes } from './clients.js';
import { headManifest } from './fixtures.js';
import { createGitFixture, type GitFixture } from './git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from './github-emulator.js';
import { sharedRealTaskcluster, type RealTaskcluster } from './real-taskcluster.js';
import { client, RealWorker } from './real-worker.js';
import { makeTempDir, startRegistry, type RunningRegistry } from './registry.js';
import { stamp, type Deploy } from './rollback-world.js';

export interface RealRollbackWorld {
  reg: RunningRegistry;
  tc: RealTaskcluster;
  repo: GitFixture;
  gh: GitHubEmulator;
  /** The worker of this world's task queue (the configuration's workerPool). */
  worker: RealWorker;
  workerPool: string;
  secretName: string;
  configPath: string;
  releng: { clientId: string; accessToken: string };
  seeded: Map<string, { A: Deploy; B: Deploy }>;
  push(script: string, commit: string, tags: string[], createdMs: number): Promise<{ digest: string }>;
  env(extra?: Record<string, string>): Record<string, string>;
  rollback(script: string, ...args: string[]): string[];
  digestOf(script: string, tag?: string): Promise<string | undefined>;
  /** Runs the command while the worker claims and runs whatever the graph makes pending. */
  whileWorking<T>(command: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

const day = 86_400_000;

export async function startRealRollbackWorld(options: { scripts: string[]; label: string; env?: Record<string, string> }): Promise<RealRollbackWorld> {
  const started: (() => unknown)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stopOne of started.reverse()) await stopOne();
    started.length = 0;
  };
  try {
    const tc = await sharedRealTaskcluster();
    const reg = await startRegistry({ auth: 'anonymous' });
    started.push(() => reg.stop());
    const host = reg.host;
    const registryClient = new RegistryClient({ plainHttpHosts: new Set([host]) });
    const base = layerOf([{ path: 'app/README', content: Buffer.from(`${options.label} base\n`), mtime: 0 }]);
    const repo = createGitFixture({ scripts: options.scripts, commits: 6, productionAt: 3 });
    started.push(() => repo.cleanup());
    const gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts' });
    started.push(() => gh.stop());
    // This world's task queue and secret: the real database is shared by the run's test files.
    const suffix = `${options.label}-${process.pid}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
    const workerPool = `tc-promote-tests/${suffix}`;
    const secretName = `project/releng/tc-promote-tests/${suffix}/deploy`;
    const config = loadConfig();
    const moved = JSON.parse(JSON.stringify({ ...config, scripts: [...config.scripts, ...options.scripts] }).replaceAll('"docker.io"', JSON.stringify(host)));
    moved.taskcluster.workerPool = workerPool;
    moved.taskcluster.secrets = { registry: secretName, github: secretName };
    const configPath = path.join(makeTempDir(`${options.label}-config-`), 'tc-promote.yml');
    writeFileSync(configPath, JSON.stringify(moved, null, 2));
    const push = (script: string, commit: string, tags: string[], createdMs: number) =>
      pushImage(registryClient, { registry: host, repository: `mozilla/releng-${script}` }, base, { commit, createdMs, source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: `${script} ${commit} ${createdMs}` }, tags);
    const seeded = new Map<string, { A: Deploy; B: Deploy }>();
    const now = Date.now();
    for (const script of options.scripts) {
      const A = { tag: `production-${stamp(now - 30 * day)}-${repo.commits[1]}`, digest: '' };
      const B = { tag: `production-${stamp(now - 2 * day)}-${repo.commits[3]}`, digest: '' };
      A.digest = (await push(script, repo.commits[1]!, ['production', A.tag], now - 30 * day)).digest;
      B.digest = (await push(script, repo.commits[3]!, ['production', B.tag], now - 2 * day)).digest;
      seeded.set(script, { A, B });
    }
    // The on-call engineer: a client of the real Auth with what `tc-promote grants` lists.
    const auth = client('Auth', tc.rootUrl, tc.rootCredentials);
    const clientId = `tc-promote-tests/releng-oncall-${suffix}`;
    const made = await auth.createClient(clientId, { description: 'the on-call release engineer of a tc-promote test', expires: new Date(now + day).toISOString(), scopes: submitterScopes(loadConfig(configPath)) });
    started.push(() => auth.deleteClient(clientId).catch(() => undefined));
    const releng = { clientId, accessToken: made.accessToken as string };
    // The deploy secret holds the GitHub token the fallback task reads through its proxy.
    const secrets = client('Secrets', tc.rootUrl, tc.rootCredentials);
    await secrets.set(secretName, { secret: { github_token: gh.token }, expires: new Date(now + day).toISOString() });
    started.push(() => secrets.remove(secretName).catch(() => undefined));
    const worker = await RealWorker.create(tc, { taskQueueId: workerPool, env: { GITHUB_API_URL: gh.url, TC_PROMOTE_RETRY_BASE_MS: '1' } });
    started.push(() => worker.cleanup());
    return {
      reg,
      tc,
      repo,
      gh,
      worker,
      workerPool,
      secretName,
      configPath,
      releng,
      seeded,
      push,
      env: (extra = {}) => ({
        TASKCLUSTER_ROOT_URL: tc.rootUrl,
        TASKCLUSTER_CLIENT_ID: releng.clientId,
        TASKCLUSTER_ACCESS_TOKEN: releng.accessToken,
        GITHUB_API_URL: gh.url,
        GITHUB_TOKEN: gh.token,
        TC_PROMOTE_RETRY_BASE_MS: '1',
        ...options.env,
        ...extra,
      }),
      rollback: (script, ...args) => ['rollback', script, '--config', configPath, '--reason', `roll ${script} back`, ...args],
      digestOf: async (script, tag = 'production') => (await headManifest(reg, `mozilla/releng-${script}`, tag))?.digest,
      whileWorking: <T>(command: Promise<T>): Promise<T> => worker.whileWorking(command),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
