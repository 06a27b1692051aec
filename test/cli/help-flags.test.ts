// Every command's --help names exactly the flags the command accepts: the options it hands to
// parseArgs (caught here by a parseArgs that records them), against the option lines of its
// help text (which completion and help.json read too). A flag added to a command without its
// help line, or a help line for a flag that was removed, fails here.
import { describe, expect, it, vi } from 'vitest';

const seen: { options?: Record<string, { short?: string }> } = {};
vi.mock('../../src/util/builtins.js', async (original) => {
  const actual = await original<typeof import('../../src/util/builtins.js')>();
  const parseArgs = (config: { options?: Record<string, { short?: string }> }) => {
    seen.options = config.options;
    throw new Error('recorded');
  };
  return { ...actual, util: { ...actual.util, parseArgs } };
});

const { commands, usage } = await import('../../src/cli/main.js');
const { flagsOf } = await import('../../src/cli/help-flags.js');

describe('--help and the flags accepted', () => {
  it.each(Object.keys(commands))('%s: every accepted flag has a help line, and every help line is accepted', async (name) => {
    const command = await commands[name]!.load();
    seen.options = undefined;
    await command.run(['x'], { stdout: () => undefined, stderr: () => undefined, env: {}, isTty: false }, { commands, run: async () => 0 }).catch(() => undefined);
    expect(seen.options, `${name} parsed no flags`).toBeDefined();
    const accepted = Object.entries(seen.options!).flatMap(([flag, spec]) => [`--${flag}`, ...(spec.short ? [`-${spec.short}`] : [])]);
    expect(flagsOf(command.help).sort()).toEqual(accepted.sort());
  });
});

describe('help.json cannot go stale', () => {
  it('tc-promote --help (the list of commands) comes from help.json only while commands.js (the table) is the one it was written from', async () => {
    const { readFileSync, statSync, utimesSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const dist = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
    const { fastOutput } = (await import(`${dist}help-fast.js`)) as { fastOutput: (argv: string[]) => string | undefined };
    const built = JSON.parse(readFileSync(`${dist}help.json`, 'utf8')) as { usage: string };
    expect(built.usage).toBe(usage());
    expect(fastOutput(['--help'])).toBe(built.usage);
    // commands.js rebuilt since (npx tsc without scripts/write-schemas.js): its own usage() is asked.
    const file = `${dist}commands.js`;
    const before = statSync(file);
    try {
      utimesSync(file, before.atime, new Date(before.mtimeMs + 5000));
      expect(fastOutput(['--help'])).toBeUndefined();
      expect(fastOutput(['help'])).toBeUndefined();
    } finally {
      utimesSync(file, before.atimeMs / 1000, before.mtimeMs / 1000);
    }
    expect(fastOutput(['--help'])).toBe(built.usage);
  });
});
