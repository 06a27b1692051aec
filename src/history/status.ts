/**
 * The fleet at a glance: every configured script × environment with its current deploy, its
 * previous-known-good (what `rollback` would pick without flags), how the environments of a
 * script differ, and what needs a look (a moving tag no archive tag records, a current deploy
 * that is a rollback, a repository that does not exist). Pairs are read concurrently, at most
 * `concurrency` at a time; environments sharing a repository list its tags once. A pair that
 * cannot be read is a row saying why, never the whole answer's failure.
 */
import { NotFoundError, PromoteError } from '../errors.js';
import { formatReference } from '../registry/reference.js';
import { mapLimit } from '../util/concurrency.js';
import type { Deploy } from './analyse.js';
import { loadHistory } from './history.js';
import type { ListingState } from './source.js';
import { openEnvironment, type Runtime } from './runtime.js';

export interface StatusDeploy {
  tag: string;
  revision: string | null;
  date: string;
  digest: string | null;
  /** Seconds since the deploy. */
  ageSeconds: number;
}

export interface Drift {
  /** The other environment. */
  env: string;
  revision: string | null;
  /** same: one revision; differs: another one (counts when GitHub answered); unknown: a side has no current revision. */
  state: 'same' | 'differs' | 'unknown';
  /** Commits the other environment has that this one lacks, and the reverse (GitHub's compare). */
  aheadBy: number | null;
  behindBy: number | null;
}

export type StatusFlag = 'no archive tag' | 'nothing deployed' | 'rolled back' | 'repository missing' | 'unreadable' | 'held' | 'hold unknown';

export interface StatusRow {
  script: string;
  env: string;
  repository: string;
  movingTag: string;
  movingDigest: string | null;
  current: StatusDeploy | null;
  previousKnownGood: StatusDeploy | null;
  drift: Drift[];
  flags: StatusFlag[];
  /** Warnings of the history read (moved back, current unknown, …). */
  warnings: string[];
  /** Why the pair could not be read (with the flag repository missing or unreadable). */
  error: string | null;
  /** The error's exit code, when the row is unreadable for another reason than a missing repository. */
  exitCode: number | null;
}

export interface StatusResult {
  rows: StatusRow[];
  notes: string[];
}

export interface StatusRequest {
  scripts?: readonly string[];
  envs?: readonly string[];
  /** Pairs read at once (default 32: the 26 pairs of the embedded configuration at once). */
  concurrency?: number;
  /** How two revisions compare (GitHub), or undefined when GitHub is not asked. */
  compare?: (base: string, head: string) => Promise<{ aheadBy: number; behindBy: number }>;
}

export const defaultStatusConcurrency = 32;

function describe(d: Deploy, nowMs: number): StatusDeploy {
  return { tag: d.tag, revision: d.revision, date: d.date, digest: d.digest ?? null, ageSeconds: Math.max(0, Math.round((nowMs - Date.parse(d.date)) / 1000)) };
}

export async function readStatus(runtime: Runtime, request: StatusRequest = {}): Promise<StatusResult> {
  const config = runtime.config;
  const scripts = request.scripts?.length ? request.scripts : config.scripts;
  const envs = request.envs?.length ? request.envs : Object.keys(config.environments);
  // Names are checked before any request (openEnvironment refuses an unknown script or environment).
  const pairs = scripts.flatMap((script) => envs.map((env) => openEnvironment(runtime, script, env)));
  const listings = new Map<string, ListingState>();
  const rows = await mapLimit(pairs, Math.max(1, request.concurrency ?? defaultStatusConcurrency), async (view): Promise<StatusRow> => {
    const row: StatusRow = { script: view.script, env: view.env, repository: formatReference(view.repo), movingTag: view.settings.movingTag, movingDigest: null, current: null, previousKnownGood: null, drift: [], flags: [], warnings: [], error: null, exitCode: null };
    try {
      // On Docker Hub, the newest pages as far as current and the previous-known-good need.
      const history = await loadHistory(runtime, view, { settle: { criteria: { skip: [] } } });
      listings.set(row.repository, history.listing);
      row.movingDigest = history.movingDigest;
      row.warnings = [...history.warnings];
      const current = history.current;
      if (current) {
        row.current = describe(current, runtime.nowMs);
        const selection = await history.selectPrevious({ skip: [] });
        if (selection.index >= 0) row.previousKnownGood = describe(history.deploys[selection.index]!, runtime.nowMs);
        const env = history.environment;
        // The current deploy undid the one before it (a retag or a rebuild), or the moving tag was moved back.
        if (env.movedBack || history.deploys[history.currentIndex + 1]?.rolledBack) row.flags.push('rolled back');
      } else if (history.movingDigest === null) {
        row.flags.push('nothing deployed');
      } else {
        row.flags.push('no archive tag');
      }
    } catch (error) {
      if (!(error instanceof PromoteError)) throw error;
      row.error = error.message;
      if (error instanceof NotFoundError && /repository not found|HTTP 404/.test(error.message)) row.flags.push('repository missing');
      else {
        row.flags.push('unreadable');
        row.exitCode = error.exitCode;
      }
    }
    return row;
  });
  const notes: string[] = [];
  notes.push(...listingNotes(listings));
  await compareEnvironments(rows, request, notes);
  return { rows, notes };
}

