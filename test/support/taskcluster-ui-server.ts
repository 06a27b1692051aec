// The static half of the Taskcluster UI's front door, what a deployment's UI image and the
// references service serve at the root URL (upstream: ui/Dockerfile, ui/web-ui-nginx-site.conf,
// services/references):
//   /static/env.js          the UI's runtime settings (the UI image writes it when it starts)
//   /schemas/…, /references/…  the references at this root URL, made by upstream's own
//                           libraries/references from generated/references.json (the UI
//                           validates actions.json against /schemas/common/action-schema-v1.json)
//   anything else           the built UI, with its single-page fallback (docs* → docs.html)
// The root-URL proxy of the real-services fixture sends it every path no service claims.
//
// A plain program, run by Node as it is (type stripping; only Node's modules), so that it runs
// as a process of the fixture and lives as long as the fixture does:
//   node taskcluster-ui-server.ts <build dir> <services tree> <root URL> <port file>
// It listens on a free loopback port and writes that port to <port file>.
import { createReadStream, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript',
  '.mjs': 'application/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

interface ReferencesModule {
  default: { fromSerializable(o: { serializable: unknown }): { asAbsolute(rootUrl: string): { makeSerializable(): { filename: string; content: unknown }[] } } };
}

/** `/schemas/…` and `/references/…` bodies as the references service serves them at `rootUrl`. */
export async function referenceDocuments(tree: string, rootUrl: string): Promise<Map<string, string>> {
  const module = (await import(pathToFileURL(path.join(tree, 'libraries', 'references', 'src', 'index.js')).href)) as ReferencesModule;
  const serializable = JSON.parse(readFileSync(path.join(tree, 'generated', 'references.json'), 'utf8')) as unknown;
  const documents = module.default.fromSerializable({ serializable }).asAbsolute(rootUrl).makeSerializable();
  return new Map(documents.map(({ filename, content }) => [`/${filename}`, JSON.stringify(content, null, 2)]));
}

/** What the UI image writes into /static/env.js (its generate-env-js.js), for this root URL and no login strategy but credentials. */
export function uiEnvJs(rootUrl: string): string {
  const env = {
    APPLICATION_NAME: 'Taskcluster',
    TASKCLUSTER_ROOT_URL: rootUrl,
    GRAPHQL_ENDPOINT: `${rootUrl}/graphql`,
    GRAPHQL_SUBSCRIPTION_ENDPOINT: `${rootUrl.replace(/^http/, 'ws')}/subscription`,
    DOCS_ONLY: false,
    UI_LOGIN_STRATEGY_NAMES: '',
    SENTRY_DSN: '',
    BANNER_MESSAGE: '',
    SITE_SPECIFIC: {},
  };
  return `window.env = ${JSON.stringify(env, null, 2)};\n`;
}

export async function serveUi(buildDir: string, tree: string, rootUrl: string): Promise<http.Server> {
  const root = path.resolve(buildDir);
  const references = await referenceDocuments(tree, rootUrl);
  const envJs = uiEnvJs(rootUrl);
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    let pathname: string;
    try {
      pathname = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    } catch {
      return send(400, 'text/plain', 'bad path');
    }
    if (/^\/(schemas|references)\//.test(pathname)) {
      const body = references.get(pathname);
      return send(body === undefined ? 404 : 200, 'application/json', body ?? JSON.stringify({ message: `no reference document ${pathname}` }), { 'access-control-allow-origin': '*' });
    }
    if (pathname.startsWith('/api/')) return send(404, 'application/json', JSON.stringify({ message: `no service at ${pathname}` }));
    if (pathname === '/static/env.js') return send(200, 'application/javascript', envJs, { 'cache-control': 'no-cache' });
    let file = path.join(root, path.normalize(pathname));
    if (!file.startsWith(root + path.sep) || !existsSync(file) || statSync(file).isDirectory()) {
      file = path.join(root, pathname.startsWith('/docs') ? 'docs.html' : 'index.html');
    }
    res.writeHead(200, { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [buildDir, tree, rootUrl, portFile] = process.argv.slice(2);
  if (!buildDir || !tree || !rootUrl || !portFile) {
    process.stderr.write('usage: node taskcluster-ui-server.ts <build dir> <services tree> <root URL> <port file>\n');
    process.exit(2);
  }
  const server = await serveUi(buildDir, tree, rootUrl);
  writeFileSync(`${portFile}.tmp`, String((server.address() as AddressInfo).port));
  renameSync(`${portFile}.tmp`, portFile);
  process.stdout.write(`Taskcluster UI on ${(server.address() as AddressInfo).port} for ${rootUrl}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
