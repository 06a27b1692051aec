// Every line fits the terminal (issue 22), measured at COLUMNS=80 and 120 against a realistic
// history in a real registry (the drill's seed, every script): prose wraps, tables shorten or
// drop columns; only a command meant to be pasted (or one value alone on its line) is longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { seedDrill } from '../../src/drill/seed.js';
import { isCommand, widest } from '../../src/present/layout.js';
import { commands as commandTable } from '../../src/cli/commands.js';
import { RegistryClient } from '../../src/registry/client.js';
import { runCli, runCliProcess } from '../support/cli.js';
import { startRegistry, type RunningRegistry } from '../support/registry.js';

const now = '2026-12-01T00:00:00Z';
let reg: RunningRegistry;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'anonymous' });
  const client = new RegistryClient({ plainHttpHosts: new Set([reg.host]) });
  const config = loadConfig(undefined);
  for (const script of config.scripts) await seedDrill(client, reg.host, config, script, Date.parse(now));
}, 180_000);
afterAll(async () => {
  await reg?.stop();
});

const commands: [string, () => string[]][] = [
  ['history', () => ['history', 'signingscript', '--registry', reg.url]],
  ['history --env dev', () => ['history', 'signingscript', '--env', 'dev', '--registry', reg.url]],
  ['plan', () => ['plan', 'signingscript', '--registry', reg.url]],
  ['plan --route rebuild', () => ['plan', 'signingscript', '--route', 'rebuild', '--registry', reg.url]],
  ['plan --from-env dev', () => ['plan', 'signingscript', '--from-env', 'dev', '--registry', reg.url]],
  ['status', () => ['status', '--registry', reg.url]],
  ['submit --dry-run', () => ['submit', 'signingscript', '--dry-run', '--reason', 'signing fails', '--registry', reg.url]],
  ['grants', () => ['grants']],
  ['validate', () => ['validate']],
  ['a --min-live refusal', () => ['plan', 'signingscript', '--min-live', '400d', '--registry', reg.url]],
];

describe.each(['80', '120'])('COLUMNS=%s', (columns) => {
  it.each(commands)('%s: every line fits, but a command or a value to paste', async (_, args) => {
    const r = await runCli(args(), { COLUMNS: columns, TC_PROMOTE_NOW: now });
    expect(r.code, r.stderr).toBeLessThanOrEqual(4);
    const text = `${r.stdout}${r.stderr}`;
    const { prose } = widest(text);
    const over = text.split('\n').filter((l) => l.length > Number(columns) && !isCommand(l) && !/^\s*\S+$/.test(l) && !/^\s*[\w ()-]+:\s*$/.test(l));
    expect(over, over.join('\n')).toEqual([]);
    expect(prose).toBeLessThanOrEqual(Number(columns));
  });

  it('--wide keeps everything whole', async () => {
    const r = await runCli(['history', 'signingscript', '--wide', '--registry', reg.url], { COLUMNS: columns, TC_PROMOTE_NOW: now });
    expect(r.stdout).toMatch(/ sha256:[0-9a-f]{64}\n/);
    expect(r.stdout).toMatch(/production-\d{14}-[0-9a-f]{40}/);
    expect(widest(r.stdout).any).toBeGreaterThan(Number(columns));
  });
});

