/** `tc-promote copy <src> <dst>`: the promote step, exact bytes, compare-and-swap, archive tag. */
import type { Config } from '../config/load.js';
import { environmentsOfDestination } from '../config/targets.js';
import { ConflictError, PromoteError, UsageError, quote } from '../errors.js';
import { checkNewArchiveTag } from '../history/new-archive-tag.js';
import { classifyTag, grammarFor } from '../history/tags.js';
import { copyImage, RacedError, type CopyResult } from '../registry/copy.js';
import type { Manifest } from '../registry/manifest.js';
import type { Provenance } from '../registry/provenance.js';
import { formatReference, isDigest, parseReference, type ImageReference } from '../registry/reference.js';
import { buildRuntime, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { finishPromotionRecord, readPromotionRecord, writePromotionRecord } from './promotion-record.js';

export const help = `Usage: tc-promote copy <src> <dst> [--expect-current DIGEST] [--archive-tag TAG] [--dry-run] [--json]

Copies the manifest of <src> to the tag of <dst> byte for byte, so the digest is unchanged and
nothing is rebuilt. Within one repository no blob is touched; across repositories of one
registry blobs are mounted; across registries they stream through without touching disk.
Multi-arch indexes are copied whole. The result is verified with a HEAD.

Before writing, /app/version.json is read from the image and its commit compared with the
revision the source tag, --archive-tag or <dst> claims; a mismatch is refused (exit 3).

Everything is checked before the first write; a refusal changes nothing:
  - --archive-tag must be an archive tag of <dst>'s environment (production-… onto
    :production), in the form <env>-<YYYYMMDDHHMMSS>-<revision>, at most 128 characters,
    dated now: not in the future (5 minutes of clock skew), not older than a day (a promote
    task's deadline); exit 2. An archive tag that exists with another digest: exit 3.
  - <dst> an archive tag of a configured environment is written only new (never rewritten),
    under the same rules, only when /app/version.json shows the revision it names, and only
    when the environment's moving tag in that repository points at the image already (it
    records a deploy that happened: the repair of a missing pushlog entry); exit 3 otherwise.
    A <dst> that looks like an archive tag but is not one (an impossible date, a revision
    that is not 40 lowercase hex) is refused (exit 2).
  - an --archive-tag that exists already (same image) is reused only when <dst> points at the
    image already (a rerun finishing the step); otherwise it records an earlier deploy, exit 3.
  - with --expect-current or --archive-tag the moving tag is read again after a short settle
    (50 ms, plus twice this run's PUT time): if another copy
    wrote after this one, exit 3
    "raced: now points at …" and no archive tag is written.
  - onto a moving tag without --expect-current or --archive-tag it warns, and prints the
    command with both.
Inside a promote task (TC_PROMOTE_PROMOTION and TC_PROMOTE_ARTIFACTS set) promotion.json is
written before anything moves (a folder that cannot be written to stops the step, exit 1);
failing to update it after the move is a warning, and the step still succeeds.

Options:
  --expect-current DIGEST   compare-and-swap: write only if <dst> points at DIGEST now
                            (or already at the source); "none": <dst> must not exist. Exit 3 otherwise.
  --archive-tag TAG         after the moving tag, write this archive tag (the pushlog entry);
                            a rerun writes it if an earlier run stopped before it
  --allow-revision-mismatch copy even when /app/version.json names another commit
  --version-layer DIGEST    the layer plan found /app/version.json in (promote tasks pass it):
                            read beside the manifest, a round trip sooner; used only when it is
                            the image's newest layer, where the search starts anyway
  --dry-run                 read and check everything, write nothing

Images are [registry/]repository[:tag|@digest]; docker.io is Docker Hub.

Example:
  tc-promote copy docker.io/mozilla/releng-signingscript@sha256:… docker.io/mozilla/releng-signingscript:production \\
    --expect-current sha256:… --archive-tag production-20261126090000-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89

${globalHelp}`;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs('copy', argv, {
    'expect-current': { type: 'string' },
    'archive-tag': { type: 'string' },
    'allow-revision-mismatch': { type: 'boolean' },
    'version-layer': { type: 'string' },
    'dry-run': { type: 'boolean' },
  });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length !== 2) throw new UsageError(`copy: takes <src> and <dst>, got ${positionals.length} argument(s); see tc-promote copy --help`);
  const runtime = buildRuntime(values, io);
  const { config, nowMs } = runtime;
  const override = (ref: ImageReference): ImageReference => (runtime.registryOverride ? { ...ref, registry: runtime.registryOverride } : ref);
  const src = override(parseReference(positionals[0]!, '<src>'));
  const dst = override(parseReference(positionals[1]!, '<dst>'));
  if (!dst.tag || dst.digest) throw new UsageError(`<dst>: ${quote(positionals[1])} must name a tag and no digest`);
  // Every flag is checked before the first request, and everything the values alone decide.
  const expectCurrent = values['expect-current'];
  if (expectCurrent !== undefined && expectCurrent !== 'none' && !isDigest(expectCurrent)) {
    throw new UsageError(`--expect-current: ${quote(expectCurrent)} is not a sha256 digest (or none)`);
  }
  const versionLayer = values['version-layer'];
  if (versionLayer !== undefined && !isDigest(versionLayer)) throw new UsageError(`--version-layer: ${quote(versionLayer)} is not a sha256 digest`);
  const archiveFlag = values['archive-tag'];
  const allowMismatch = Boolean(values['allow-revision-mismatch']);
  const dryRun = Boolean(values['dry-run']);
  // Inside a promote task: the record must be usable before anything moves.
  readPromotionRecord(io);
  const grammar = { ...grammarFor(config, nowMs), notAfterMs: undefined };
  const environments = environmentsOfDestination(config, dst);
  const dstTag = classifyTag(dst.tag, grammar);
  // The revisions this copy claims the image is: its source tag's, the archive tag's, <dst>'s.
  const claims: [string, string][] = [];
  const srcTag = src.tag !== undefined ? classifyTag(src.tag, grammar) : undefined;
  if (srcTag?.kind === 'archive' && srcTag.revision) claims.push(['<src>', srcTag.revision]);
  // <dst> an archive tag of a configured environment: a new pushlog entry, never a rewrite.
  const dstArchive = dstTag.kind === 'archive' ? checkNewArchiveTag(dst.tag, { config, nowMs, prefixes: [dstTag.env], field: '<dst>' }) : null;
  // A tag in an environment's archive namespace, dated, that history would not read as one: a typo, refused.
  if (dstTag.kind === 'ignored' && grammar.prefixes.some((p) => dst.tag!.startsWith(`${p}-`)) && /\d{14}/.test(dst.tag)) {
    throw new UsageError(`<dst>: ${quote(dst.tag)} looks like an archive tag but is not one (${dstTag.reason}): history would ignore it; an archive tag is <env>-<YYYYMMDDHHMMSS>-<40 lowercase hex revision>`);
  }
  // The moving tags whose deploy a new archive tag as <dst> records: one must hold the image already.
  const liveTags = dstArchive ? [...new Set(Object.values(config.environments).filter((e) => e.archivePrefix === dstArchive.env).map((e) => e.movingTag))] : [];
  if (dstArchive) {
    if (archiveFlag !== undefined) throw new UsageError(`--archive-tag: <dst> ${quote(dst.tag)} is an archive tag itself; give one or the other`);
    if (expectCurrent !== undefined && expectCurrent !== 'none') throw new UsageError(`--expect-current: <dst> ${quote(dst.tag)} is an archive tag, which is only ever written new (--expect-current none, or nothing)`);
    claims.push(['<dst>', dstArchive.revision]);
  }
  let archiveTag: string | undefined;
  if (archiveFlag !== undefined) {
    const prefixes = (environments.length ? environments.map((e) => e.settings) : Object.values(config.environments)).map((e) => e.archivePrefix);
    const parsed = checkNewArchiveTag(archiveFlag, { config, nowMs, prefixes: [...new Set(prefixes)], field: '--archive-tag' });
    if (environments.length === 0) {
      throw new UsageError(
        `--archive-tag: <dst> ${quote(formatReference(dst))} is not the moving tag of a configured environment (${movingTagsOf(config)}), so no pushlog records it; copy without --archive-tag, or name the moving tag`,
      );
    }
    claims.push(['--archive-tag', parsed.revision]);
    archiveTag = parsed.tag;
  }
  const claimed = claims[0]?.[1] ?? null;
  for (const [field, revision] of claims) {
    if (revision !== claimed) throw new UsageError(`${field}: names revision ${revision}, but ${claims[0]![0]} is revision ${claimed}`);
  }

  // Inside a promote task the record's first version is written before anything moves: an
  // artifacts folder that cannot be written to stops the step here, with nothing changed.
  if (!dryRun) writePromotionRecord(io, { outcome: 'started', destination: formatReference(dst), archiveTag: archiveTag ?? null }, nowMs);

  let provenance: Provenance | null = null;
  // Loaded only when there is a revision to check; with --version-layer its layer is read
  // beside the manifest, otherwise beside the compare-and-swap.
  const provenanceModule = claimed === null ? undefined : await import('../registry/provenance.js');
  const ahead = provenanceModule && versionLayer !== undefined ? provenanceModule.readLayerAhead(runtime.client, src, versionLayer) : undefined;
  const check =
    claimed === null || provenanceModule === undefined
      ? undefined
      : async (manifest: Manifest): Promise<void> => {
          provenance = await provenanceModule.readProvenance(runtime.client, src, claimed, manifest, ahead);
          const commit = provenance.version?.commit;
          if (provenance.matches === false && !allowMismatch) {
            throw new ConflictError(
              `${formatReference(src)}: /app/version.json says commit ${commit != null ? quote(commit) : '(none)'}, but the copy claims revision ${claimed}; refusing (--allow-revision-mismatch to override); nothing was written`,
            );
          }
          if (dstArchive && provenance.matches !== true && !allowMismatch) {
            throw new ConflictError(`<dst>: ${formatReference(src)} has no /app/version.json, so nothing shows it is revision ${claimed} that the archive tag ${dst.tag} would record; refusing (--allow-revision-mismatch to override); nothing was written`);
          }
        };
  let result: CopyResult;
  try {
    result = await copyImage(runtime.client, src, dst, {
      ...(expectCurrent !== undefined && { expectCurrent }),
      ...(archiveTag !== undefined && { archiveTag }),
      ...(check && { check }),
      ...(ahead && { checkReadsAhead: true }),
      ...(dstArchive && { neverRewrite: true, liveTags }),
      ...(io.signal && { signal: io.signal }),
      dryRun,
    });
  } catch (error) {
    // The record says how the step ended (best effort: the error is what matters).
    if (!dryRun && error instanceof PromoteError) {
      try {
        writePromotionRecord(io, { outcome: error instanceof RacedError ? 'raced' : 'failed', destination: formatReference(dst), archiveTag: archiveTag ?? null, error: error.message, exit: error.exitCode }, nowMs);
      } catch {
        // the error below says what went wrong
      }
    }
    throw error;
  } finally {
    ahead?.dispose();
  }
  const checked = provenance as Provenance | null;
  const warnings: string[] = [];
  if (checked && checked.version === null) warnings.push(`${formatReference(src)} has no /app/version.json: the revision ${claimed} it is said to be was not checked`);
  if (environments.length && (expectCurrent === undefined || archiveTag === undefined) && result.tag !== 'unchanged') {
    warnings.push(unguardedWarning(config, environments[0]!.env, result, expectCurrent === undefined, archiveTag === undefined, claimed, nowMs));
  }
  for (const w of warnings) io.stderr(`warning: ${w}\n`);
  // Inside a promote task the graph's record is written to public/promotion.json with what the step did.
  if (!result.dryRun) {
    const { destination, digest, previous, tag: outcome, archiveTag: archive } = result;
    const summary = checked && { commit: checked.version?.commit ?? null, matches: checked.matches };
    finishPromotionRecord(io, { destination, digest, previous, outcome, archiveTag: archive, provenance: summary }, nowMs, `${destination} ${outcome === 'written' ? 'now points at' : 'already pointed at'} ${digest}`);
  }
  if (values.json) printJson(io, { ...result, provenance: checked, warnings });
  else io.stdout(renderCopy(result, checked));
  return 0;
}

