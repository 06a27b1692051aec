/**
 * Move a deploy branch to a revision, safely: only a branch the configuration allows, only
 * when the revision exists, only while the branch still has the head the caller expects (the
 * lease), with a backup ref of the old head created first and the result read back.
 *
 * GitHub's REST API has no compare-and-swap on a forced ref update, so the lease is checked
 * by reading the head twice (before the backup and again just before the update); a push in
 * the one request between the second read and the update is the remaining window, and the
 * backup ref always holds the head that was replaced as far as this run could see.
 */
import type { Config } from '../config/load.js';
import { ConflictError, PromoteError, RemoteError, UsageError, quote } from '../errors.js';
import { RefExistsError, updateWasRefused, type GitHubClient } from './client.js';
import { validateRevision } from './names.js';
import { backupRefFor, requireForcePushableBranch } from './policy.js';

export interface ForcePushOptions {
  config: Config;
  branch: string;
  revision: string;
  /** The lease: the head the branch must still have (the one seen at plan time). */
  expect?: string;
  /** Do every read, and no write. */
  dryRun?: boolean;
  /** Clock for the backup ref's name (default now). */
  nowMs?: number;
  onProgress?: (message: string) => void;
}

export interface ForcePushResult {
  repository: string;
  branch: string;
  revision: string;
  /** The head before this run: restore it with a force-push of this revision. */
  oldHead: string;
  /** The ref holding the old head (to create, with dryRun); null when nothing had to move. */
  backupRef: string | null;
  moved: boolean;
  dryRun: boolean;
}

export async function forcePushBranch(client: GitHubClient, options: ForcePushOptions): Promise<ForcePushResult> {
  // Everything that can be refused without a request is refused first.
  const { branch } = requireForcePushableBranch(options.config, options.branch, 'branch');
  const revision = validateRevision(options.revision, 'revision');
  const expect = options.expect !== undefined ? validateRevision(options.expect, 'expect') : undefined;
  const dryRun = options.dryRun ?? false;
  const progress = options.onProgress ?? (() => undefined);
  if (client.repository !== options.config.github.repository) {
    throw new UsageError(`the GitHub client is for ${quote(client.repository)} but the configuration names ${quote(options.config.github.repository)}`);
  }

  progress(`reading ${client.repository}`);
  const repository = await client.getRepository();
  if (repository.defaultBranch === branch) {
    throw new UsageError(`branch: ${quote(branch)} is the default branch of ${client.repository} on GitHub; tc-promote never force-pushes it`);
  }
  progress(`checking that ${revision} exists`);
  await client.getCommit(revision);
  progress(`reading the head of ${branch}`);
  const oldHead = await client.getBranchHead(branch);
  const result = (backupRef: string | null, moved: boolean): ForcePushResult => ({ repository: client.repository, branch, revision, oldHead, backupRef, moved, dryRun });

  // Already there: the wanted state holds whatever the lease said (a rerun after success).
  if (oldHead === revision) return result(null, false);
  if (expect !== undefined && oldHead !== expect) {
    throw new ConflictError(`branch ${quote(branch)} is at ${oldHead}, not at the expected ${expect}; it moved since the plan, nothing was changed`);
  }
  const backupRef = backupRefFor(branch, oldHead, options.nowMs ?? Date.now());
  if (dryRun) return result(backupRef, false);

  progress(`keeping the old head ${oldHead} as ${backupRef}`);
  await createBackup(client, backupRef, oldHead);
  const headNow = await client.getBranchHead(branch);
  if (headNow !== oldHead) {
    if (headNow === revision) return result(backupRef, false);
    throw new ConflictError(`branch ${quote(branch)} moved from ${oldHead} to ${headNow} while it was being backed up; nothing was changed (${backupRef} keeps ${oldHead})`);
  }

  progress(`moving ${branch} from ${oldHead} to ${revision}`);
  let updateError: unknown;
  try {
    await client.updateBranch(branch, revision, { force: true });
  } catch (error) {
    // GitHub refusing the update (a 4xx) means it did not happen; anything else decides nothing.
    if (updateWasRefused(error)) throw annotate(error, `the branch was not moved; ${backupRef} keeps ${oldHead}`);
    updateError = error;
  }
  // An update whose answer was lost or failed may still have happened: the read-back decides.
  let after: string;
  try {
    after = await client.getBranchHead(branch);
  } catch (readError) {
    throw new UnknownOutcomeError(branch, revision, oldHead, backupRef, updateError, readError);
  }
  if (after === revision) return result(backupRef, true);
  if (after === oldHead && updateError !== undefined) throw annotate(updateError, `read back: the branch was not moved; ${backupRef} keeps ${oldHead}`);
  throw new ConflictError(`branch ${quote(branch)} is at ${after} after the update to ${revision}: something else moved it; ${backupRef} keeps the old head ${oldHead}`);
}

/**
 * The forced update may or may not have happened, and the branch could not be read back. Says
 * what the branch should be, what it may be, and that a rerun decides: force-push leaves a
 * branch already at the revision alone, and moves it otherwise.
 */
export class UnknownOutcomeError extends RemoteError {
  constructor(branch: string, revision: string, oldHead: string, backupRef: string, updateError: unknown, readError: unknown) {
    const said = (error: unknown): string => (error instanceof Error ? error.message : String(error));
    const what =
      updateError === undefined
        ? `GitHub accepted the forced update of ${quote(branch)} to ${revision}, but reading the branch back failed (${said(readError)}): it should be at ${revision}`
        : `the forced update of ${quote(branch)} to ${revision} got no clear answer (${said(updateError)}) and reading the branch back failed (${said(readError)}): the outcome is unknown`;
    super(
      `${what}. The branch is either at ${revision} (moved) or still at ${oldHead} (not moved); ${backupRef} keeps ${oldHead} either way. Run the same command again: it reads the branch, leaves it alone if it is at ${revision}, and moves it otherwise`,
    );
  }
}

/** Create the backup ref; one that exists already at the same head is the same backup. */
async function createBackup(client: GitHubClient, ref: string, sha: string): Promise<void> {
  try {
    await client.createRef(ref, sha);
  } catch (error) {
    if (!(error instanceof RefExistsError)) throw error;
    const existing = await client.getRef(ref);
    if (existing?.sha !== sha) throw new ConflictError(`backup ref ${ref} exists already at ${existing?.sha ?? '(unknown)'}, not at ${sha}`);
  }
}

function annotate(error: unknown, note: string): unknown {
  if (!(error instanceof PromoteError)) return error;
  const Kind = error.constructor as new (message: string) => PromoteError;
  return new Kind(`${error.message}; ${note}`);
}
