// Output that fits a release engineer's habits: --version, "did you mean" for commands,
// flags, scripts and environments, -n for --limit, JSON errors with --json, colour only on a
// terminal (never with NO_COLOR), ages in one unit.
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { paint, renderColour } from '../../src/cli/colour.js';
import { formatAge } from '../../src/util/duration.js';
import { suggest } from '../../src/util/suggest.js';
import { layerOf, pushImage } from '../../src/drill/images.js';
import { RegistryClient } from '../../src/registry/client.js';
import { runCli } from '../support/cli.js';
import { startRegistry } from '../support/registry.js';

/** main() with an io that says stdout and stderr are colour terminals. */
async function onTerminal(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { PATH: process.env.PATH, ...env }, isTty: true, colour: true });
  return { code, stdout, stderr };
}

describe('--version', () => {
  it('prints the package version and Node.js, also as JSON', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      const r = await runCli([flag]);
      expect([r.code, r.stdout]).toEqual([0, `tc-promote ${version} (Node.js ${process.version})\n`]);
    }
    expect((await runCli(['--version', '--json'])).json()).toEqual({ version, node: process.version });
  });
});

describe('did you mean', () => {
  it('suggests the command meant, by edit distance or a unique prefix, and nothing when nothing is close', async () => {
    expect(suggest('histroy', ['history', 'plan'])).toEqual(['history']);
    expect(suggest('roll', ['rollback', 'render'])).toEqual(['rollback']);
    expect(suggest('xyzzy', ['history', 'plan'])).toEqual([]);
    const r = await runCli(['histroy', 'signingscript']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tc-promote: unknown command "histroy"; did you mean history\?\n/);
    const far = await runCli(['frobnicate']);
    expect(far.stderr).toMatch(/^tc-promote: unknown command "frobnicate"\n/);
  });

  it('suggests the flag meant, the command knows of', async () => {
    const r = await runCli(['history', 'signingscript', '--lmit', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--lmit'; did you mean --limit? See tc-promote history --help");
    const plan = await runCli(['plan', 'signingscript', '--form-env', 'dev']);
    expect(plan.stderr).toContain('did you mean --from-env?');
    // A flag of another command is not suggested for this one.
    expect((await runCli(['history', 'signingscript', '--from-env', 'dev'])).stderr).not.toContain('did you mean');
  });

  it('answers at once for a name as long as an argument can be (128 KiB): no edit distance against names it cannot be near', async () => {
    const huge = 'x'.repeat(128 * 1024 - 1);
    const known = ['history', 'plan', 'render', 'submit', 'rollback', 'promote', 'status', 'drill', 'completion', 'copy', 'force-push', 'fallback'];
    const started = performance.now();
    expect(suggest(huge, known)).toEqual([]);
    expect(suggest(`${huge}y`, known)).toEqual([]);
    // Each was ~0.3 s of edit-distance tables (131,072 rows for each known name) before: a few ms now.
    expect(performance.now() - started).toBeLessThan(100);
    expect(suggest('histroy', known)).toEqual(['history']);
    for (const argv of [[huge], ['status', `--${huge}`], ['plan', huge]]) {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.stderr.length).toBeLessThan(3000);
    }
  });

  it('suggests the script and the environment meant', async () => {
    const script = await runCli(['plan', 'signingscrpt']);
    expect([script.code, script.stderr]).toEqual([2, expect.stringContaining('unknown script "signingscrpt"; did you mean signingscript?')]);
    const env = await runCli(['history', 'signingscript', '--env', 'prod']);
    expect(env.stderr).toContain('unknown environment "prod"');
    const typo = await runCli(['history', 'signingscript', '--env', 'prodution']);
    expect(typo.stderr).toContain('did you mean production?');
  });
});

describe('-n', () => {
  it('is --limit (checked the same way)', async () => {
    const r = await runCli(['history', 'signingscript', '-n', '0', '--registry', 'http://127.0.0.1:9']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('--limit: "0" is not a whole number from 1 to 10000000')]);
  });
});

