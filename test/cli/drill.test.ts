// `tc-promote drill`: the rehearsal a new user runs first. It needs nothing but Debian's
// docker-registry, works offline, leaves nothing behind (also on Ctrl-C), and with --keep
// leaves a registry that the printed commands work against.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { binPath, runCli, runCliProcess } from '../support/cli.js';
import { makeTempDir } from '../support/registry.js';
import { startHostileServer, json } from '../support/hostile-server.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !alive(pid);
}

const where = (stdout: string) => {
  const m = /registry: docker-registry on (http:\/\/127\.0\.0\.1:\d+), process (\d+), storage (\S+)\n/.exec(stdout);
  if (!m) throw new Error(`no registry line in:\n${stdout}`);
  return { url: m[1]!, pid: Number(m[2]), dir: m[3]! };
};

describe('tc-promote drill', () => {
  it('rehearses a rollback offline in a few seconds, runs the real commands, and removes everything', async () => {
    // Taskcluster and GitHub set in the environment are never contacted by the drill's steps.
    const outside = await startHostileServer((_req, res) => json(res, 500, { message: 'the drill must not call me' }));
    try {
      const started = Date.now();
      const r = await runCliProcess(['drill'], { TASKCLUSTER_ROOT_URL: outside.url, TASKCLUSTER_CLIENT_ID: 'x', TASKCLUSTER_ACCESS_TOKEN: 'y', GITHUB_API_URL: outside.url, GITHUB_TOKEN: 'ghp_x' });
      const ms = Date.now() - started;
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(ms).toBeLessThan(30_000);
      const { url, pid, dir } = where(r.stdout);
      for (const step of [`$ tc-promote history signingscript --limit 12 --registry ${url}`, `$ tc-promote plan signingscript --registry ${url}`, '$ tc-promote copy ', `$ tc-promote history signingscript --limit 5 --registry ${url}`, `$ tc-promote status --registry ${url}`]) {
        expect(r.stdout).toContain(step);
      }
      // The seeded pushlog: the three eras, the rebuild rollback, dev ahead.
      expect(r.stdout).toMatch(/production-4\.\d\.0-\d{14}-[0-9a-f]*…? /);
      expect(r.stdout).toMatch(/production-\d{14}- /);
      expect(r.stdout).toMatch(/rebuild of production-\d{14}\b/);
      expect(r.stdout).toContain('default rollback target');
      // The promote step moved production; history shows it as the newest deploy, a promotion of the target.
      expect(r.stdout).toMatch(/:production now points at sha256:[0-9a-f]{64} \(was sha256:[0-9a-f]{64}\)\narchive tag production-\d{14}-[0-9a-f]{40}: written\nprovenance: \/app\/version\.json commit ([0-9a-f]{40}) matches \1/);
      expect(r.stdout).toMatch(/\n\d+s\s+production-\d{14}-[0-9a-f]{12}\s+[0-9a-f]{12}\s+\d+s\s+CURRENT, promoted from production-\d{14}/);
      // status: every script and environment; signingscript production is now a rollback.
      expect(r.stdout).toMatch(/\nsigningscript\s+production\s+[0-9a-f]{12}\s+\d+s\s+.*rolled back\n/);
      expect(r.stdout.match(/^(addonscript|treescript)\s+(production|dev)\s/gm)).toHaveLength(4);
      // Nothing left: the registry process and its folder.
      expect(r.stdout).toMatch(/drill: done in \d+\.\d s; the registry was stopped and \S+ removed/);
      expect(await gone(pid)).toBe(true);
      expect(existsSync(dir)).toBe(false);
      expect(outside.requests()).toEqual([]);
    } finally {
      await outside.stop();
    }
  }, 60_000);

  it('without docker-registry: a clear message with the apt-get line, exit 1', async () => {
    const r = await runCliProcess(['drill'], { PATH: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("tc-promote drill: error: the drill needs Debian's docker-registry (the CNCF distribution registry), which is not on PATH; install it with: sudo apt-get install docker-registry\n");
    const named = await runCli(['drill'], { TC_PROMOTE_DOCKER_REGISTRY: '/nonexistent/docker-registry' });
    expect(named.stderr).toContain('TC_PROMOTE_DOCKER_REGISTRY: /nonexistent/docker-registry is not an executable file');
  });

  it('--keep leaves the registry running and prints how to use it and how to stop it', async () => {
    const r = await runCliProcess(['drill', '--keep', '--script', 'beetmoverscript']);
    expect(r.code, r.stderr).toBe(0);
    const { url, pid, dir } = where(r.stdout);
    try {
      expect(r.stdout).toContain(`The registry is still running (--keep): ${url}, process ${pid}, storage ${dir}`);
      // No tc-promote on the test's PATH: the lines name this clone's bin/tc-promote.js.
      expect(r.stdout).toContain(`  ${binPath} history beetmoverscript --registry ${url}\n`);
      expect(r.stdout).toContain(`Stop it and remove its storage: kill ${pid} && rm -rf ${dir}`);
      expect(alive(pid)).toBe(true);
      const history = await runCli(['history', 'beetmoverscript', '--registry', url, '--json']);
      expect(history.code).toBe(0);
      expect(history.json().current.tag).toMatch(/^production-\d{14}-[0-9a-f]{40}$/);
    } finally {
      process.kill(pid, 'SIGTERM');
      await gone(pid);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('--keep with --config: the printed commands work pasted into a shell, as printed (the configuration named, tc-promote not on PATH)', async () => {
    // A configuration of its own: another repository pattern and a script the embedded one does not have.
    const config = loadConfig();
    const own = JSON.parse(JSON.stringify({ ...config, scripts: [...config.scripts, 'drillownscript'] }).replaceAll('mozilla/releng-{script}', 'relengtest/{script}-image'));
    const configPath = path.join(makeTempDir('drill-config-'), 'own.yml');
    writeFileSync(configPath, JSON.stringify(own, null, 2));
    const r = await runCliProcess(['drill', '--keep', '--script', 'drillownscript', '--config', configPath]);
    expect(r.code, r.stderr).toBe(0);
    const { pid, dir } = where(r.stdout);
    try {
      const printed = r.stdout.slice(r.stdout.indexOf('The registry is still running')).split('\n').filter((l) => l.startsWith('  '));
      expect(printed).toHaveLength(3);
      for (const line of printed) {
        // A new user's shell: Node on PATH, no tc-promote there.
        const ran = spawnSync('bash', ['-c', line.trim()], { encoding: 'utf8', env: { PATH: path.dirname(process.execPath) + ':/usr/bin:/bin', HOME: process.env.HOME } });
        expect(ran.status, `${line}\n${ran.stdout}\n${ran.stderr}`).toBe(0);
      }
    } finally {
      process.kill(pid, 'SIGTERM');
      await gone(pid);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('Ctrl-C stops the registry and removes its folder', async () => {
    const child = spawn(process.execPath, [binPath, 'drill'], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (/registry: docker-registry on/.test(stdout)) resolve();
      });
    });
    const { pid, dir } = where(stdout);
    expect(alive(pid)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain(`drill: stopped by SIGINT; the registry and ${dir} were removed`);
    expect(await gone(pid)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('refuses flags that would point it elsewhere', async () => {
    const r = await runCli(['drill', '--registry', 'http://127.0.0.1:5000']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('--registry: the drill makes its own registry and talks to nothing else')]);
  });
});