function movingTagsOf(config: Config): string {
  return Object.entries(config.environments)
    .map(([env, e]) => `${env}: ${e.source.repository}:${e.movingTag}`)
    .join(', ');
}

/** A hand copy onto a moving tag without the promote step's guards: what is missing, and the command with them. */
function unguardedWarning(config: Config, env: string, result: CopyResult, noCas: boolean, noArchive: boolean, revision: string | null, nowMs: number): string {
  const missing = [noCas && 'without compare-and-swap (--expect-current)', noArchive && 'without an archive tag (--archive-tag)'].filter(Boolean).join(' and ');
  const settings = config.environments[env]!;
  const archive = `${settings.archivePrefix}-${utcStamp(nowMs)}-${revision ?? '<revision>'}`;
  const verb = result.dryRun ? 'would be written' : 'was written';
  return `${result.destination} is the moving tag of ${env}: it ${verb} ${missing}, so ${noArchive ? 'history records no deploy of it' : 'a concurrent change would not have been noticed'}; next time: tc-promote copy ${result.source} ${result.destination} --expect-current ${result.previous ?? 'none'} --archive-tag ${archive}${revision === null ? ' (<revision>: the commit the image was built from, in its /app/version.json)' : ''}`;
}

function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function renderCopy(result: CopyResult, provenance: Provenance | null): string {
  const verb = { written: 'now points at', unchanged: 'already points at', 'would-write': 'would point at' } as const;
  const lines = [`${result.destination} ${verb[result.tag]} ${result.digest}${result.previous && result.previous !== result.digest ? ` (was ${result.previous})` : ''}`];
  // Words, not the outcome's machine name (would-write): the JSON keeps those.
  const archiveOutcome = { written: 'written', unchanged: 'exists already, unchanged', 'would-write': 'would be written' } as const;
  if (result.archiveTag) lines.push(`archive tag ${result.archiveTag.tag}: ${archiveOutcome[result.archiveTag.outcome]}`);
  const moved = result.blobs.mounted + result.blobs.streamed;
  if (moved || result.blobs.present) lines.push(`blobs: ${result.blobs.present} present, ${result.blobs.mounted} mounted, ${result.blobs.streamed} streamed`);
  if (provenance) {
    const commit = provenance.version?.commit ?? '(no /app/version.json)';
    lines.push(`provenance: /app/version.json commit ${commit}${provenance.matches === true ? ' matches' : provenance.matches === false ? ' DOES NOT MATCH' : ''} ${provenance.expectedRevision ?? ''}`.trimEnd());
  }
  if (result.dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n') + '\n';
}
