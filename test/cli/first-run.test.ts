// A first run on a fresh machine (issue 22): the README's offline examples, pasted into a shell
// in a fresh clone set up by `bash scripts/run.sh`, with the clone's bin/ on PATH as the README
// says; the package manager's lock waited for; engines that match the dependencies'.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { seedDrill } from '../../src/drill/seed.js';
import { RegistryClient } from '../../src/registry/client.js';
import { makeTempDir, startRegistry } from '../support/registry.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

/** A shell line without its comment: a # after a blank, outside quotes. */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Every example with what the README says around it: its group's comment lines and its own comment. */
export function readmeExampleNotes(text: string): { command: string; note: string }[] {
  const out: { command: string; note: string }[] = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    let pending = '';
    let group: string[] = [];
    let own = '';
    for (const raw of block[1]!.split('\n')) {
      if (raw.trim() === '' && !pending) {
        group = [];
        continue;
      }
      if (!pending && raw.trim().startsWith('#')) {
        group.push(raw.trim());
        continue;
      }
      const line = withoutComment(raw).trimEnd();
      own += raw.slice(withoutComment(raw).length);
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1).trim()} `;
        continue;
      }
      out.push({ command: `${pending}${line.trim()}`.trim(), note: `${group.join(' ')} ${own}` });
      pending = '';
      own = '';
    }
  }
  return out;
}

/** The set-up itself, and another tool's command (the decision task's taskgraph). */
const setUp = [/^bash scripts\/(run|test)\.sh\b/, /^export PATH=/, /^taskgraph decision\b/];
/** Read a registry (Docker Hub as written): run here against a local registry, with --registry. */
const readsRegistry = [/^tc-promote (history|plan|status)(?: |$)/, /^tc-promote submit .*--dry-run\b/];
/** What else an example needs, and what its README comment must say for it. */
const needs: [RegExp, RegExp][] = [
  [/^tc-promote (rollback|promote|trigger|rerun|follow|cancel|hold|release) /, /TASKCLUSTER_ROOT_URL/],
  [/^tc-promote submit (?!.*--dry-run)/, /TASKCLUSTER_ROOT_URL, _CLIENT_ID, _ACCESS_TOKEN/],
  [/^tc-promote grants --check$/, /TASKCLUSTER_ROOT_URL, _CLIENT_ID, _ACCESS_TOKEN/],
  [/^tc-promote force-push /, /GITHUB_TOKEN/],
  [/^tc-promote pools --clients \.\.\/fxci-config\//, /fxci-config checkout/],
  [/^tc-promote copy /, /docker credentials/],
];

const notes = readmeExampleNotes(readme);
const examples = notes.map((n) => n.command);
/** An example with `…` in it is a template: its comment says to fill it in. */
const template = (e: string): boolean => e.includes('…') && !/^taskgraph /.test(e);
const isSetUp = (e: string): boolean => setUp.some((r) => r.test(e));
const needsMore = (e: string): boolean => needs.some(([r]) => r.test(e));
const againstRegistry = examples.filter((e) => !template(e) && !needsMore(e) && readsRegistry.some((r) => r.test(e)));
const offline = examples.filter((e) => !template(e) && !isSetUp(e) && !needsMore(e) && !readsRegistry.some((r) => r.test(e)));

/** The README's revision and archive tag (signingscript's), pushed next to the drill's history. */
const readmeRevision = '7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';
const readmeArchiveTag = `production-20210929025643-${readmeRevision}`;

describe("the README's examples", () => {
  it('are found, and each is run here (offline, or against a local registry) or its comment says what it needs', () => {
    expect(examples.length).toBeGreaterThan(30);
    for (const e of offline) expect(e, 'an offline example is a tc-promote command (or mkdir/source)').toMatch(/^(tc-promote |mkdir |source <\(tc-promote )/);
    expect(offline).toEqual(expect.arrayContaining(['tc-promote drill', 'source <(tc-promote completion bash)', 'tc-promote validate', 'tc-promote grants', 'mkdir -p artifacts']));
    expect(againstRegistry).toEqual(expect.arrayContaining(['tc-promote plan signingscript', 'tc-promote status', `tc-promote plan signingscript --to ${readmeArchiveTag}`]));
    for (const { command, note } of notes) {
      if (template(command)) expect(note, `${command}: its comment says what to fill in`).toMatch(/fill in/);
      if (readsRegistry.some((r) => r.test(command))) expect(note, `${command}: its comment says it reads Docker Hub`).toMatch(/Docker Hub/);
      for (const [r, said] of needs) if (r.test(command)) expect(note, `${command}: its comment says what it needs`).toMatch(said);
    }
  });

  it('the README sends a user to nothing outside the repository', () => {
    expect(readme).not.toMatch(/\.\.\/shared|SPEC\.md/);
    for (const [, link] of readme.matchAll(/\]\(([^)#]+)(?:#[^)]*)?\)/g)) {
      if (/^https?:/.test(link!)) continue;
      expect(existsSync(path.join(repoRoot, link!)), `README links to ${link}`).toBe(true);
    }
    for (const file of readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md'))) {
      expect(readFileSync(path.join(repoRoot, 'docs', file), 'utf8'), `docs/${file}`).not.toMatch(/\.\.\/shared|SPEC section/);
    }
    expect(readFileSync(path.join(repoRoot, 'consumers', 'README.md'), 'utf8'), 'consumers/README.md').not.toMatch(/\.\.\/shared|SPEC section/);
  });

  it(
    'work pasted into a shell in a fresh clone after bash scripts/run.sh, with bin/ on PATH (those reading a registry with --registry, against a local one); completion registers for tc-promote',
    async () => {
      // The registry examples read a real docker-registry on loopback instead of Docker Hub:
      // the drill's history of every script, and the README's own revision and archive tag.
      const reg = await startRegistry({ auth: 'anonymous' });
      try {
        const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]) });
        const config = loadConfig(undefined);
        for (const script of config.scripts) await seedDrill(client, reg.host, config, script, Date.now());
        const repo = { registry: reg.host, repository: 'mozilla/releng-signingscript' };
        const base = layerOf([{ path: 'app/README', content: Buffer.from('the README example\n'), mtime: Date.parse('2021-09-01T00:00:00Z') }]);
        await pushImage(client, repo, base, { commit: readmeRevision, createdMs: Date.parse('2021-09-29T02:56:43Z'), source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: 'README' }, [readmeArchiveTag]);

        const clone = path.join(makeTempDir('fresh-clone-'), 'tc-promote');
        execFileSync('git', ['clone', '-q', '--no-hardlinks', repoRoot, clone]);
        // npm ci is not asked of the registry again here: the packages, as npm ci left them, and newer than the lock.
        cpSync(path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules'), { recursive: true, verbatimSymlinks: true });
        const now = new Date();
        utimesSync(path.join(clone, 'node_modules', '.package-lock.json'), now, now);
        const env = { PATH: process.env.PATH, HOME: process.env.HOME, TASK_ID: 'fXsd8WIzR9y1QRJTQNMn9A', HEAD_REF: 'refs/heads/master', CI: 'true', REG: reg.url };
        // The set-up, as the README's first command line does it (the drill's registry is Debian's, installed).
        const setUpRun = spawnSync('bash', ['scripts/run.sh', '--version'], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
        expect(setUpRun.status, setUpRun.stderr).toBe(0);
        const script = [
          'set -e',
          'export PATH="$PWD/bin:$PATH"',
          'export HEAD_REV="$(git rev-parse HEAD)"',
          ...offline.flatMap((e) => [`echo ${JSON.stringify(`$ ${e}`)}`, e.startsWith('tc-promote grants --check docs/') ? `${e} || [ $? -eq 1 ]` : e]),
          ...againstRegistry.flatMap((e) => [`echo ${JSON.stringify(`$ ${e} --registry $REG`)}`, `${e} --registry "$REG"`]),
          'complete -p tc-promote tc-promote.js',
          'echo ALL-RAN',
        ].join('\n');
        const file = path.join(clone, '.examples.sh');
        writeFileSync(file, script);
        chmodSync(file, 0o755);
        const run = spawnSync('bash', [file], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
        expect(run.stdout, `${run.stdout}\n${run.stderr}`).toContain('ALL-RAN');
        expect(run.stdout).toContain('complete -F _tc_promote tc-promote');
        expect(JSON.parse(readFileSync(path.join(clone, 'artifacts', 'actions.json'), 'utf8')).actions.map((a: { name: string }) => a.name)).toContain('promote-image');
        expect(run.stderr).not.toMatch(/EPIPE|Warning|internal error/);
        // The README's revision was what the examples named, and they found it.
        expect(run.stdout).toContain(readmeArchiveTag);
      } finally {
        await reg.stop();
      }
    },
    600_000,
  );
});

describe('engines', () => {
  /** The lowest version a range admits, for the forms dependencies use: ">=22.17.1", "22.17.1", "^20.19.0 || >=22.12.0". */
  const lowest = (range: string): [number, number, number] =>
    range
      .split('||')
      .map((r) => /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(r.trim())!)
      .map((m) => [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] as [number, number, number])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])[0]!;
  const atLeast = (a: number[], b: number[]): boolean => a[0]! > b[0]! || (a[0] === b[0] && (a[1]! > b[1]! || (a[1] === b[1] && a[2]! >= b[2]!)));

  it("package.json's engines admit no Node that a runtime dependency refuses (taskcluster-client wants 22.17.1)", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const ours = lowest(pkg.engines.node);
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
    const refused: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean; engines?: { node?: string } }>)) {
      if (!where || entry.dev || !entry.engines?.node) continue;
      if (!atLeast(ours, lowest(entry.engines.node))) refused.push(`${where} wants ${entry.engines.node}`);
    }
    expect(refused).toEqual([]);
    expect(atLeast(ours, [22, 17, 1])).toBe(true);
    // scripts/ensure-node.sh holds the machine's Node to the same version.
    expect(readFileSync(path.join(repoRoot, 'scripts', 'ensure-node.sh'), 'utf8')).toContain('b === 17 && c >= 1');
  });
});

describe("the package manager's lock", () => {
  /** An apt-get that answers as apt does while another holds the lists' lock, `busy` times, then succeeds. */
  function fakeAptGet(busy: number): { bin: string; log: string } {
    const dir = makeTempDir('fake-apt-');
    const log = path.join(dir, 'calls');
    const count = path.join(dir, 'count');
    const bin = path.join(dir, 'apt-get');
    writeFileSync(
      bin,
      `#!/bin/bash
