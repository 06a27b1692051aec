// The Taskcluster web UI and its web-server (../shared/upstream/taskcluster-ui, v106), made
// ready to run: the UI installed with its own yarn and built with Vite, web-server installed
// beside the five core services. Both are cached (upstream-cache.ts) keyed by their inputs:
// the warm path reads two folders; the cold path (a fresh CI machine) takes about a minute and a
// half on two cores. Nothing is written into ../shared or the repository.
//
//   const ui = await ensureUiBuild();            // { dir: <built UI: index.html, assets/…> }
//   const tree = await ensureWebServerTree();    // { dir: services + web-server with node_modules }
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, cachedBuild, runLogged, treeDigest, upstreamPath, yarnEnv, type CachedBuildResult } from './upstream-cache.js';

export const uiUpstreamDir = upstreamPath('taskcluster-ui');
export const servicesUpstreamDir = upstreamPath('taskcluster');
const yarnRelease = '.yarn/releases/yarn-4.18.0.cjs';

/**
 * The npm packages web-server imports beyond the five services' (upstream's monorepo
 * package.json lists them; the trimmed services tree does not), at the versions yarn
 * resolved for the ranges of the monorepo's package.json when this was written. Exact
 * versions, so the cache key and the install are the same on every machine.
 */
export const webServerPackages: Record<string, string> = JSON.parse(readFileSync(path.join(import.meta.dirname, 'web-server-packages.json'), 'utf8')) as Record<string, string>;

function missing(what: string, file: string): Error {
  return new Error(`${what} is not at ${file}: the shared upstream folder (../shared/upstream, or TC_PROMOTE_UPSTREAM) must hold taskcluster/ and taskcluster-ui/`);
}

/** The built UI (its index.html, static assets), installed and built once per input. */
export async function ensureUiBuild(log: (line: string) => void = () => {}): Promise<CachedBuildResult> {
  if (!existsSync(path.join(uiUpstreamDir, 'ui', 'yarn.lock'))) throw missing("the Taskcluster UI's yarn.lock", path.join(uiUpstreamDir, 'ui', 'yarn.lock'));
  // Everything the install and the build read; the recipe and web-server are not inputs.
  const key = treeDigest(uiUpstreamDir, ['recipe', 'services', 'README.md'], [`node ${process.versions.node.split('.')[0]}`]);
  return cachedBuild({
    name: 'taskcluster-ui',
    key,
    build: async (dir) => {
      const work = `${dir}-work`;
      rmSync(work, { recursive: true, force: true });
      try {
        log(`building the Taskcluster UI (cache ${path.basename(dir)}): yarn install, vite build`);
        cpSync(uiUpstreamDir, work, { recursive: true, filter: (src) => src !== path.join(uiUpstreamDir, 'recipe') && src !== path.join(uiUpstreamDir, 'services') });
        chmodTree(work);
        const env = yarnEnv(path.join(cacheRoot(), 'yarn-cache-ui'), { NODE_ENV: 'production' });
        const yarn = path.join(work, yarnRelease);
        const logFile = path.join(dir, 'build.log');
        // The lock is upstream's (with the vendored client-web): installed as it is, never rewritten.
        await runLogged(process.execPath, [yarn, 'install', '--immutable'], { cwd: path.join(work, 'ui'), env: { ...env, NODE_ENV: 'development' }, logFile });
        await runLogged(process.execPath, [yarn, 'build'], { cwd: path.join(work, 'ui'), env: { ...env, NODE_OPTIONS: '--max-old-space-size=3072' }, logFile });
        if (!existsSync(path.join(work, 'ui', 'build', 'index.html'))) throw new Error(`vite build wrote no index.html (log: ${logFile})`);
        renameSync(path.join(work, 'ui', 'build'), path.join(dir, 'build'));
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  });
}

/**
 * The five services' tree (../shared/upstream/taskcluster) with services/web-server beside them
 * as a workspace and its packages added, installed the way upstream's recipe does
 * (`workspaces focus --all --production` in clients/client and at the root).
 */
export async function ensureWebServerTree(log: (line: string) => void = () => {}): Promise<CachedBuildResult> {
  const webServer = path.join(uiUpstreamDir, 'services', 'web-server');
  if (!existsSync(path.join(servicesUpstreamDir, 'yarn.lock'))) throw missing("the Taskcluster services' yarn.lock", path.join(servicesUpstreamDir, 'yarn.lock'));
  if (!existsSync(path.join(webServer, 'src', 'main.js'))) throw missing('web-server', webServer);
  const key = treeDigest(servicesUpstreamDir, ['recipe'], [treeDigest(webServer), JSON.stringify(webServerPackages), `node ${process.versions.node.split('.')[0]}`]);
  return cachedBuild({
    name: 'taskcluster-web-server',
    key,
    build: async (dir) => {
      log(`installing the Taskcluster services and web-server (cache ${path.basename(dir)})`);
      cpSync(servicesUpstreamDir, dir, { recursive: true, filter: (src) => src !== path.join(servicesUpstreamDir, 'recipe') });
      cpSync(webServer, path.join(dir, 'services', 'web-server'), { recursive: true });
      // generated/references.json and the docs tables web-server and the front door read.
      cpSync(path.join(uiUpstreamDir, 'generated'), path.join(dir, 'generated'), { recursive: true, force: false, errorOnExist: false });
      chmodTree(dir);
      const pkgFile = path.join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { workspaces: string[]; dependencies: Record<string, string> };
      pkg.workspaces = [...pkg.workspaces, 'services/web-server'];
      pkg.dependencies = { ...pkg.dependencies, ...webServerPackages };
      writeFileSync(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
      const env = yarnEnv(path.join(cacheRoot(), 'yarn-cache-services'), { YARN_ENABLE_IMMUTABLE_INSTALLS: 'false' });
      const yarn = path.join(dir, yarnRelease);
      const logFile = path.join(dir, 'install.log');
      await runLogged(process.execPath, [yarn, 'workspaces', 'focus', '--all', '--production'], {
        cwd: path.join(dir, 'clients', 'client'),
        env: { ...env, YARN_YARN_PATH: yarn, YARN_NODE_LINKER: 'node-modules', YARN_ENABLE_SCRIPTS: 'false' },
        logFile,
      });
      await runLogged(process.execPath, [yarn, 'workspaces', 'focus', '--all', '--production'], { cwd: dir, env, logFile });
      for (const name of Object.keys(webServerPackages)) {
        if (!existsSync(path.join(dir, 'node_modules', name, 'package.json'))) throw new Error(`${name} was not installed (log: ${logFile})`);
      }
      mkdirSync(path.join(dir, 'services', 'web-server', 'node_modules'), { recursive: true });
    },
  });
}

/** The shared folder is read-only and cpSync keeps modes: make the copy writable (for yarn, and for the cache's later removal). */
function chmodTree(dir: string): void {
  const walk = (p: string): void => {
    chmodSync(p, statSync(p).mode | 0o700);
    for (const entry of readdirSync(p, { withFileTypes: true })) {
      const child = path.join(p, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) chmodSync(child, statSync(child).mode | 0o600);
    }
  };
  walk(dir);
}