describe('JSON errors with --json', () => {
  it('prints {"error": {code, exit, field, message}} on stderr, one line, and nothing else', async () => {
    const r = await runCli(['history', 'signingscript', '--limit', 'ten', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n') && r.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'usage', exit: 2, field: '--limit', message: '--limit: "ten" is not a whole number from 1 to 10000000' } });
  });

  it('names the field of configuration and environment errors, and the kind of failure', async () => {
    const clock = await runCli(['history', 'signingscript', '--json'], { TC_PROMOTE_NOW: 'yesterday' });
    expect(JSON.parse(clock.stderr).error).toMatchObject({ code: 'usage', exit: 2, field: 'TC_PROMOTE_NOW' });
    const unreachable = await runCli(['history', 'signingscript', '--registry', 'http://127.0.0.1:9', '--json'], { TC_PROMOTE_RETRY_BASE_MS: '1' });
    expect(JSON.parse(unreachable.stderr).error).toMatchObject({ code: 'operational', exit: 1 });
    const command = await runCli(['histroy', '--json']);
    expect(JSON.parse(command.stderr).error).toMatchObject({ code: 'usage', exit: 2, message: expect.stringContaining('did you mean history?') });
    const script = await runCli(['plan', 'nosuchscript', '--json']);
    expect(JSON.parse(script.stderr).error).toMatchObject({ field: 'script' });
    // The field an unknown flag names is that flag; the Taskcluster variables a rollback needs are named.
    const flag = await runCli(['history', 'signingscript', '--limt', '3', '--json']);
    expect(JSON.parse(flag.stderr).error).toMatchObject({ code: 'usage', exit: 2, field: '--limt', message: expect.stringContaining('did you mean --limit?') });
    const credentials = await runCli(['rollback', 'signingscript', '--json']);
    expect(JSON.parse(credentials.stderr).error).toMatchObject({ code: 'usage', exit: 2, field: 'TASKCLUSTER_CLIENT_ID' });
  });

  it('names the flag of a flag that cannot be parsed (unknown, missing its value, given a value it does not take)', async () => {
    const cases: [string[], string][] = [
      [['status', '--bogus', '--json'], '--bogus'],
      [['status', '--json', '--env'], '--env'],
      [['rollback', 'signingscript', '--json', '--yes=no'], '--yes'],
      [['history', 'signingscript', '--json', '--lmit', '3'], '--lmit'],
      [['history', 'signingscript', '--json', '-n'], '--limit'],
    ];
    for (const [argv, field] of cases) {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stderr).error, argv.join(' ')).toMatchObject({ code: 'usage', exit: 2, field });
    }
  });

  it('is refused by the commands whose output is not data (a completion script, a rehearsal): text on stdout where JSON was asked for', async () => {
    for (const [argv, message] of [
      [['completion', 'bash', '--json'], '--json: completion prints a shell script; leave out --json'],
      [['drill', '--json'], '--json: the drill prints a rehearsal for people; tc-promote drill --keep leaves a registry the --json commands can read'],
    ] as const) {
      const r = await runCli([...argv]);
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'usage', exit: 2, field: '--json', message } });
    }
  });

  it('never carries a credential', async () => {
    const token = 'tok-JSON-ERROR-DO-NOT-PRINT';
    const r = await runCli(['submit', 'signingscript', '--offline', '--target-tag', `production-20210929025643-${'a'.repeat(40)}`, '--json'], { TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9', TASKCLUSTER_CLIENT_ID: 'x', TASKCLUSTER_ACCESS_TOKEN: token });
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain(token);
    expect(JSON.parse(r.stderr).error.exit).toBe(r.code);
  });
});

describe('colour', () => {
  it('is drawn on a terminal only, and never with NO_COLOR or TERM=dumb', async () => {
    expect(renderColour(`${paint.current('CURRENT')}\nwarning: x`, true)).toBe('\u001b[1;32mCURRENT\u001b[0m\n\u001b[1;33mwarning:\u001b[0m x');
    expect(renderColour(`${paint.current('CURRENT')}\nwarning: x`, false)).toBe('CURRENT\nwarning: x');
    const unknown = await onTerminal(['histroy']);
    expect(unknown.stderr).not.toContain('\u001b');
    // A warning on a terminal is coloured; through a pipe (runCli) or with NO_COLOR it is not.
    const argv = ['render', 'signingscript', '--offline', '--target-tag', `production-20210929025643-${'a'.repeat(40)}`];
    expect((await onTerminal(argv)).stderr).toContain('\u001b[1;33mwarning:\u001b[0m');
    expect((await onTerminal(argv, { NO_COLOR: '1' })).stderr).not.toContain('\u001b');
    expect((await onTerminal(argv, { TERM: 'dumb' })).stderr).not.toContain('\u001b');
    expect((await runCli(argv)).stderr).not.toContain('\u001b');
  });

  it('cannot be forged by remote text: an escape sequence in a value is printed escaped', async () => {
    const r = await onTerminal(['plan', 'signing\u001b[31mscript']);
    expect(r.stderr).toContain('\\u001b[31m');
    expect(r.stderr).not.toContain('\u001b[31m');
  });
});

describe('colour marks in remote text', () => {
  it('are printed escaped, never as colour, on a terminal and off it; the command\'s own marks still colour', async () => {
    // The private-use characters paint once used as marks, in a value (a commit title, a
    // task record's error, a registry's message reach output the same way as this one).
    const forged = 'signing\uE005script\uE000';
    const r = await onTerminal(['plan', forged]);
    expect(r.stderr).not.toMatch(/\u001b\[/);
    expect(r.stderr).toContain('signing\\ue005script\\ue000');
    const piped = await runCli(['plan', forged]);
    expect(piped.stderr).toContain('signing\\ue005script\\ue000');
    expect(renderColour(`${paint.failed('failed')} \uE004completed\uE000`, true)).toBe('\u001b[1;31mfailed\u001b[0m \\ue004completed\\ue000');
    expect(renderColour(`${paint.failed('failed')} \uE004completed\uE000`, false)).toBe('failed \\ue004completed\\ue000');
  });
});

describe('ages', () => {
  it('are one unit: 45s, 12m, 2h, 85d', () => {
    expect([formatAge(45), formatAge(12 * 60 + 5), formatAge(2 * 3600 + 1800), formatAge(85 * 86400 + 7200)]).toEqual(['45s', '12m', '2h', '85d']);
  });

  it("a current deploy's AGE and LIVE agree (LIVE never longer than AGE), on the real registry", async () => {
    const reg = await startRegistry({ auth: 'anonymous' });
    try {
      const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]) });
      const base = layerOf([{ path: 'app/README', content: Buffer.from('ages\n'), mtime: 0 }]);
      const revision = 'ab'.repeat(20);
      await pushImage(client, { registry: reg.host, repository: 'mozilla/releng-signingscript' }, base, { commit: revision, createdMs: Date.parse('2021-06-01T02:00:00Z'), source: 'https://github.com/mozilla-releng/scriptworker-scripts', build: 'ages' }, ['production', `production-20210601030000-${revision}`]);
      // 43.6 s after the deploy: both columns say 44s (the live time is counted in whole seconds, rounded).
      const r = await runCli(['history', 'signingscript', '--registry', reg.url], { TC_PROMOTE_NOW: '2021-06-01T03:00:43.600Z' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^44s\s+production-20210601030000-abababababab\s+[0-9a-f]{12}\s+44s\s+CURRENT$/m);
    } finally {
      await reg.stop();
    }
  });
});