describe('at 80 columns', () => {
  it('history drops DIGEST, status drops AGE and DIGEST; at 120 both keep them', async () => {
    const at = async (columns: string, args: string[]) => (await runCli(args, { COLUMNS: columns, TC_PROMOTE_NOW: now })).stdout;
    expect(await at('80', ['history', 'signingscript', '--registry', reg.url])).toMatch(/\nAGE +TAG +LIVE +NOTES\n/);
    expect(await at('120', ['history', 'signingscript', '--registry', reg.url])).toMatch(/\nAGE +TAG +DIGEST +LIVE +NOTES\n/);
    expect(await at('80', ['status', '--registry', reg.url])).toMatch(/^SCRIPT +ENV +CURRENT +PREV-GOOD +DRIFT +FLAGS\n/);
    expect(await at('120', ['status', '--registry', reg.url])).toMatch(/^SCRIPT +ENV +CURRENT +AGE +DIGEST +PREVIOUS-KNOWN-GOOD +DRIFT +FLAGS\n/);
  });

  it('prose wraps under its label, and a pasteable command is whole on its own line', async () => {
    const out = (await runCli(['plan', 'signingscript', '--registry', reg.url], { COLUMNS: '80', TC_PROMOTE_NOW: now })).stdout;
    expect(out).toMatch(/\n {2}next:\n {4}tc-promote rollback signingscript --env production --to production-\d{14}-[0-9a-f]{40} --route retag --reason 'WHY' --registry \S+\n/);
    expect(out).toMatch(/\n {2}commits: {3}not listed: GitHub is not configured for this run \(set\n {13}GITHUB_TOKEN/);
  });
});

// The same rule as a person meets it: the built command in its own process, its output into a
// pipe (no terminal), with COLUMNS=80 and with COLUMNS unset (120). What may be longer is held
// here apart from src/present/layout.ts's own idea of it: a line that is a tc-promote command
// (a known command name after `tc-promote `, perhaps after an indent and a short label, or after
// `$ ` as the drill shows a step it runs), or
// one value alone on its line (a reference or a digest, which no break can shorten).
describe.each([
  ['80', 80],
  [undefined, 120],
])('as a process into a pipe, COLUMNS=%s', (columns, width) => {
  const known = Object.keys(commandTable).join('|');
  const pasteable = new RegExp(`^\\s*(?:\\$ )?(?:[\\w-]+(?: [\\w()-]+){0,3}:\\s+)?(?:\\S*/)?tc-promote (?:${known}) (?!\\S*: )`);
  const tooLong = (text: string): string[] =>
    text.split('\n').filter((l) => [...l].length > width && !pasteable.test(l) && !/^\s*\S+$/.test(l));
  const credentials = { TASKCLUSTER_ROOT_URL: 'http://127.0.0.1:9', TASKCLUSTER_CLIENT_ID: 'someone', TASKCLUSTER_ACCESS_TOKEN: 'not-a-real-token' };
  const typical: [string, () => string[], Record<string, string>?][] = [
    ['history', () => ['history', 'signingscript', '--registry', reg.url]],
    ['history --env dev', () => ['history', 'signingscript', '--env', 'dev', '--registry', reg.url]],
    ['status', () => ['status', '--registry', reg.url]],
    ['plan', () => ['plan', 'signingscript', '--registry', reg.url]],
    ['plan --route rebuild', () => ['plan', 'signingscript', '--route', 'rebuild', '--registry', reg.url]],
    ['plan --from-env dev', () => ['plan', 'beetmoverscript', '--from-env', 'dev', '--registry', reg.url]],
    ['submit --dry-run', () => ['submit', 'signingscript', '--dry-run', '--reason', 'signing fails with the new image', '--fallback', '--registry', reg.url]],
    ['grants', () => ['grants']],
    ['grants --script', () => ['grants', '--script', 'signingscript']],
    // Without a terminal the confirmation is refused, after what would move is printed: the text a person confirms.
    ['the rollback confirmation', () => ['rollback', 'signingscript', '--reason', 'signing fails with the new image', '--fallback', '--registry', reg.url], credentials],
    ['error: --skip matching nothing', () => ['plan', 'signingscript', '--skip', '0000000', '--registry', reg.url]],
    ['error: a --min-live refusal', () => ['plan', 'signingscript', '--min-live', '400d', '--registry', reg.url]],
    ['error: an unknown script', () => ['history', 'nosuchscript', '--registry', reg.url]],
    ['error: a bad flag value', () => ['history', 'signingscript', '--limit', 'many', '--registry', reg.url]],
    ['error: connection refused', () => ['history', 'signingscript', '--registry', 'http://127.0.0.1:9'], { TC_PROMOTE_RETRY_BASE_MS: '1' }],
    ['error: submit without credentials', () => ['submit', 'signingscript', '--reason', 'x', '--registry', reg.url]],
    ['error: an unknown flag', () => ['plan', 'signingscript', '--min-lve', '3d']],
    // Its steps shown as run (`$ tc-promote copy …`), and what they print.
    ['drill', () => ['drill']],
  ];
  it.each(typical)('%s: no line is longer, but a command to paste', async (_, args, extra = {}) => {
    const r = await runCliProcess(args(), { COLUMNS: columns, TC_PROMOTE_NOW: now, ...extra });
    expect(r.code, r.stderr).toBeLessThanOrEqual(4);
    const text = `${r.stdout}${r.stderr}`;
    expect(text.trim()).not.toBe('');
    expect(tooLong(text), text).toEqual([]);
  });

  it("render's warnings on stderr fit too; its graph on stdout is a program's, whole", async () => {
    const tag = 'production-20210929025643-7995c5bb123bbfc25e3d7f81c46f3d7ba49cbe89';
    const r = await runCliProcess(['render', 'signingscript', '--offline', '--format', 'dot', '--route', 'rebuild', '--target-tag', tag, '--target-digest', `sha256:${'0123456789abcdef'.repeat(4)}`], { COLUMNS: columns });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: ');
    expect(tooLong(r.stderr), r.stderr).toEqual([]);
    expect(r.stdout).toMatch(/tooltip="[^"\n]{121,}"/);
  });

  it('the errors wrap, and a command inside one stays whole', async () => {
    const r = await runCliProcess(['plan', 'signingscript', '--skip', '0000000', '--registry', reg.url], { COLUMNS: columns, TC_PROMOTE_NOW: now });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').length).toBeGreaterThan(1);
    expect(r.stderr).toMatch(/(?:^|\s)tc-promote history signingscript --env production(?:\s|$)/);
  });

  it('--wide keeps everything whole', async () => {
    const r = await runCliProcess(['history', 'signingscript', '--wide', '--registry', reg.url], { COLUMNS: columns, TC_PROMOTE_NOW: now });
    expect(r.stdout).toMatch(/ sha256:[0-9a-f]{64}\n/);
    expect(Math.max(...r.stdout.split('\n').map((l) => l.length))).toBeGreaterThan(width);
  });
});
