// A second attack round (issue 12, in its spirit), without a registry: a registry whose JSON
// error text escapes the credential it echoes (so the raw text does not hold it, while the
// message built from the decoded, shortened string would), and a credential helper still
// running when the command deadline passes.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runCliProcess } from '../support/cli.js';
import { json, startHostileServer, type HostileHandler, type HostileServer } from '../support/hostile-server.js';
import { makeTempDir } from '../support/registry.js';

const servers: HostileServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function hostile(handler: HostileHandler): Promise<HostileServer> {
  const server = await startHostileServer(handler);
  servers.push(server);
  return server;
}

describe('a registry whose JSON error text escapes the credential it echoes', () => {
  // base64("releng:" + password) holds both "/" and "+".
  const username = 'releng';
  const password = 'pw0-Zq8?~>>?xLONGERpassword';
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  const escapeSlashes = (text: string) => text.replace(/\//g, '\\/');
  const escapeAll = (text: string) => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  const bodies: Record<string, (auth: string) => string> = {
    // PHP's json_encode and others write "/" as "\/".
    'slashes escaped (the header whole)': (auth) => `{"errors":[{"code":"DENIED","message":"header ${escapeSlashes(auth)}"}]}`,
    'every character escaped, the value alone': (auth) => `{"errors":[{"code":"DENIED","message":"got ${escapeAll(auth.split(' ')[1]!)}"}]}`,
    // Escaped, and placed where the message is cut at 200 characters.
    'escaped where the message is cut short': (auth) => `{"errors":[{"code":"DENIED","message":"${'x'.repeat(180)} ${escapeAll(auth.split(' ')[1]!)}"}]}`,
  };

  it.each(Object.keys(bodies))('%s: no part of the credential is printed, with or without --debug or --json', async (name) => {
    const server = await hostile((req, res) => {
      const auth = req.headers.authorization;
      if (!auth) return json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Basic realm="echo"' });
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(bodies[name]!(auth));
    });
    const docker = makeTempDir('escaped-echo-');
    writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ auths: { [server.host]: { auth: basic } } }));
    for (const extra of [[], ['--debug'], ['--json']]) {
      const result = await runCli(['history', 'signingscript', '--registry', server.url, ...extra], { DOCKER_CONFIG: docker, TC_PROMOTE_RETRY_BASE_MS: '1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('access denied (HTTP 403) DENIED');
      const out = result.stdout + result.stderr;
      // Neither the value, nor any 8 characters of its base64 (a part decodes to part of the password).
      for (let i = 0; i + 8 <= basic.length; i++) expect(out, `${name} ${extra}: ${out}`).not.toContain(basic.slice(i, i + 8));
      expect(out).not.toContain(password.slice(4));
    }
    expect(server.requests().some((r) => r.authorization === `Basic ${basic}`)).toBe(true);
  });
});

describe('the command deadline ends a credential helper still running', () => {
  it('stops the helper and what it started, and names it, as a real process', async () => {
    const bin = makeTempDir('deadline-helper-');
    const pids = path.join(bin, 'pids');
    writeFileSync(path.join(bin, 'docker-credential-stuck'), `#!/bin/sh\necho $$ >> ${pids}\nsleep 300 &\necho $! >> ${pids}\nwait\n`);
    chmodSync(path.join(bin, 'docker-credential-stuck'), 0o755);
    const server = await hostile((_req, res) => json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': 'Basic realm="x"' }));
    const docker = makeTempDir('deadline-docker-');
    writeFileSync(path.join(docker, 'config.json'), JSON.stringify({ credHelpers: { [server.host]: 'stuck' } }));
    const start = performance.now();
    const result = await runCliProcess(['history', 'signingscript', '--registry', server.url], { DOCKER_CONFIG: docker, PATH: `${bin}:${process.env.PATH}`, TC_PROMOTE_COMMAND_TIMEOUT_MS: '1500' });
    const running = (): number[] =>
      readFileSync(pids, 'utf8')
        .trim()
        .split('\n')
        .map(Number)
        .filter((pid) => {
          // Gone, or a zombie waiting for the reaper (killed, its parent gone).
          try {
            return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
          } catch {
            return false;
          }
        });
    // Killed before the command ended; on a loaded machine the kernel may take a moment to end them.
    let alive = running();
    for (let i = 0; i < 20 && alive.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      alive = running();
    }
    for (const pid of alive) process.kill(pid, 'SIGKILL');
    expect(alive).toEqual([]);
    expect(performance.now() - start).toBeLessThan(3_400);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`tc-promote history: error: credential helper docker-credential-stuck for ${server.host} was stopped: the command deadline of 1500 ms passed (TC_PROMOTE_COMMAND_TIMEOUT_MS)`);
  });
});

describe('half a task setup is refused, never taken for "outside a task"', () => {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const copyArgs = ['copy', `127.0.0.1:9/mozilla/releng-signingscript@sha256:${'a'.repeat(64)}`, '127.0.0.1:9/mozilla/releng-signingscript:production', '--expect-current', 'none', '--archive-tag', `production-${stamp}-${'b'.repeat(40)}`];
  const record = JSON.stringify({ script: 'signingscript' });
  it.each([
    ['TC_PROMOTE_ARTIFACTS empty (promotion.json would land in the working directory)', { TC_PROMOTE_ARTIFACTS: '', TC_PROMOTE_PROMOTION: record }, 'TC_PROMOTE_ARTIFACTS: set but empty; inside a task the graph sets it (with TC_PROMOTE_PROMOTION); outside a task unset both'],
    ['TC_PROMOTE_PROMOTION empty', { TC_PROMOTE_ARTIFACTS: '/tmp/x', TC_PROMOTE_PROMOTION: '' }, 'TC_PROMOTE_PROMOTION: set but empty'],
    ['TC_PROMOTE_PROMOTION without its folder (nothing would be recorded)', { TC_PROMOTE_PROMOTION: record }, 'TC_PROMOTE_PROMOTION is set but TC_PROMOTE_ARTIFACTS is not: inside a task the graph sets both (the record and its folder); set both, or unset TC_PROMOTE_PROMOTION outside a task'],
    ['TC_PROMOTE_ARTIFACTS without the record', { TC_PROMOTE_ARTIFACTS: '/tmp/x' }, 'TC_PROMOTE_ARTIFACTS is set but TC_PROMOTE_PROMOTION is not'],
  ])('%s: exit 2 before any request', async (_name, env, message) => {
    const server = await hostile((_req, res) => json(res, 500, {}));
    const args = copyArgs.map((a) => a.replace('127.0.0.1:9', server.host));
    for (const argv of [args, ['force-push', '--branch', 'production-signingscript', '--revision', 'c'.repeat(40)]]) {
      const result = await runCli(argv, { ...env, GITHUB_TOKEN: 'ghp_unused000000000000', GITHUB_API_URL: server.url });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(server.requests()).toEqual([]);
    expect(existsSync('promotion.json')).toBe(false);
  });
});
