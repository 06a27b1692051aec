// What the rollback end-to-end tests stand on: the real registry (optionally behind the fault
// proxy), a real git repository served by the GitHub emulator, the Taskcluster emulator with an
// on-call client holding what a submitter needs, the deploy secret, the local task runner, and
// per script two deploys in production: A (a month old, the previous-known-good) and B (two
// days old, current).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { submitterScopes } from './clients.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { headManifest } from './fixtures.js';
import { createGitFixture, type GitFixture } from './git-fixture.js';
import { startGitHubEmulator, type GitHubEmulator } from './github-emulator.js';
import { makeTempDir, startRegistry, type RunningRegistry } from './registry.js';
import { LocalTaskRunner } from './task-runner.js';
import { startTaskclusterEmulator, type TaskclusterEmulator } from './taskcluster-emulator.js';

export interface Deploy {
  tag: string;
  digest: string;
}

export interface RollbackWorld {
  reg: RunningRegistry;
  /** Present with `faultProxy`: every registry request of the tool and the tasks goes through it. */
  proxy: FaultProxy | undefined;
  /** The registry host the configuration names (the proxy's, or the registry's). */
  host: string;
  tc: TaskclusterEmulator;
  repo: GitFixture;
  gh: GitHubEmulator;
  runner: LocalTaskRunner;
  configPath: string;
  releng: { clientId: string; accessToken: string };
  seeded: Map<string, { A: Deploy; B: Deploy }>;
  push(script: string, commit: string, tags: string[], createdMs: number): Promise<{ digest: string }>;
  /** The on-call engineer's environment: Taskcluster and GitHub credentials, fast retries. */
  env(extra?: Record<string, string>): Record<string, string>;
  rollback(script: string, ...args: string[]): string[];
  digestOf(script: string, tag?: string): Promise<string | undefined>;
  /** Runs the command while the local task runner runs whatever the graph makes pending. */
  whileWorking<T>(command: Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export const deploySecret = 'project/releng/scriptworker-scripts/deploy';
const day = 86_400_000;
export const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);

export async function startRollbackWorld(options: { scripts: string[]; label: string; faultProxy?: boolean; env?: Record<string, string> }): Promise<RollbackWorld> {
  const { scripts } = options;
  // What has started, stopped newest first: by stop(), or at once when setting up fails half-way.
  const started: (() => unknown)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stopOne of started.reverse()) await stopOne();
    started.length = 0;
  };
  try {
    return await setUp(options, scripts, started, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function setUp(options: { label: string; faultProxy?: boolean; env?: Record<string, string> }, scripts: string[], started: (() => unknown)[], stopAll: () => Promise<void>): Promise<RollbackWorld> {
  const reg = await startRegistry({ auth: 'anonymous' });
  started.push(() => reg.stop());
  const proxy = options.faultProxy ? await startFaultProxy(reg.url) : undefined;
  if (proxy) started.push(() => proxy.stop());
  const host = proxy?.host ?? reg.host;
  const client = new RegistryClient({ plainHttpHosts: new Set([host]) });
  const base = layerOf([{ path: 'app/README', content: Buffer.from(`${options.label} base\n`), mtime: 0 }]);
  const repo = createGitFixture({ scripts, commits: 6, productionAt: 3 });
  started.push(() => repo.cleanup());
  const gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts' });
  started.push(() => gh.stop());
  // The embedded configuration with these scripts, its registries this one.
  const config = loadConfig();
  const moved = JSON.parse(JSON.stringify({ ...config, scripts: [...config.scripts, ...scripts] }).replaceAll('"docker.io"', JSON.stringify(host)));
  const configPath = path.join(makeTempDir(`${options.label}-config-`), 'tc-promote.yml');
  writeFileSync(configPath, JSON.stringify(moved, null, 2));
  const push = (script: string, commit: string, tags: string[], createdMs: number) =>
    pushImage(client, { registry: host, repository: `mozilla/releng-${script}` }, base, { commit, createdMs, source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: `${script} ${commit} ${createdMs}` }, tags);
  const seeded = new Map<string, { A: Deploy; B: Deploy }>();
  const now = Date.now();
  for (const script of scripts) {
    const A = { tag: `production-${stamp(now - 30 * day)}-${repo.commits[1]}`, digest: '' };
    const B = { tag: `production-${stamp(now - 2 * day)}-${repo.commits[3]}`, digest: '' };
    A.digest = (await push(script, repo.commits[1]!, ['production', A.tag], now - 30 * day)).digest;
    B.digest = (await push(script, repo.commits[3]!, ['production', B.tag], now - 2 * day)).digest;
    seeded.set(script, { A, B });
  }
  const tc = await startTaskclusterEmulator();
  started.push(() => tc.close());
  const releng = tc.addClient('releng-oncall', submitterScopes(loadConfig(configPath)));
  // The deploy secret holds the GitHub token the fallback task reads through its proxy.
  tc.setSecret(deploySecret, { github_token: gh.token });
  const runner = new LocalTaskRunner(tc, { env: { GITHUB_API_URL: gh.url, TC_PROMOTE_RETRY_BASE_MS: '1' } });
  started.push(() => runner.cleanup());
  return {
    reg,
    proxy,
    host,
    tc,
    repo,
    gh,
    runner,
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
    whileWorking: async <T>(command: Promise<T>): Promise<T> => {
      let done = false;
      const finished = command.finally(() => (done = true));
      while (!done) {
        await runner.runUntilIdle();
        await Promise.race([finished.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 15))]);
      }
      return finished;
    },
    stop: stopAll,
  };
}
