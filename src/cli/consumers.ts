/**
 * `tc-promote consumers --image REF@DIGEST --commit SHA --output DIR`: every file of consumers/
 * for a released image, with the image pinned, after checking the image is that release: the
 * digest exists in the registry (and the tag, when given, points at it), and the image's
 * /app/version.json names the release's commit.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, NotFoundError, PromoteError, UsageError, quote } from '../errors.js';
import { parseConfig } from '../config/load.js';
import { taskgraphActionModule } from '../graph/taskgraph-module.js';
import { readProvenance } from '../registry/provenance.js';
import { formatReference, parseReference, type ImageReference } from '../registry/reference.js';
import { fs } from '../util/builtins.js';
import { buildRuntime, globalHelp, parseCommandArgs, printJson, type Io } from './common.js';

const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } = fs;

export const help = `Usage: tc-promote consumers --image REF:VERSION@sha256:DIGEST --commit SHA --output DIR [--json]

Writes every consumer file (what consumers/ holds: the fxci-config patches, scriptworker-scripts'
tc-promote.yml, the .taskcluster.yml patch, the taskgraph registration actions.py and its
register() patch, the push_image.sh hold patch, and their README) for a released tc-promote
image, with the image pinned by digest in tc-promote.yml and in the .taskcluster.yml patch (the
same reference in both), and image.json saying what was checked.

Before anything is written it checks, in the registry, that the image is the release:
  - the digest exists (a manifest of that digest; exit 4 if not: push the image first, or take
    the digest from the release task's public/image.json);
  - the tag, when given, points at that digest (exit 2 if at another one: the tag moved, or the
    digest is of another build; exit 4 if the tag does not exist);
  - its /app/version.json (the newest layer holding it) names --commit, the commit the release
    tag v<VERSION> points at (exit 2 if another commit; exit 4 if the image has none: it was not
    built by scripts/build-image.sh or the release task).
Nothing is written unless every check passes. DIR must not exist or be empty; it is written
whole (a temporary folder renamed into place).

Options:
  --image REF       the released image, pinned: <registry/repository>[:<version>]@sha256:<digest>
  --commit SHA      the release's commit (40 hex), e.g. "$(git rev-parse v0.1.0^{commit})"
  --output DIR      where to write the files (the layout of consumers/)

With --registry URL the image is read from that registry (a mirror, a local one) while the
files name the reference as given.

Example:
  tc-promote consumers --image mozillareleases/tc-promote:0.1.0@sha256:… \\
    --commit "$(git rev-parse v0.1.0^{commit})" --output /tmp/consumers-0.1.0

${globalHelp}`;

/** The placeholder the checked-in consumer files carry until a release pins them. */
const placeholder = /mozillareleases\/tc-promote:[A-Za-z0-9_.-]+@sha256:0{64}/g;
const consumersDir = fileURLToPath(new URL('../../consumers/', import.meta.url));

