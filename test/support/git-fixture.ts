// A real git repository for the GitHub emulator: a bare repository whose default branch
// holds a short line of commits, with shared (production, dev) and per-script deploy branches
// (production-<script>, dev-<script>) pointing at older commits, the way scriptworker-scripts
// looks. Built with one `git fast-import` run, so a fixture costs a few milliseconds.
//
//   const repo = createGitFixture({ scripts: ['signingscript'] });
//   repo.commits        // default-branch commits, oldest first
//   repo.rev('refs/heads/production-signingscript')
//   repo.cleanup()      // also done at process exit

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './registry.js';

export interface GitFixtureOptions {
  /** Scripts that get production-<script> and dev-<script> branches (default signingscript, beetmoverscript). */
  scripts?: string[];
  /** Commits on the default branch (default 5, at least 2). */
  commits?: number;
  defaultBranch?: string;
  /** Index into `commits` for the production branches (default 1) and the dev branches (default commits - 2). */
  productionAt?: number;
  devAt?: number;
  /** More branches: name → index into `commits`. */
  branches?: Record<string, number>;
}

export interface GitFixture {
  /** The bare repository. */
  gitDir: string;
  defaultBranch: string;
  /** The default branch's commits, oldest first. */
  commits: string[];
  /** `git rev-parse --verify` of a ref or revision; null when it does not resolve. */
  rev(ref: string): string | null;
  /** Run git against the bare repository; returns stdout, trimmed. */
  git(...args: string[]): string;
  /** Every ref and the commit it points at. */
  refs(): Record<string, string>;
  cleanup(): void;
}

const folders = new Set<string>();
let exitHook = false;

export function createGitFixture(options: GitFixtureOptions = {}): GitFixture {
  const scripts = options.scripts ?? ['signingscript', 'beetmoverscript'];
  const count = Math.max(2, options.commits ?? 5);
  const defaultBranch = options.defaultBranch ?? 'master';
  const productionAt = options.productionAt ?? 1;
  const devAt = options.devAt ?? count - 2;
  const root = makeTempDir('tc-promote-git-');
  folders.add(root);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
  }
  const gitDir = path.join(root, 'repo.git');
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
  const git = (...args: string[]): string => execFileSync('git', ['--git-dir', gitDir, ...args], { env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
  execFileSync('git', ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, gitDir], { env });

  // One fast-import stream: the commit line, then every branch as a reset to a mark.
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let stream = '';
  for (let i = 0; i < count; i++) {
    const when = 1_600_000_000 + i * 86_400;
    stream += `commit refs/heads/${defaultBranch}\nmark :${i + 1}\n`;
    stream += `author Release Engineer <releng@example.com> ${when} +0000\ncommitter Release Engineer <releng@example.com> ${when} +0000\n`;
    stream += data(`Commit ${i}`);
    stream += `M 644 inline version.txt\n${data(`${i}\n`)}\n`;
  }
  const branches: Record<string, number> = { production: productionAt, dev: devAt };
  for (const script of scripts) {
    branches[`production-${script}`] = productionAt;
    branches[`dev-${script}`] = devAt;
  }
  Object.assign(branches, options.branches ?? {});
  for (const [name, index] of Object.entries(branches)) {
    if (index < 0 || index >= count) throw new Error(`fixture branch ${name}: no commit ${index}`);
    stream += `reset refs/heads/${name}\nfrom :${index + 1}\n\n`;
  }
  const marks = path.join(root, 'marks');
  execFileSync('git', ['--git-dir', gitDir, 'fast-import', '--quiet', `--export-marks=${marks}`], { env, input: stream });
  const byMark = new Map(
    readFileSync(marks, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  const commits = Array.from({ length: count }, (_, i) => byMark.get(`:${i + 1}`)!);

  return {
    gitDir,
    defaultBranch,
    commits,
    git,
    rev(ref) {
      try {
        return git('rev-parse', '--verify', '--quiet', ref);
      } catch {
        return null;
      }
    },
    refs() {
      const out = git('for-each-ref', '--format=%(refname) %(objectname)');
      return Object.fromEntries(out ? out.split('\n').map((line) => line.split(' ') as [string, string]) : []);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
      folders.delete(root);
    },
  };
}