/** Each row's drift against the other environments of its script; one compare per pair of revisions. */
async function compareEnvironments(rows: StatusRow[], request: StatusRequest, notes: string[]): Promise<void> {
  const compared = new Map<string, Promise<{ aheadBy: number; behindBy: number } | null>>();
  const failures: string[] = [];
  const compare = (base: string, head: string): Promise<{ aheadBy: number; behindBy: number } | null> => {
    const key = `${base}...${head}`;
    const reverse = compared.get(`${head}...${base}`);
    if (reverse) return reverse.then((r) => r && { aheadBy: r.behindBy, behindBy: r.aheadBy });
    let pending = compared.get(key);
    if (!pending) {
      pending = request.compare
        ? request.compare(base, head).catch((error: unknown) => {
            if (!(error instanceof PromoteError)) throw error;
            failures.push(error.message);
            return null;
          })
        : Promise.resolve(null);
      compared.set(key, pending);
    }
    return pending;
  };
  const byScript = new Map<string, StatusRow[]>();
  for (const row of rows) byScript.set(row.script, [...(byScript.get(row.script) ?? []), row]);
  const work: Promise<void>[] = [];
  for (const group of byScript.values()) {
    for (const row of group) {
      for (const other of group) {
        if (other === row) continue;
        const mine = row.current?.revision ?? null;
        const theirs = other.current?.revision ?? null;
        if (mine === null || theirs === null) {
          row.drift.push({ env: other.env, revision: theirs, state: 'unknown', aheadBy: null, behindBy: null });
        } else if (mine === theirs) {
          row.drift.push({ env: other.env, revision: theirs, state: 'same', aheadBy: 0, behindBy: 0 });
        } else {
          const drift: Drift = { env: other.env, revision: theirs, state: 'differs', aheadBy: null, behindBy: null };
          row.drift.push(drift);
          work.push(
            compare(mine, theirs).then((counts) => {
              if (counts) Object.assign(drift, counts);
            }),
          );
        }
      }
    }
  }
  await Promise.all(work);
  if (failures.length) notes.push(`commit counts between environments not shown for ${failures.length} comparison(s): ${failures[0]}`);
  if (!request.compare && rows.some((r) => r.drift.some((d) => d.state === 'differs'))) {
    notes.push('commit counts between environments not shown: GitHub is not configured for this run (set GITHUB_TOKEN, or GITHUB_API_URL=https://api.github.com to read a public repository anonymously)');
  }
}

/** What of Docker Hub's listings was not read, in one note for every repository read in part; the rate limit and changes, each said. */
function listingNotes(listings: ReadonlyMap<string, ListingState>): string[] {
  const notes: string[] = [];
  const partial = [...listings.entries()].filter(([, l]) => !l.complete);
  if (partial.length) {
    const read = partial.reduce((n, [, l]) => n + l.tagsRead, 0);
    const total = partial.reduce((n, [, l]) => n + l.tagsTotal, 0);
    const pages = partial.reduce((n, [, l]) => n + l.pagesRead, 0);
    const allPages = partial.reduce((n, [, l]) => n + l.pagesTotal, 0);
    notes.push(
      `Docker Hub: only the newest pages of ${partial.length} repositor${partial.length === 1 ? 'y' : 'ies'} were read (${read} of ${total} tags, ${pages} of ${allPages} pages: ${partial.map(([r, l]) => `${r} ${l.pagesRead}/${l.pagesTotal}`).join(', ')}): every row's current, previous-known-good and the deploys passed over are among them; older tags were not read, so links to older deploys and image live times count only the deploys read (tc-promote history <script> reads a whole pushlog)`,
    );
  }
  for (const [repository, l] of listings) {
    if (l.changed) notes.push(`${repository}: Docker Hub: the repository changed while its pages were read (tags pushed or deleted meanwhile); run status again for a settled listing`);
  }
  const limited = [...listings.values()].find((l) => l.rateLimitNote !== undefined);
  if (limited) notes.push(limited.rateLimitNote!);
  return notes;
}