echo "$*" >> ${JSON.stringify(log)}
n=$(cat ${JSON.stringify(count)} 2>/dev/null || echo 0); echo $((n + 1)) > ${JSON.stringify(count)}
if [ "$n" -lt ${busy} ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
  echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
  exit 100
fi
echo "installed"
`,
    );
    chmodSync(bin, 0o755);
    return { bin, log };
  }

  const helper = path.join(repoRoot, 'scripts', 'debian-packages.sh');
  const runHelper = (bin: string, wait = '600') =>
    spawnSync('bash', ['-c', `source ${JSON.stringify(helper)} && install_debian_packages sh:dash tc-promote-no-such-command:tc-promote-fake-package`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TC_PROMOTE_APT_GET: bin, TC_PROMOTE_APT_LOCK_POLL: '1', TC_PROMOTE_APT_LOCK_WAIT: wait },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('is waited for, saying so once, then the packages are installed (only the missing ones)', () => {
    if (process.getuid?.() !== 0 && spawnSync('sh', ['-c', 'command -v sudo']).status !== 0) return;
    const { bin, log } = fakeAptGet(2);
    const r = runHelper(bin);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('installing Debian packages: tc-promote-fake-package');
    expect(r.stderr.match(/waiting for the package manager's lock/g)).toHaveLength(1);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.slice(0, 3).every((c) => c.includes('update'))).toBe(true);
    expect(calls.at(-1)).toContain('install -y -qq --no-install-recommends tc-promote-fake-package');
    expect(calls.every((c) => c.startsWith('-o DPkg::Lock::Timeout=60'))).toBe(true);
  });

  it('a lock held past the limit fails, saying how long it waited', () => {
    if (process.getuid?.() !== 0 && spawnSync('sh', ['-c', 'command -v sudo']).status !== 0) return;
    const { bin } = fakeAptGet(1000);
    const r = runHelper(bin, '1');
    expect(r.status).toBe(100);
    expect(r.stderr).toContain("the package manager's lock was still held after 1 s (TC_PROMOTE_APT_LOCK_WAIT)");
  });

  it('scripts/test.sh and scripts/run.sh drill install through it', () => {
    expect(readFileSync(path.join(repoRoot, 'scripts', 'test.sh'), 'utf8')).toMatch(/source scripts\/debian-packages\.sh\n(?:.*\n)*?install_debian_packages docker-registry:docker-registry /);
    expect(readFileSync(path.join(repoRoot, 'scripts', 'run.sh'), 'utf8')).toMatch(/if \[ "\$\{1:-\}" = drill \][^\n]*\n {2}source scripts\/debian-packages\.sh\n {2}install_debian_packages docker-registry:docker-registry\n/);
  });
});

describe('bash scripts/run.sh drill on a machine without docker-registry', () => {
  // What stands in, and why: removing Debian's docker-registry from this shared machine to see
  // it installed is not acceptable, so the machine is made to look as a fresh one does to
  // run.sh. PATH is a folder of links to every program on this PATH but docker-registry
  // (install_debian_packages asks `command -v`, as the drill itself looks on PATH), and
  // apt-get is a stand-in (TC_PROMOTE_APT_GET, the helper's hook for tests) that records its
  // arguments and, for `install … docker-registry`, does what the package does to PATH: links
  // the real /usr/bin/docker-registry into that folder. The rest is real: run.sh in a fresh
  // clone (npm packages as npm ci left them, the build), then the drill against the real
  // registry binary the "install" put on PATH.
  const realRegistry = spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' }).stdout.trim();

  function machineWithout(program: string): { bin: string; log: string; aptGet: string } {
    const dir = makeTempDir('fresh-machine-');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    for (const folder of (process.env.PATH ?? '').split(':')) {
      if (!folder || !existsSync(folder) || folder === bin) continue;
      for (const name of readdirSync(folder)) {
        const target = path.join(folder, name);
        if (name === program || existsSync(path.join(bin, name))) continue;
        try {
          if (!statSync(target).isFile()) continue;
        } catch {
          continue;
        }
        symlinkSync(target, path.join(bin, name));
      }
    }
    const log = path.join(dir, 'apt-get-calls');
    const aptGet = path.join(dir, 'apt-get');
    writeFileSync(
      aptGet,
      `#!/bin/bash
echo "$*" >> ${JSON.stringify(log)}
case " $* " in
  *" install "*" ${program} "*) ln -s ${JSON.stringify(realRegistry)} ${JSON.stringify(path.join(bin, program))} ;;
