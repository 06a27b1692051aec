/**
 * The worker pools that run each script's image, per environment: Firefox-CI's k8s pools
 * `scriptworker-k8s/<trust domain>-<level>-<short>[-dev]` (e.g. signingscript production serves
 * gecko-3-signing, gecko-t-signing, comm-3-signing, …), read from fxci-config's clients.yml:
 * every `queue:claim-work:scriptworker-k8s/<pool>` scope of a scriptworker client. The pool's
 * `<short>` names the script (`signing` → signingscript) when the configuration has that script;
 * `-dev` pools serve the dev environment, the others production. `tc-promote pools` writes
 * config/worker-pools.json from it; rollback watches those pools after the move.
 */
import { UsageError, quote } from '../errors.js';

export interface WorkerPools {
  /** Where it was generated from, as given. */
  source: string;
  /** script → environment → task queue ids (provisionerId/workerType), sorted. */
  pools: Record<string, Record<string, string[]>>;
  /** Pools claimed by scriptworker clients that serve no configured script, with why. */
  unmatched: { pool: string; reason: string }[];
}

const claimScope = /^queue:claim-work:(scriptworker-k8s\/([a-z0-9-]+))$/;
const poolName = /^(.+)-([0-9]|t)-([a-z]+?)(-dev)?$/;

export function poolsFromClients(clients: unknown, scripts: readonly string[], source: string): WorkerPools {
  if (clients === null || typeof clients !== 'object' || Array.isArray(clients)) throw new UsageError(`${source}: not a mapping of client ids (fxci-config's clients.yml)`);
  const pools: WorkerPools['pools'] = {};
  const unmatched = new Map<string, string>();
  for (const [clientId, client] of Object.entries(clients as Record<string, unknown>)) {
    const scopes = (client as { scopes?: unknown } | null)?.scopes;
    if (!Array.isArray(scopes)) continue;
    for (const scope of scopes) {
      const m = typeof scope === 'string' ? claimScope.exec(scope) : null;
      if (!m) continue;
      const [, queueId, name] = m as unknown as [string, string, string];
      const parts = poolName.exec(name);
      if (!parts) {
        unmatched.set(queueId, `not <trust domain>-<level>-<script>[-dev] (client ${clientId})`);
        continue;
      }
      const script = `${parts[3]}script`;
      if (!scripts.includes(script)) {
        unmatched.set(queueId, `no script ${script} in the configuration`);
        continue;
      }
      const env = parts[4] ? 'dev' : 'production';
      const byEnv = (pools[script] ??= {});
      const list = (byEnv[env] ??= []);
      if (!list.includes(queueId)) list.push(queueId);
    }
  }
  for (const byEnv of Object.values(pools)) for (const list of Object.values(byEnv)) list.sort();
  const sorted = Object.fromEntries(Object.keys(pools).sort().map((s) => [s, Object.fromEntries(Object.keys(pools[s]!).sort().map((e) => [e, pools[s]![e]!]))]));
  return { source, pools: sorted, unmatched: [...unmatched].sort(([a], [b]) => a.localeCompare(b)).map(([pool, reason]) => ({ pool, reason })) };
}

/** Parse a worker-pools file (what `tc-promote pools` writes). */
export function parseWorkerPools(text: string, file: string): WorkerPools {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message}); tc-promote pools --clients clients.yml writes it`);
  }
  const p = parsed as Partial<WorkerPools> | null;
  if (!p || typeof p.pools !== 'object' || p.pools === null) throw new UsageError(`${file}: /pools: missing; tc-promote pools --clients clients.yml writes it`);
  for (const [script, byEnv] of Object.entries(p.pools)) {
    for (const [env, list] of Object.entries(byEnv ?? {})) {
      if (!Array.isArray(list) || !list.every((q) => typeof q === 'string' && /^[a-zA-Z0-9_-]{1,38}\/[a-zA-Z0-9_-]{1,38}$/.test(q))) throw new UsageError(`${file}: /pools/${script}/${env}: must be task queue ids (provisionerId/workerType), got ${quote(JSON.stringify(list).slice(0, 100))}`);
    }
  }
  return { source: typeof p.source === 'string' ? p.source : file, pools: p.pools, unmatched: Array.isArray(p.unmatched) ? p.unmatched : [] };
}

export function poolsOf(pools: WorkerPools, script: string, env: string): string[] {
  return pools.pools[script]?.[env] ?? [];
}
