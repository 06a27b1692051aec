// `tc-promote completion bash|zsh`: the bash script is sourced in a real bash and its function
// called with COMP_WORDS/COMP_CWORD as bash's programmable completion calls it.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../support/cli.js';
import { makeTempDir } from '../support/registry.js';

let script: string;

/** What `_tc_promote` offers for the words typed so far (the last one is being completed). */
function complete(words: string[]): string[] {
  const array = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', `source ${JSON.stringify(script)}; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _tc_promote; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', cwd: path.dirname(script) });
  return out.split('\n').filter(Boolean);
}

beforeAll(async () => {
  const r = await runCli(['completion', 'bash']);
  expect(r.code).toBe(0);
  script = path.join(makeTempDir('completion-'), 'tc-promote.bash');
  writeFileSync(script, r.stdout);
});

describe('completion bash', () => {
  it('completes commands', () => {
    expect(complete(['tc-promote', 'ro'])).toEqual(['rollback']);
    expect(complete(['tc-promote', 'st'])).toEqual(['status']);
    expect(complete(['tc-promote', ''])).toEqual(expect.arrayContaining(['history', 'plan', 'rollback', 'promote', 'status', 'drill', 'completion', '--help', '--version']));
  });

  it("completes each command's flags, its own only", () => {
    expect(complete(['tc-promote', 'history', 'signingscript', '--l'])).toEqual(['--limit']);
    expect(complete(['tc-promote', 'rollback', 'signingscript', '--no-'])).toEqual(expect.arrayContaining(['--no-wait', '--no-lease', '--no-branch-check', '--no-commits']));
    expect(complete(['tc-promote', 'history', '--no-w'])).toEqual([]);
    expect(complete(['tc-promote', 'status', '--'])).toEqual(expect.arrayContaining(['--env', '--script', '--wide', '--json', '--config', '--help']));
  });

  it('completes scripts after a command that takes one and after --script, environments after --env and --from-env', () => {
    const scripts = loadConfig().scripts;
    expect(complete(['tc-promote', 'plan', ''])).toEqual(scripts);
    expect(complete(['tc-promote', 'rollback', 'sign'])).toEqual(['signingscript']);
    expect(complete(['tc-promote', 'status', '--script', 'beet'])).toEqual(['beetmoverscript']);
    expect(complete(['tc-promote', 'plan', 'signingscript', '--env', ''])).toEqual(['production', 'dev']);
    expect(complete(['tc-promote', 'promote', 'signingscript', '--from-env', 'd'])).toEqual(['dev']);
    expect(complete(['tc-promote', 'plan', 'signingscript', '--route', 're'])).toEqual(['retag', 'rebuild', 'rerun']);
    expect(complete(['tc-promote', 'render', 'signingscript', '--format', 'm'])).toEqual(['mermaid']);
    expect(complete(['tc-promote', 'completion', ''])).toEqual(['bash', 'zsh']);
  });

  it('completes file names after --config', () => {
    writeFileSync(path.join(path.dirname(script), 'custom.yml'), '');
    expect(complete(['tc-promote', 'plan', '--config', 'cus'])).toEqual(['custom.yml']);
  });

  it('uses the scripts and environments of --config', async () => {
    const file = path.join(makeTempDir('completion-config-'), 'c.yml');
    const config = loadConfig();
    writeFileSync(file, JSON.stringify({ ...config, scripts: ['onlyscript'] }));
    const r = await runCli(['completion', 'bash', '--config', file]);
    expect(r.stdout).toContain('"onlyscript"');
    expect(r.stdout).not.toContain('signingscript');
  });
});

describe('completion zsh', () => {
  it('writes a compdef function with the same words', async () => {
    const r = await runCli(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#compdef tc-promote tc-promote.js\n/);
    expect(r.stdout).toContain("'rollback:plan, confirm, submit and follow a rollback to its end (with its record and its undo)'");
    expect(r.stdout).toContain("--env|--from-env) compadd -- 'production' 'dev'; return ;;");
    const zsh = spawnSync('zsh', ['--version']);
    if (zsh.status === 0) {
      // Parses under zsh (compdef itself needs compinit: only the syntax is checked here).
      const file = path.join(makeTempDir('completion-zsh-'), '_tc-promote');
      writeFileSync(file, r.stdout);
      expect(spawnSync('zsh', ['-n', file]).status).toBe(0);
    }
  });

  it('refuses another shell', async () => {
    const r = await runCli(['completion', 'fish']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('completion: give the shell, bash or zsh (got "fish")')]);
  });
});