/** The consumer files (relative path, / separated → contents) for `reference`, from consumers/ (pure: reads the shipped templates only). */
export function consumerFiles(reference: string, commit: string, digest: string): Map<string, string> {
  if (!existsSync(consumersDir)) throw new PromoteError(`the consumer templates are missing (${consumersDir}): this installation of tc-promote is incomplete`, ExitCode.operational);
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), relative);
      else files.set(relative, readFileSync(path.join(dir, entry.name), 'utf8'));
    }
  };
  walk(consumersDir, '');
  const pin = (name: string, edit: (text: string) => string): void => {
    const text = files.get(name);
    if (text === undefined) throw new PromoteError(`the consumer template ${name} is missing from ${consumersDir}`, ExitCode.operational);
    const count = text.match(placeholder)?.length ?? 0;
    if (count === 0) throw new PromoteError(`the consumer template ${name} holds no placeholder image (mozillareleases/tc-promote:<version>@sha256:000…) to pin`, ExitCode.operational);
    files.set(name, edit(text.replace(placeholder, reference)));
  };
  pin('scriptworker-scripts/tc-promote.yml', (text) =>
    text.replace(
      /^# The digest is a placeholder until[\s\S]*?# warns about it\.\n/m,
      `# Pinned by \`tc-promote consumers\` to ${reference}:\n# the digest exists in the registry and its /app/version.json names commit ${commit}.\n`,
    ),
  );
  // The blob ids of the `index` line are the old file's and the template's: git apply needs neither.
  pin('scriptworker-scripts/taskcluster.yml.patch', (text) => text.replace(/^index [0-9a-f]+\.\.[0-9a-f]+( \d+)?\n/m, ''));
  const config = parseConfig(files.get('scriptworker-scripts/tc-promote.yml')!, 'scriptworker-scripts/tc-promote.yml');
  if (config.taskcluster.image !== reference) throw new PromoteError(`scriptworker-scripts/tc-promote.yml: taskcluster.image is ${quote(config.taskcluster.image)} after pinning, not ${quote(reference)}`, ExitCode.operational);
  files.set('scriptworker-scripts/actions.py', taskgraphActionModule(config));
  files.set(
    'README.md',
    `<!-- Written by \`tc-promote consumers\` for ${reference} (commit ${commit}); the image is pinned in
scriptworker-scripts/tc-promote.yml and scriptworker-scripts/taskcluster.yml.patch. -->\n\n${files.get('README.md') ?? ''}`,
  );
  files.set('image.json', `${JSON.stringify({ reference, digest, commit }, null, 2)}\n`);
  return files;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs('consumers', argv, { image: { type: 'string' }, commit: { type: 'string' }, output: { type: 'string' } }, false);
  if (values.help) return io.stdout(help + '\n'), 0;
  if (values.image === undefined) throw new UsageError('--image: missing; name the released image by tag and digest, e.g. --image mozillareleases/tc-promote:0.1.0@sha256:… (the release task publishes it as public/image.json)');
  const named = parseReference(values.image, '--image');
  if (named.digest === undefined) throw new UsageError(`--image: ${quote(values.image)} names no digest; every action task pulls the image by digest, so give REF@sha256:<digest> (public/image.json of the release task)`);
  if (values.commit === undefined) throw new UsageError('--commit: missing; the commit of the release, e.g. --commit "$(git rev-parse v0.1.0^{commit})": the image\'s /app/version.json must name it');
  if (!/^[0-9a-f]{40}$/.test(values.commit)) throw new UsageError(`--commit: ${quote(values.commit)} is not a 40-hex commit (git rev-parse v<version>^{commit} prints it)`);
  if (values.output === undefined) throw new UsageError('--output: missing; the folder to write the consumer files to (it must not exist, or be empty)');
  const output = path.resolve(values.output);
  if (existsSync(output) && readdirSync(output).length > 0) throw new UsageError(`--output: ${quote(values.output)} exists and is not empty; give a new folder (nothing was written)`);
  const commit = values.commit;
  const runtime = buildRuntime(values, io);
  const reference = values.image;
  const read: ImageReference = runtime.registryOverride ? { ...named, registry: runtime.registryOverride } : named;
  const byDigest: ImageReference = { registry: read.registry, repository: read.repository, digest: named.digest };
  const manifest = await runtime.client.getManifest(byDigest);
  if (!manifest) {
    throw new NotFoundError(`--image: ${formatReference(byDigest)} does not exist in the registry: push the release image first (skopeo copy --preserve-digests keeps its digest), or take the digest from the release task's public/image.json`);
  }
  if (named.tag !== undefined) {
    const tagged = await runtime.client.getManifest({ registry: read.registry, repository: read.repository, tag: named.tag });
    if (!tagged) throw new NotFoundError(`--image: tag ${quote(named.tag)} of ${formatReference({ registry: read.registry, repository: read.repository })} does not exist; the release pushes <version> and the digest together: check the version, or push the tag`);
    if (tagged.digest !== manifest.digest) {
      throw new UsageError(`--image: tag ${quote(named.tag)} points at ${tagged.digest}, not ${manifest.digest}: the tag moved, or the digest is of another build; take both from the release task's public/image.json`);
    }
  }
  const provenance = await readProvenance(runtime.client, byDigest, commit, manifest);
  if (provenance.version === null) {
    throw new NotFoundError(`--image: ${formatReference(byDigest)} has no /app/version.json in any of its ${provenance.layersRead} layer(s): it was not built by scripts/build-image.sh or the release task, so which commit it runs cannot be checked`);
  }
  if (provenance.matches !== true) {
    throw new UsageError(`--image: ${formatReference(byDigest)}'s /app/version.json names commit ${provenance.version.commit ?? '(none)'}, not --commit ${commit}: it is another build than the release; build it from the release tag (scripts/build-image.sh --revision v<version>) or give that build's commit`);
  }
  const files = consumerFiles(reference, commit, manifest.digest);
  // Whole or not at all: a temporary sibling folder, renamed into place.
  const parent = path.dirname(output);
  mkdirSync(parent, { recursive: true });
  const temporary = path.join(parent, `.${path.basename(output)}.${process.pid}.tmp`);
  rmSync(temporary, { recursive: true, force: true });
  try {
    for (const [name, text] of files) {
      const file = path.join(temporary, ...name.split('/'));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    if (existsSync(output)) rmSync(output, { recursive: true });
    renameSync(temporary, output);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw new PromoteError(`--output: cannot write ${quote(values.output)}: ${(error as NodeJS.ErrnoException).code ?? String(error)} (nothing was written)`, ExitCode.operational);
  }
  const checked = { reference, digest: manifest.digest, commit, versionLayer: provenance.layer, output, files: [...files.keys()] };
  if (values.json) printJson(io, checked);
  else {
    io.stdout(`${reference}: digest exists, ${named.tag !== undefined ? `tag ${named.tag} points at it, ` : ''}its /app/version.json names commit ${commit}\n`);
    io.stdout(`wrote ${files.size} files to ${output}:\n${[...files.keys()].map((f) => `  ${f}\n`).join('')}`);
    io.stdout(`next: apply them as ${path.join(output, 'README.md')} says (scriptworker-scripts first, then fxci-config)\n`);
  }
  return 0;
}
