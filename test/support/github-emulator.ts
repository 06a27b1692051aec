// A loopback GitHub REST API emulator for the endpoints tc-promote uses, backed by a real
// bare git repository (see git-fixture.ts): a forced ref update moves a real ref, and tests
// check it with `git rev-parse`. It answers as api.github.com documents and behaves:
//
//   GET   /repos/{o}/{r}                          the repository (default_branch from HEAD)
//   GET   /repos/{o}/{r}/commits/{ref}            a commit; 422 "No commit found for SHA: …"
//   GET   /repos/{o}/{r}/git/ref/{ref}            one exact ref; 404 "Not Found"
//   POST  /repos/{o}/{r}/git/refs                 create; 422 "Reference already exists",
//                                                 422 "Object does not exist"
//   PATCH /repos/{o}/{r}/git/refs/{ref}           update; 422 "Reference does not exist",
//                                                 "Object does not exist", "Update is not a fast forward"
//   GET   /repos/{o}/{r}/compare/{base}...{head}  identical / ahead / behind / diverged; commits
//                                                 oldest first, paged by per_page (max 100) and page,
//                                                 up to 250 when neither is given; total_commits
//
// Credentials: `Authorization: token T` or `Bearer T`. No header → 401 "Requires
// authentication" (unless anonymousReads lets GETs through, as for a public repository); a
// token not in the list → 401 "Bad credentials". Every request is recorded (method, path,
// status, auth) so tests can assert that nothing wrote. Requests are handled one at a time.
//
//   const repo = createGitFixture();
//   const gh = await startGitHubEmulator({ gitDir: repo.gitDir, repository: 'mozilla-releng/scriptworker-scripts' });
//   env.GITHUB_API_URL = gh.url; env.GITHUB_TOKEN = gh.token;
//   ...; gh.writes()  // POST/PATCH/PUT/DELETE requests seen
//   await gh.stop();

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHubEmulatorOptions {
  gitDir: string;
  /** `owner/name` the emulator serves. */
  repository: string;
  /** Accepted tokens (default: one random token, `emulator.token`). */
  tokens?: string[];
  /** Let unauthenticated GETs through, as GitHub does for a public repository. */
  anonymousReads?: boolean;
  /** Runs before a request is answered (after it is recorded): tests move refs "concurrently" here. */
  beforeRequest?: (request: RecordedRequest) => void | Promise<void>;
}

export interface RecordedRequest {
  method: string;
  /** Path as sent, with the query. */
  path: string;
  /** Path after percent-decoding. */
  decodedPath: string;
  auth: 'none' | 'valid' | 'invalid';
  /** Raw Authorization header: tests assert what was sent; never printed by the emulator. */
  authorization: string | undefined;
  body: unknown;
  status: number;
  userAgent: string | undefined;
}

export interface GitHubEmulator {
  url: string;
  /** The first accepted token. */
  token: string;
  repository: string;
  requests(): RecordedRequest[];
  /** Requests that could change something (anything but GET and HEAD). */
  writes(): RecordedRequest[];
  reset(): void;
  setBeforeRequest(hook: GitHubEmulatorOptions['beforeRequest']): void;
  stop(): Promise<void>;
}

const docs = 'https://docs.github.com/rest';

class HttpError extends Error {
  readonly status: number;
  readonly documentation: string;
  constructor(status: number, message: string, documentation = docs) {
    super(message);
    this.status = status;
    this.documentation = documentation;
  }
}