esac
`,
    );
    chmodSync(aptGet, 0o755);
    return { bin, log, aptGet };
  }

  function freshClone(): string {
    const clone = path.join(makeTempDir('fresh-clone-'), 'tc-promote');
    execFileSync('git', ['clone', '-q', '--no-hardlinks', repoRoot, clone]);
    cpSync(path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules'), { recursive: true, verbatimSymlinks: true });
    const now = new Date();
    utimesSync(path.join(clone, 'node_modules', '.package-lock.json'), now, now);
    return clone;
  }

  it(
    'installs docker-registry through apt-get (update, then install), then the drill runs on it',
    () => {
      expect(realRegistry, 'the real docker-registry the stand-in links').not.toBe('');
      const { bin, log, aptGet } = machineWithout('docker-registry');
      const env = { PATH: bin, HOME: process.env.HOME, TC_PROMOTE_APT_GET: aptGet, TC_PROMOTE_APT_LOCK_POLL: '1', CI: 'true' };
      expect(spawnSync('bash', ['-c', 'command -v docker-registry'], { env }).status, 'docker-registry looks missing').not.toBe(0);
      const clone = freshClone();
      const r = spawnSync('bash', ['scripts/run.sh', 'drill'], { cwd: clone, env, encoding: 'utf8', timeout: 300_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stderr).toContain('installing Debian packages: docker-registry');
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls).toEqual(['-o DPkg::Lock::Timeout=60 update -qq', '-o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends docker-registry']);
      // The drill ran on the binary the install put there, and rolled back.
      expect(r.stdout).toContain('registry: docker-registry on http://127.0.0.1:');
      expect(r.stdout).toMatch(/\ndrill: done in [\d.]+ s; the registry was stopped/);
      expect(existsSync(path.join(bin, 'docker-registry'))).toBe(true);
    },
    600_000,
  );

  it('asks apt-get nothing when docker-registry is there', () => {
    const { log, aptGet } = machineWithout('tc-promote-no-such-program');
    const helper = path.join(repoRoot, 'scripts', 'debian-packages.sh');
    // run.sh's own lines up to the install, with this machine's PATH (docker-registry on it).
    const lines = readFileSync(path.join(repoRoot, 'scripts', 'run.sh'), 'utf8').match(/if \[ "\$\{1:-\}" = drill \][\s\S]*?\nfi\n/)![0];
    const r = spawnSync('bash', ['-c', `set -euo pipefail; set -- drill; ${lines.replace('source scripts/debian-packages.sh', `source ${JSON.stringify(helper)}`)}`], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TC_PROMOTE_APT_GET: aptGet },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(log)).toBe(false);
    expect(r.stderr).not.toContain('installing Debian packages');
  });
});
