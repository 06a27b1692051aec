/** `tc-promote force-push --branch B --revision SHA`: the branch step of a rollback. */
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { githubClientFromEnvironment } from '../github/client.js';
import { githubSecretKey } from '../github/credentials.js';
import { forcePushBranch, type ForcePushResult } from '../github/force-push.js';
import { validateRevision } from '../github/names.js';
import { backupNamespace, requireForcePushableBranch } from '../github/policy.js';
import { githubTransport } from './github-options.js';
import { finishPromotionRecord, readPromotionRecord, writePromotionRecord } from './promotion-record.js';
import { clock, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { table } from './table.js';

export const help = `Usage: tc-promote force-push --branch B --revision SHA [--expect SHA] [--dry-run] [--json]

Moves one script's deploy branch (production-<script>, dev-<script>: the configuration's
deployBranch patterns for the configured scripts) to a revision with a forced update, so the
image task rebuilds that revision. Never the default branch nor a shared branch (production,
dev). Before moving it checks that the revision exists, reads the branch head, refuses with
exit 3 when --expect is given and the head is another commit, and keeps the old head as the
branch ${backupNamespace}/<branch>/<YYYYMMDDHHMMSS>-<old head>. Then it reads the branch back.
A branch already at the revision is left alone (exit 0).

Options:
  --branch B       the deploy branch to move
  --revision SHA   the full 40-hex commit to move it to
  --expect SHA     the lease: the head the branch must still have (refuse with exit 3 otherwise);
                   without it the branch is moved from whatever it holds, with a warning
  --dry-run        do every read, write nothing, and say what would happen

Credentials: GITHUB_TOKEN, or inside a task (TASKCLUSTER_PROXY_URL set) the field
${githubSecretKey} of the configured Taskcluster secret (taskcluster.secrets.github); GITHUB_TOKEN
wins when both are present. The token needs contents: write on the repository. --dry-run
works without a token on a public repository. GITHUB_API_URL sets another API base (GitHub
Enterprise: https://HOST/api/v3).

Output: a table, or with --json {repository, branch, revision, oldHead, backupRef, moved, dryRun}.
Inside a task (TC_PROMOTE_PROMOTION and TC_PROMOTE_ARTIFACTS set) it also writes
promotion.json: the graph's record with time, outcome (force-pushed, already-there), branch,
revision, oldHead, backupRef and moved.

Examples:
  tc-promote force-push --branch production-signingscript --revision 7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89 --dry-run
  tc-promote force-push --branch production-signingscript --revision 7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89 \\
      --expect 0123456789abcdef0123456789abcdef01234567

${globalHelp}`;

const options = {
  branch: { type: 'string' },
  revision: { type: 'string' },
  expect: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('force-push', argv, options, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length) throw new UsageError('force-push: takes no positional arguments; see tc-promote force-push --help');
  const config = loadConfig(values.config);
  // Every flag is checked before any request, the secret's included.
  const { branch } = requireForcePushableBranch(config, values.branch, '--branch');
  const revision = validateRevision(values.revision, '--revision');
  const expect = values.expect !== undefined ? validateRevision(values.expect, '--expect') : undefined;
  const dryRun = values['dry-run'] ?? false;
  const nowMs = clock(io.env);
  // Inside the rebuild route's task: the record must be usable, and its folder writable, before anything moves.
  readPromotionRecord(io);
  if (!dryRun) writePromotionRecord(io, { outcome: 'started', branch, revision }, nowMs);
  const verbose = io.isTty || values.debug === true;
  const client = await githubClientFromEnvironment(io.env, config, {
    requireToken: !dryRun,
    transport: githubTransport(io, verbose),
    ...(io.redactor && { redactor: io.redactor }),
  });
  const result = await forcePushBranch(client, {
    config,
    branch,
    revision,
    ...(expect !== undefined && { expect }),
    dryRun,
    nowMs,
    onProgress: (message) => {
      if (verbose) io.stderr(`${message}\n`);
    },
  });
  // A forced update without a lease replaces whatever the branch holds: say so (the graph's
  // task description says it too).
  if (expect === undefined && result.oldHead !== result.revision) {
    io.stderr(
      `warning: no lease (--expect): ${branch} ${result.dryRun ? 'would be moved' : 'was moved'} from ${result.oldHead} without checking that it is the head seen when the move was planned; its old head ${result.dryRun ? 'would be' : 'is'} kept as ${result.backupRef ?? 'a backup ref'}\n`,
    );
  }
  if (!result.dryRun) {
    const { oldHead, backupRef, moved } = result;
    finishPromotionRecord(io, { outcome: moved ? 'force-pushed' : 'already-there', branch: result.branch, revision: result.revision, oldHead, backupRef, moved }, nowMs, `${result.branch} is at ${result.revision}`);
  }
  if (values.json) {
    const { repository, oldHead, backupRef, moved } = result;
    printJson(io, { repository, branch: result.branch, revision: result.revision, oldHead, backupRef, moved, dryRun: result.dryRun });
  } else {
    io.stdout(renderForcePush(result));
  }
  return 0;
}

/** The branch move as a table: shared by force-push and fallback. */
export function forcePushTable(result: ForcePushResult): string {
  return table(
    ['FIELD', 'VALUE'],
    [
      ['branch', result.branch],
      ['revision', result.revision],
      ['old head', result.oldHead],
      ['backup ref', result.backupRef ?? '-'],
      ['moved', result.moved ? 'yes' : 'no'],
      ['dry run', result.dryRun ? 'yes' : 'no'],
    ],
  );
}

export function undoHint(result: ForcePushResult): string {
  return `To undo: tc-promote force-push --branch ${result.branch} --revision ${result.oldHead} --expect ${result.revision}`;
}

export function renderForcePush(result: ForcePushResult): string {
  const noop = result.oldHead === result.revision;
  const outcome = noop ? 'already there' : result.dryRun ? 'dry run' : result.moved ? 'moved' : 'moved by someone else';
  const lines = [`force-push: ${result.repository} ${result.branch}: ${outcome}`, '', forcePushTable(result), ''];
  if (noop) lines.push(`${result.branch} is already at ${result.revision}; nothing was written.`);
  else if (result.dryRun) lines.push(`Would keep ${result.oldHead} as ${result.backupRef} and move ${result.branch} to ${result.revision}; nothing was written.`);
  if (result.moved) lines.push(undoHint(result));
  return lines.join('\n') + '\n';
}