export async function startGitHubEmulator(options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  const [owner, repo] = options.repository.split('/') as [string, string];
  const tokens = options.tokens ?? [`ghp_${randomBytes(18).toString('hex')}`];
  const log: RecordedRequest[] = [];
  let beforeRequest = options.beforeRequest;
  let queue: Promise<unknown> = Promise.resolve();
  let base = '';

  const git = (...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('git', ['--git-dir', options.gitDir, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolve(stdout.trim());
      });
    });
  const tryGit = (...args: string[]): Promise<string | null> => git(...args).catch(() => null);

  /** A ref or revision as clients send them: never an option, never a range or revision expression. */
  const safeName = (name: string): boolean => /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(name) && !name.includes('..') && !name.includes('//');
  const validRefName = async (ref: string): Promise<boolean> => safeName(ref) && (await tryGit('check-ref-format', ref)) !== null;

  const apiRepo = (): string => `${base}/repos/${owner}/${repo}`;
  const nodeId = (kind: string, id: string): string => Buffer.from(`${kind}:${id}`).toString('base64');

  const objectType = async (sha: string): Promise<string | null> => (/^[0-9a-f]{40}$/.test(sha) ? tryGit('cat-file', '-t', sha) : null);

  const readRef = async (ref: string): Promise<{ sha: string; type: string } | null> => {
    if (!(await validRefName(ref))) return null;
    const line = await tryGit('show-ref', '--verify', ref);
    if (!line) return null;
    const sha = line.split(' ')[0]!;
    return { sha, type: (await objectType(sha)) ?? 'commit' };
  };

  const refJson = (ref: string, object: { sha: string; type: string }) => ({
    ref,
    node_id: nodeId('Ref', ref),
    url: `${apiRepo()}/git/${ref}`,
    object: { sha: object.sha, type: object.type, url: `${apiRepo()}/git/${object.type}s/${object.sha}` },
  });

  const commitJson = async (sha: string) => {
    const raw = await git('log', '-1', '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B', sha);
    const [hash, tree, parents, an, ae, ad, cn, ce, cd, message] = raw.split('\0') as string[];
    const iso = (date: string | undefined): string => new Date(date!).toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      sha: hash,
      node_id: nodeId('Commit', hash!),
      url: `${apiRepo()}/commits/${hash}`,
      html_url: `${base}/${owner}/${repo}/commit/${hash}`,
      comments_url: `${apiRepo()}/commits/${hash}/comments`,
      commit: {
        url: `${apiRepo()}/git/commits/${hash}`,
        author: { name: an, email: ae, date: iso(ad) },
        committer: { name: cn, email: ce, date: iso(cd) },
        message: (message ?? '').trimEnd(),
        tree: { sha: tree, url: `${apiRepo()}/git/trees/${tree}` },
        comment_count: 0,
      },
      author: null,
      committer: null,
      parents: (parents ? parents.split(' ') : []).map((p) => ({ sha: p, url: `${apiRepo()}/commits/${p}`, html_url: `${base}/${owner}/${repo}/commit/${p}` })),
    };
  };

  /** What GET /commits/{ref} and compare accept: a commit id, a branch or a tag. */
  const resolveCommit = async (ref: string): Promise<string | null> => {
    if (!safeName(ref)) return null;
    if (/^[0-9a-f]{40}$/.test(ref)) return (await objectType(ref)) === 'commit' ? ref : null;
    for (const full of [`refs/heads/${ref}`, `refs/tags/${ref}`]) {
      const found = await readRef(full);
      if (found) return tryGit('rev-parse', '--verify', '--quiet', `${found.sha}^{commit}`);
    }
    return null;
  };

  const routes: { method: string; pattern: RegExp; handle: (match: RegExpMatchArray, body: unknown, query: URLSearchParams) => Promise<[number, unknown, Record<string, string>?]> }[] = [
    {
      method: 'GET',
      pattern: /^$/,
      handle: async () => {
        const head = (await tryGit('symbolic-ref', '--short', 'HEAD')) ?? 'master';
        return [
          200,
          {
            id: 1,
            node_id: nodeId('Repository', options.repository),
            name: repo,
            full_name: options.repository,
            private: false,
            owner: { login: owner, id: 1, type: 'Organization' },
            html_url: `${base}/${owner}/${repo}`,
            url: apiRepo(),
            default_branch: head,
            permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
          },
        ];
      },
    },
    {
      method: 'GET',
      pattern: /^\/commits\/(.+)$/,
      handle: async ([, ref]) => {
        const sha = await resolveCommit(ref!);
        if (!sha) throw new HttpError(422, `No commit found for SHA: ${ref}`, `${docs}/commits/commits#get-a-commit`);
        return [200, { ...(await commitJson(sha)), stats: { total: 0, additions: 0, deletions: 0 }, files: [] }];
      },
    },
    {
      method: 'GET',
      pattern: /^\/git\/ref\/(.+)$/,
      handle: async ([, ref]) => {
        const found = await readRef(`refs/${ref}`);
        if (!found) throw new HttpError(404, 'Not Found', `${docs}/git/refs#get-a-reference`);
        return [200, refJson(`refs/${ref}`, found)];
      },
    },
    {
      method: 'POST',
      pattern: /^\/git\/refs$/,
      handle: async (_match, body) => {
        const { ref, sha } = (body ?? {}) as { ref?: unknown; sha?: unknown };
        const documentation = `${docs}/git/refs#create-a-reference`;
        if (typeof ref !== 'string') throw new HttpError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.', documentation);
        if (typeof sha !== 'string') throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', documentation);
        if (!/^refs\/[^/]+\/.+/.test(ref) || !(await validRefName(ref))) throw new HttpError(422, `${ref} is not a valid ref name.`, documentation);
        const type = await objectType(sha);
        if (!type) throw new HttpError(422, 'Object does not exist', documentation);
        if (await readRef(ref)) throw new HttpError(422, 'Reference already exists', documentation);
        // An empty old value makes git refuse when the ref appeared meanwhile.
        if ((await tryGit('update-ref', '-m', 'github-emulator: create', ref, sha, '')) === null) throw new HttpError(422, 'Reference update failed', documentation);
        return [201, refJson(ref, { sha, type }), { location: `${apiRepo()}/git/${ref}` }];
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/git\/refs\/(.+)$/,
      handle: async ([, short], body) => {
        const ref = `refs/${short}`;
        const documentation = `${docs}/git/refs#update-a-reference`;
        const { sha, force } = (body ?? {}) as { sha?: unknown; force?: unknown };
        if (typeof sha !== 'string') throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', documentation);
        if (force !== undefined && typeof force !== 'boolean') throw new HttpError(422, `Invalid request.\n\nFor 'properties/force', ${JSON.stringify(force)} is not a boolean.`, documentation);
        const current = await readRef(ref);
        if (!current) throw new HttpError(422, 'Reference does not exist', documentation);
        const type = await objectType(sha);
        if (!type) throw new HttpError(422, 'Object does not exist', documentation);
        if (!force && sha !== current.sha && (await tryGit('merge-base', '--is-ancestor', current.sha, sha)) === null) {
          throw new HttpError(422, 'Update is not a fast forward', documentation);
        }
        if ((await tryGit('update-ref', '-m', 'github-emulator: update', ref, sha, current.sha)) === null) throw new HttpError(422, 'Reference update failed', documentation);
        return [200, refJson(ref, { sha, type })];
      },
    },
    {
      method: 'GET',
      pattern: /^\/compare\/(.+?)\.\.\.(.+)$/,
      handle: async ([, baseRef, headRef], _body, query) => {
        const [baseSha, headSha] = await Promise.all([resolveCommit(baseRef!), resolveCommit(headRef!)]);
        if (!baseSha || !headSha) throw new HttpError(404, 'Not Found', `${docs}/commits/commits#compare-two-commits`);
        const mergeBase = await tryGit('merge-base', baseSha, headSha);
        // GitHub answers 404 when the two have no history in common.
        if (!mergeBase) throw new HttpError(404, `No common ancestor between ${baseRef} and ${headRef}.`, `${docs}/commits/commits#compare-two-commits`);
        const count = async (range: string): Promise<number> => Number(await git('rev-list', '--count', range));
        const [aheadBy, behindBy] = await Promise.all([count(`${baseSha}..${headSha}`), count(`${headSha}..${baseSha}`)]);
        const status = aheadBy === 0 && behindBy === 0 ? 'identical' : behindBy === 0 ? 'ahead' : aheadBy === 0 ? 'behind' : 'diverged';
        // GitHub: commits oldest first; paged when per_page or page is given (per_page at most 100), else the first 250.
        const all = aheadBy ? (await git('rev-list', '--reverse', `${baseSha}..${headSha}`)).split('\n') : [];
        const paged = query.has('per_page') || query.has('page');
        const perPage = paged ? Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30)) : 250;
        const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
        const ahead = all.slice((page - 1) * perPage, page * perPage);
        return [
          200,
          {
            url: `${apiRepo()}/compare/${baseRef}...${headRef}`,
            html_url: `${base}/${owner}/${repo}/compare/${baseRef}...${headRef}`,
            permalink_url: `${base}/${owner}/${repo}/compare/${owner}:${baseSha.slice(0, 7)}...${owner}:${headSha.slice(0, 7)}`,
            diff_url: `${base}/${owner}/${repo}/compare/${baseRef}...${headRef}.diff`,
            patch_url: `${base}/${owner}/${repo}/compare/${baseRef}...${headRef}.patch`,
            base_commit: await commitJson(baseSha),
            merge_base_commit: await commitJson(mergeBase),
            status,
            ahead_by: aheadBy,
            behind_by: behindBy,
            total_commits: aheadBy,
            commits: await Promise.all(ahead.map(commitJson)),
            files: [],
          },
        ];
      },
    },
  ];

  const answer = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      ...headers,
    });
    res.end(text);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> => {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const pathname = rawPath.split('?')[0]!;
    let decodedPath: string;
    try {
      decodedPath = decodeURIComponent(pathname);
    } catch {
      decodedPath = pathname;
    }
    const header = req.headers.authorization;
    const presented = header?.match(/^(?:token|bearer)\s+(\S+)$/i)?.[1];
    const auth: RecordedRequest['auth'] = header === undefined ? 'none' : presented !== undefined && tokens.includes(presented) ? 'valid' : 'invalid';
    let body: unknown;
    let badJson = false;
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        badJson = true;
      }
    }
    const record: RecordedRequest = { method, path: rawPath, decodedPath, auth, authorization: header, body, status: 0, userAgent: req.headers['user-agent'] };
    log.push(record);
    const reply = (status: number, data: unknown, headers?: Record<string, string>): void => {
      record.status = status;
      answer(res, status, data, headers);
    };
    try {
      await beforeRequest?.(record);
      if (auth === 'invalid') throw new HttpError(401, 'Bad credentials');
      if (auth === 'none' && !(options.anonymousReads && (method === 'GET' || method === 'HEAD'))) throw new HttpError(401, 'Requires authentication');
      if (badJson) throw new HttpError(400, 'Problems parsing JSON');
      const prefix = `/repos/${owner}/${repo}`;
      if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) throw new HttpError(404, 'Not Found');
      // Route on the raw path (a ref may arrive as heads/x or heads%2Fx), then decode the captures.
      const rest = pathname.slice(prefix.length);
      for (const route of routes) {
        const match = rest.match(route.pattern);
        if (!match) continue;
        if (route.method !== method) continue;
        const decoded = match.map((part) => {
          try {
            return decodeURIComponent(part);
          } catch {
            return part;
          }
        }) as RegExpMatchArray;
        const [status, data, headers] = await route.handle(decoded, body, new URLSearchParams(rawPath.split('?')[1] ?? ''));
        return reply(status, data, headers);
      }
      throw new HttpError(404, 'Not Found');
    } catch (error) {
      if (error instanceof HttpError) return reply(error.status, { message: error.message, documentation_url: error.documentation, status: String(error.status) });
      return reply(500, { message: `emulator error: ${(error as Error).message}` });
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const run = queue.then(() => handle(req, res, Buffer.concat(chunks)));
      queue = run.catch(() => undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    token: tokens[0]!,
    repository: options.repository,
    requests: () => [...log],
    writes: () => log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    reset: () => void log.splice(0),
    setBeforeRequest: (hook) => void (beforeRequest = hook),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
