/** `tc-promote copy <src> <dst>`: the promote step, exact bytes, compare-and-swap, archive tag. */
import { ConflictError, UsageError, quote } from '../errors.js';
import { classifyTag, grammarFor } from '../history/tags.js';
import { copyImage, type CopyResult } from '../registry/copy.js';
import type { Provenance } from '../registry/provenance.js';
import { formatReference, isDigest, parseReference, type ImageReference } from '../registry/reference.js';
import { buildRuntime, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';
import { readPromotionRecord, writePromotionRecord } from './promotion-record.js';

export const help = `Usage: tc-promote copy <src> <dst> [--expect-current DIGEST] [--archive-tag TAG] [--dry-run] [--json]

Copies the manifest of <src> to the tag of <dst> byte for byte, so the digest is unchanged and
nothing is rebuilt. Within one repository no blob is touched; across repositories of one
registry blobs are mounted; across registries they stream through without touching disk.
Multi-arch indexes are copied whole. The result is verified with a HEAD.

Before writing, /app/version.json is read from the image and its commit compared with the
revision the source tag or --archive-tag claims; a mismatch is refused.

Options:
  --expect-current DIGEST   compare-and-swap: write only if <dst> points at DIGEST now
                            (or already at the source); "none": <dst> must not exist. Exit 3 otherwise.
  --archive-tag TAG         after the moving tag, write this archive tag (the pushlog entry);
                            a rerun writes it if an earlier run stopped before it
  --allow-revision-mismatch copy even when /app/version.json names another commit
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
    'dry-run': { type: 'boolean' },
  });
  if (values.help) return io.stdout(help + '\n'), 0;
  if (positionals.length !== 2) throw new UsageError(`copy: takes <src> and <dst>, got ${positionals.length} argument(s); see tc-promote copy --help`);
  const runtime = buildRuntime(values, io);
  const override = (ref: ImageReference): ImageReference => (runtime.registryOverride ? { ...ref, registry: runtime.registryOverride } : ref);
  const src = override(parseReference(positionals[0]!, '<src>'));
  const dst = override(parseReference(positionals[1]!, '<dst>'));
  if (!dst.tag || dst.digest) throw new UsageError(`<dst>: ${quote(positionals[1])} must name a tag and no digest`);
  // Every flag is checked before the first request.
  const expectCurrent = values['expect-current'];
  if (expectCurrent !== undefined && expectCurrent !== 'none' && !isDigest(expectCurrent)) {
    throw new UsageError(`--expect-current: ${quote(expectCurrent)} is not a sha256 digest (or none)`);
  }
  // Inside a promote task: the record must be usable before anything moves.
  readPromotionRecord(io);
  const grammar = grammarFor(runtime.config, runtime.nowMs);
  let claimed: string | null = null;
  for (const [field, tag] of [['<src>', src.tag], ['--archive-tag', values['archive-tag']]] as const) {
    if (tag === undefined) continue;
    const parsed = classifyTag(tag, { ...grammar, notAfterMs: undefined });
    if (field === '--archive-tag' && parsed.kind !== 'archive') throw new UsageError(`--archive-tag: ${quote(tag)} is not an archive tag (${parsed.reason})`);
    if (parsed.kind === 'archive' && parsed.revision) {
      if (claimed !== null && claimed !== parsed.revision) throw new UsageError(`--archive-tag: ${quote(tag)} names revision ${parsed.revision}, but <src> is revision ${claimed}`);
      claimed = parsed.revision;
    }
  }
  let provenance: Provenance | null = null;
  if (claimed !== null) {
    // Loaded here: a copy by digest with no archive tag claims no revision to check.
    const { readProvenance } = await import('../registry/provenance.js');
    provenance = await readProvenance(runtime.client, src, claimed);
    if (provenance.matches === false && !values['allow-revision-mismatch']) {
      throw new ConflictError(
        `${formatReference(src)}: /app/version.json says commit ${provenance.version?.commit != null ? quote(provenance.version.commit) : '(none)'}, but the tag claims ${claimed}; refusing (--allow-revision-mismatch to override); nothing was written`,
      );
    }
  }
  const result = await copyImage(runtime.client, src, dst, {
    ...(values['expect-current'] !== undefined && { expectCurrent: values['expect-current'] }),
    ...(values['archive-tag'] !== undefined && { archiveTag: values['archive-tag'] }),
    dryRun: Boolean(values['dry-run']),
  });
  // Inside a promote task the graph's record is written to public/promotion.json with what the step did.
  if (!result.dryRun) {
    const { destination, digest, previous, tag: outcome, archiveTag } = result;
    const checked = provenance && { commit: provenance.version?.commit ?? null, matches: provenance.matches };
    writePromotionRecord(io, { destination, digest, previous, outcome, archiveTag, provenance: checked }, runtime.nowMs);
  }
  if (values.json) printJson(io, { ...result, provenance });
  else io.stdout(renderCopy(result, provenance));
  return 0;
}

function renderCopy(result: CopyResult, provenance: Provenance | null): string {
  const verb = { written: 'now points at', unchanged: 'already points at', 'would-write': 'would point at' } as const;
  const lines = [`${result.destination} ${verb[result.tag]} ${result.digest}${result.previous && result.previous !== result.digest ? ` (was ${result.previous})` : ''}`];
  if (result.archiveTag) lines.push(`archive tag ${result.archiveTag.tag}: ${result.archiveTag.outcome}`);
  const moved = result.blobs.mounted + result.blobs.streamed;
  if (moved || result.blobs.present) lines.push(`blobs: ${result.blobs.present} present, ${result.blobs.mounted} mounted, ${result.blobs.streamed} streamed`);
  if (provenance) {
    const commit = provenance.version?.commit ?? '(no /app/version.json)';
    lines.push(`provenance: /app/version.json commit ${commit}${provenance.matches === true ? ' matches' : provenance.matches === false ? ' DOES NOT MATCH' : ''} ${provenance.expectedRevision ?? ''}`.trimEnd());
  }
  if (result.dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n') + '\n';
}
