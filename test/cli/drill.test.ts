// `tc-promote drill`: the rehearsal a new user runs first. It needs nothing but Debian's
// docker-registry, works offline, leaves nothing behind (also on Ctrl-C), and with --keep
// leaves a registry that the printed commands work against.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { binPath, runCli, runCliProcess } from '../support/cli.js';
import { startHostileServer, json } from '../support/hostile-server.js';
import { makeTempDir, removeTempDir } from '../support/registry.js';

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
      // No tc-promote on the test's PATH: the lines name this clone's bin/tc-promote (what README puts on PATH).
      expect(r.stdout).toContain(`  ${binPath.replace(/\.js$/, '')} history beetmoverscript --registry ${url}\n`);
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

  it('killed outright (SIGKILL, no handler runs): the registry still stops and its folder is removed', async () => {
    const child = spawn(process.execPath, [binPath, 'drill'], { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (/registry: docker-registry on/.test(stdout)) resolve();
      });
    });
    const { pid, dir } = where(stdout);
    try {
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await gone(pid)).toBe(true);
      // The watchdog removes it once the registry is gone: allow a loaded machine 10 s.
      for (let i = 0; i < 500 && existsSync(dir); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('ignores the REGISTRY_* variables docker-registry reads: they would move its storage into a real registry\'s, or its address', async () => {
    const base = makeTempDir('drill-env-');
    const real = path.join(base, 'real-storage');
    try {
      const r = await runCliProcess(['drill'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: real, REGISTRY_HTTP_HEADERS_X_TC_PROMOTE_DRILL: '[forged]', REGISTRY_LOG_LEVEL: 'debug' });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      // Nothing was written into the other storage.
      expect(existsSync(real)).toBe(false);
    } finally {
      removeTempDir(base);
    }
  }, 60_000);

  it('a TC_PROMOTE_DOCKER_REGISTRY wrapper that does not exec: the registry it starts is stopped too (the whole process group)', async () => {
    const base = makeTempDir('drill-wrapper-');
    const wrapper = path.join(base, 'docker-registry');
    const real = execFileSync('sh', ['-c', 'command -v docker-registry']).toString().trim();
    writeFileSync(wrapper, `#!/bin/sh\n${JSON.stringify(real)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    try {
      const r = await runCliProcess(['drill'], { TC_PROMOTE_DOCKER_REGISTRY: wrapper });
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const { dir } = where(r.stdout);
      const running = () => execFileSync('ps', ['-eo', 'args']).toString().split('\n').filter((l) => l.includes(`${dir}/config.yml`));
      for (let i = 0; i < 100 && running().length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(running()).toEqual([]);
    } finally {
      removeTempDir(base);
    }
  }, 60_000);

  it('refuses flags that would point it elsewhere', async () => {
    const r = await runCli(['drill', '--registry', 'http://127.0.0.1:5000']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('--registry: the drill makes its own registry and talks to nothing else')]);
  });

  it('a port taken between choosing it and serving on it: the drill never writes into the registry that answers there instead', async () => {
    // A wrapper stands in for docker-registry: before starting the real one on the chosen port,
    // another registry (another user's, say) takes that port; the real one then fails with
    // "address already in use". The drill must not take the other one's 200 for its own.
    const base = makeTempDir('drill-race-');
    const foreignDir = path.join(base, 'foreign');
    mkdirSync(foreignDir);
    const real = execFileSync('sh', ['-c', 'command -v docker-registry']).toString().trim();
    const steal = path.join(base, 'steal.cjs');
    writeFileSync(
      steal,
      `const { spawn } = require('node:child_process');
const fs = require('node:fs');
const foreign = ${JSON.stringify(foreignDir)};
const real = ${JSON.stringify(real)};
const args = process.argv.slice(2);
const port = /addr: 127\\.0\\.0\\.1:(\\d+)/.exec(fs.readFileSync(args[1], 'utf8'))[1];
fs.writeFileSync(foreign + '/config.yml', 'version: 0.1\\nlog:\\n  level: warn\\nstorage:\\n  filesystem:\\n    rootdirectory: ' + JSON.stringify(foreign + '/storage') + '\\nhttp:\\n  addr: 127.0.0.1:' + port + '\\n');
const other = spawn(real, ['serve', foreign + '/config.yml'], { stdio: 'ignore', detached: true });
fs.writeFileSync(foreign + '/pid', String(other.pid));
fs.writeFileSync(foreign + '/port', port);
other.unref();
// Once the other one answers, the drill's own registry starts, and fails: the port is taken.
const wait = () => require('node:http').get('http://127.0.0.1:' + port + '/v2/', (res) => (res.resume(), spawn(real, args, { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 1)))).on('error', () => setTimeout(wait, 20));
wait();
`,
    );
    // The wrapper execs: the drill's registry is its own child, not a grandchild it could not stop.
    const wrapper = path.join(base, 'docker-registry');
    writeFileSync(wrapper, `#!/bin/sh\nif [ -e ${JSON.stringify(path.join(foreignDir, 'port'))} ]; then exec ${JSON.stringify(real)} "$@"; fi\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(steal)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    try {
      const r = await runCliProcess(['drill'], { TC_PROMOTE_DOCKER_REGISTRY: wrapper });
      const foreignPort = readFileSync(path.join(foreignDir, 'port'), 'utf8');
      const catalog = (await (await fetch(`http://127.0.0.1:${foreignPort}/v2/_catalog`)).json()) as { repositories: string[] };
      expect(catalog.repositories).toEqual([]);
      // It tried again on another port and rehearsed there.
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const { url, pid } = where(r.stdout);
      expect(url).not.toBe(`http://127.0.0.1:${foreignPort}`);
      expect(await gone(pid)).toBe(true);
    } finally {
      const pidFile = path.join(foreignDir, 'pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        process.kill(pid, 'SIGKILL');
        await gone(pid);
      }
      removeTempDir(base);
    }
  }, 60_000);

  it('--keep under a temporary folder whose path has a space: the printed commands are quoted, and pasted they remove only the drill\'s folder', async () => {
    const base = makeTempDir('drill-space-');
    const tmp = path.join(base, 'my tmp');
    mkdirSync(tmp);
    // What an unquoted `rm -rf <base>/my tmp/tc-promote-drill-…` would remove.
    mkdirSync(path.join(base, 'my'));
    writeFileSync(path.join(base, 'my', 'keep-me'), 'x');
    let pid = 0;
    try {
      const r = await runCliProcess(['drill', '--keep', '--script', 'beetmoverscript'], { TMPDIR: tmp });
      expect(r.code, r.stderr).toBe(0);
      const m = /registry: docker-registry on (http:\/\/127\.0\.0\.1:\d+), process (\d+), storage (.+)\n/.exec(r.stdout);
      expect(m).not.toBeNull();
      pid = Number(m![2]);
      const dir = m![3]!;
      expect(dir.startsWith(`${tmp}/tc-promote-drill-`)).toBe(true);
      const stop = /^Stop it and remove its storage: (.*)$/m.exec(r.stdout)![1]!;
      expect(stop).toBe(`kill ${pid} && rm -rf '${dir}'`);
      execFileSync('bash', ['-c', stop], { cwd: base });
      expect(await gone(pid)).toBe(true);
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(path.join(base, 'my', 'keep-me'))).toBe(true);
    } finally {
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      removeTempDir(base);
    }
  }, 60_000);
});
