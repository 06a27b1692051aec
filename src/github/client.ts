/**
 * A small GitHub client over @octokit/rest for one repository: the reads and ref writes a
 * branch rollback needs, with GitHub's answers turned into typed errors. Messages carry the
 * operation, the HTTP status and GitHub's own message, never a request header or a token.
 */
import { Octokit } from '@octokit/rest';
import type { Config } from '../config/load.js';
import { ConflictError, NotFoundError, PromoteError, RemoteError, UsageError, quote, quoteUrl } from '../errors.js';
import { githubSecretKey, resolveGitHubToken, type GitHubCredential } from './credentials.js';
import { GitHubTransportError, githubFetch, type GitHubTransportOptions } from './transport.js';
import type { Redactor } from '../registry/redact.js';

export const defaultApiUrl = 'https://api.github.com';
export const apiVersion = '2022-11-28';

export interface GitHubClientOptions {
  /** `owner/name`. */
  repository: string;
  credential?: GitHubCredential;
  /** API base: https://api.github.com, or GitHub Enterprise's https://HOST/api/v3. */
  apiUrl?: string;
  transport?: GitHubTransportOptions;
  /** Said after a 401 when no token was sent: where a token could come from. */
  missingTokenHint?: string;
}

export interface RepositoryInfo {
  fullName: string;
  defaultBranch: string;
  htmlUrl: string;
}

export interface CommitInfo {
  sha: string;
  htmlUrl: string;
}

export interface GitRef {
  /** Fully qualified: `refs/heads/<branch>`. */
  ref: string;
  sha: string;
  /** `commit` for branches; `tag` for an annotated tag. */
  type: string;
}

export interface Comparison {
  /** How head relates to base. */
  status: 'identical' | 'ahead' | 'behind' | 'diverged';
  aheadBy: number;
  behindBy: number;
  mergeBase: string;
  htmlUrl: string;
}

/** One commit of a comparison, as a release engineer reads it. */
export interface CommitSummary {
  sha: string;
  /** The message's first line. */
  title: string;
  author: string | null;
  /** The author date (ISO 8601), when GitHub gave one. */
  date: string | null;
}

/** The commits `head` has that `base` lacks: the newest `limit` of them, newest first, and how many there are. */
export interface CommitRange extends Comparison {
  /** Commits in head not in base (GitHub's total_commits). */
  total: number;
  commits: CommitSummary[];
}

const refusedUpdates = new WeakSet<Error>();
/** Whether an error of updateBranch is GitHub refusing the update (a 4xx answer): the branch did not move. */
export function updateWasRefused(error: unknown): boolean {
  return error instanceof Error && refusedUpdates.has(error);
}

/** Creating a ref that exists already (GitHub: 422 "Reference already exists"). */
export class RefExistsError extends ConflictError {}

interface HttpFailure {
  status: number;
  message: string;
  headers: Record<string, string | undefined>;
}

export class GitHubClient {
  readonly repository: string;
  readonly owner: string;
  readonly repo: string;
  readonly apiUrl: string;
  readonly authenticated: boolean;
  readonly #octokit: Octokit;
  readonly #credential: GitHubCredential | undefined;
  readonly #missingTokenHint: string;

  constructor(options: GitHubClientOptions) {
    const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(options.repository);
    if (!match) throw new UsageError(`github.repository: ${quote(options.repository)} is not owner/name`);
    this.repository = options.repository;
    this.owner = match[1]!;
    this.repo = match[2]!;
    this.apiUrl = parseApiUrl(options.apiUrl ?? defaultApiUrl, 'GITHUB_API_URL');
    this.#credential = options.credential;
    this.authenticated = options.credential !== undefined;
    this.#missingTokenHint = options.missingTokenHint ?? 'set GITHUB_TOKEN';
    const silent = (): void => undefined;
    this.#octokit = new Octokit({
      ...(options.credential && { auth: options.credential.token }),
      baseUrl: this.apiUrl,
      userAgent: 'tc-promote',
      log: { debug: silent, info: silent, warn: silent, error: silent },
      request: { fetch: githubFetch(options.transport) },
    });
    // Pin the REST API version the shapes here were written against.
    this.#octokit.hook.before('request', (request) => {
      request.headers['x-github-api-version'] = apiVersion;
    });
  }

  async getRepository(): Promise<RepositoryInfo> {
    const what = `reading repository ${this.repository}`;
    try {
      const { data } = await this.#octokit.rest.repos.get({ owner: this.owner, repo: this.repo });
      if (typeof data.default_branch !== 'string') throw malformed(what, undefined, 'default_branch');
      if (typeof data.full_name !== 'string' || typeof data.html_url !== 'string') throw malformed(what, undefined, typeof data.full_name !== 'string' ? 'full_name' : 'html_url');
      return { fullName: data.full_name, defaultBranch: data.default_branch, htmlUrl: data.html_url };
    } catch (error) {
      throw this.#translate(error, what, (f) => (f.status === 404 ? new NotFoundError(`${what}: not found (HTTP 404), or the token cannot see it`) : undefined));
    }
  }

  /** The commit, or NotFoundError when the repository does not have it. */
  async getCommit(revision: string): Promise<CommitInfo> {
    const what = `reading commit ${revision} of ${this.repository}`;
    try {
      const { data } = await this.#octokit.rest.repos.getCommit({ owner: this.owner, repo: this.repo, ref: revision, per_page: 1 });
      if (typeof data.sha !== 'string' || !isCommitId(data.sha)) throw malformed(what, undefined, 'sha');
      if (typeof data.html_url !== 'string') throw malformed(what, undefined, 'html_url');
      return { sha: data.sha, htmlUrl: data.html_url };
    } catch (error) {
      // GitHub answers 422 "No commit found for SHA: …" for an unknown commit id.
      throw this.#translate(error, what, (f) =>
        f.status === 404 || f.status === 422 ? new NotFoundError(`revision ${revision} does not exist in ${this.repository} (HTTP ${f.status}${f.message ? ` ${quote(f.message)}` : ''})`) : undefined,
      );
    }
  }

  /** A ref such as `refs/heads/production-signingscript`, or null when there is none. */
  async getRef(ref: string): Promise<GitRef | null> {
    const short = shortRef(ref);
    const what = `reading ${ref} of ${this.repository}`;
    try {
      const { data, headers } = await this.#octokit.rest.git.getRef({ owner: this.owner, repo: this.repo, ref: short });
      // The singular endpoint answers one exact ref (a list: refs that merely start with it).
      if (Array.isArray(data)) return null;
      // Anything but a ref object (an HTML page from a proxy, an empty body) says nothing about
      // the ref: never "missing", which would drop the force-push lease.
      if (data === null || typeof data !== 'object' || typeof (data as { ref?: unknown }).ref !== 'string') throw malformed(what, headers['content-type']);
      // An answer about another ref (a proxy's cache, say) says nothing about this one either.
      if (data.ref !== ref) throw new RemoteError(`${what}: GitHub answered about ${quote(data.ref)}, not ${ref}`);
      return refFrom(data, what);
    } catch (error) {
      const failure = httpFailure(error);
      if (failure?.status === 404) return null;
      throw this.#translate(error, what);
    }
  }

  /** The commit a branch points at; NotFoundError when the branch does not exist. */
  async getBranchHead(branch: string): Promise<string> {
    const ref = await this.getRef(`refs/heads/${branch}`);
    if (!ref) throw new NotFoundError(`branch ${quote(branch)} does not exist in ${this.repository}`);
    if (ref.type !== 'commit') throw new RemoteError(`branch ${quote(branch)} of ${this.repository} points at a ${ref.type}, not a commit`);
    return ref.sha;
  }

  async createRef(ref: string, sha: string): Promise<GitRef> {
    const what = `creating ${ref} at ${sha} in ${this.repository}`;
    try {
      const { data } = await this.#octokit.rest.git.createRef({ owner: this.owner, repo: this.repo, ref, sha });
      return refFrom(data, what);
    } catch (error) {
      throw this.#translate(error, what, (f) => {
        if (f.status !== 422) return undefined;
        if (/already exists/i.test(f.message)) return new RefExistsError(`${what}: the ref already exists`);
        if (/object does not exist/i.test(f.message)) return new NotFoundError(`${what}: ${sha} does not exist in ${this.repository}`);
        return undefined;
      });
    }
  }

  /** Move a branch; without `force` GitHub refuses anything but a fast-forward. */
  async updateBranch(branch: string, sha: string, options: { force: boolean }): Promise<GitRef> {
    const what = `${options.force ? 'force-' : ''}updating branch ${quote(branch)} of ${this.repository} to ${sha}`;
    try {
      const { data } = await this.#octokit.rest.git.updateRef({ owner: this.owner, repo: this.repo, ref: `heads/${branch}`, sha, force: options.force });
      return refFrom(data, what);
    } catch (error) {
      const status = httpFailure(error)?.status;
      const translated = this.#translate(error, what, (f) => {
        if (f.status !== 422) return undefined;
        if (/fast.?forward/i.test(f.message)) return new ConflictError(`${what}: not a fast-forward (HTTP 422)`);
        if (/reference does not exist/i.test(f.message)) return new NotFoundError(`${what}: the branch does not exist`);
        if (/object does not exist/i.test(f.message)) return new NotFoundError(`${what}: ${sha} does not exist in ${this.repository}`);
        return undefined;
      });
      // A 4xx is GitHub refusing the update: it did not happen. A 5xx or no answer decides nothing.
      if (status !== undefined && status >= 400 && status < 500) refusedUpdates.add(translated);
      throw translated;
    }
  }

  /** How `head` relates to `base` (both commit ids or branch names). */
  async compare(base: string, head: string): Promise<Comparison> {
    const what = `comparing ${base}...${head} in ${this.repository}`;
    const { comparison } = await this.#comparePage(base, head, 1, 1, what);
    return comparison;
  }

  /**
   * The commits `head` has that `base` lacks: GitHub pages them oldest first, so the first
   * page gives the count, and the newest `limit` come from the last page or two (at most
   * three requests; usually one). Every field is checked before use.
   */
  async commitsBetween(base: string, head: string, limit = 20): Promise<CommitRange> {
    const what = `comparing ${base}...${head} in ${this.repository}`;
    const first = await this.#comparePage(base, head, limit, 1, what);
    const total = first.total;
    let commits = first.commits;
    if (total > commits.length && commits.length === limit) {
      const last = Math.ceil(total / limit);
      const pages = [last, ...(last - 1 > 1 ? [last - 1] : [])];
      const more = await Promise.all(pages.map((page) => this.#comparePage(base, head, limit, page, what)));
      // Oldest first: page last-1, then page last.
      commits = [...(more[1]?.commits ?? []), ...more[0]!.commits];
    }
    return { ...first.comparison, total, commits: commits.slice(-limit).reverse() };
  }

  async #comparePage(base: string, head: string, perPage: number, page: number, what: string): Promise<{ comparison: Comparison; total: number; commits: CommitSummary[] }> {
    try {
      const { data, headers } = await this.#octokit.rest.repos.compareCommitsWithBasehead({ owner: this.owner, repo: this.repo, basehead: `${base}...${head}`, per_page: perPage, page });
      const d = data as unknown as Record<string, unknown> | null;
      if (d === null || typeof d !== 'object' || Array.isArray(d)) throw malformed(what, headers['content-type']);
      const status = d.status;
      if (status !== 'identical' && status !== 'ahead' && status !== 'behind' && status !== 'diverged') throw malformed(what, headers['content-type'], 'status');
      const count = (field: string): number => {
        const value = d[field];
        // No repository has more commits than a safe integer counts (1e308 would print as 1e+308 and page on from there).
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw malformed(what, headers['content-type'], field);
        return value;
      };
      const mergeBase = (d.merge_base_commit as { sha?: unknown } | null | undefined)?.sha;
      if (typeof mergeBase !== 'string' || !isCommitId(mergeBase)) throw malformed(what, headers['content-type'], 'merge_base_commit.sha');
      if (typeof d.html_url !== 'string') throw malformed(what, headers['content-type'], 'html_url');
      const aheadBy = count('ahead_by');
      const behindBy = count('behind_by');
      const total = d.total_commits === undefined ? aheadBy : count('total_commits');
      const list = d.commits === undefined ? [] : d.commits;
      if (!Array.isArray(list)) throw malformed(what, headers['content-type'], 'commits');
      const commits = list.map((c: unknown, i: number) => commitSummary(c, () => malformed(what, headers['content-type'], `commits[${i}]`)));
      return { comparison: { status, aheadBy, behindBy, mergeBase, htmlUrl: d.html_url }, total, commits };
    } catch (error) {
      throw this.#translate(error, what, (f) => (f.status === 404 || f.status === 422 ? new NotFoundError(`${what}: a side of the comparison does not exist (HTTP ${f.status})`) : undefined));
    }
  }

  /** The browser URL comparing two commits, for messages. */
  compareUrl(base: string, head: string): string {
    const web = this.apiUrl === defaultApiUrl ? 'https://github.com' : this.apiUrl.replace(/\/api\/v3$/, '');
    return `${web}/${this.repository}/compare/${base}...${head}`;
  }

  /** Turn anything octokit threw into a PromoteError with a message free of credentials. */
  #translate(error: unknown, what: string, specific?: (failure: HttpFailure) => PromoteError | undefined): PromoteError {
    if (error instanceof PromoteError) return this.#redactError(error);
    const cause = (error as { cause?: unknown } | null)?.cause;
    if (cause instanceof GitHubTransportError || error instanceof GitHubTransportError) {
      const transport = (cause instanceof GitHubTransportError ? cause : error) as GitHubTransportError;
      return new RemoteError(`${what}: cannot reach the GitHub API at ${this.apiUrl}: ${transport.message}`);
    }
    const failure = httpFailure(error);
    if (!failure) return new RemoteError(this.#redact(`${what}: ${(error as Error | null)?.message ?? String(error)}`));
    const said = failure.message ? ` ${quote(this.#redact(failure.message), 200)}` : '';
    const mapped = specific?.({ ...failure, message: this.#redact(failure.message) });
    if (mapped) return this.#redactError(mapped);
    if (failure.status === 401) {
      const hint = this.#credential
        ? `check the token from ${this.#credential.source}${this.#credential.source === 'GITHUB_TOKEN' ? '' : ' (GITHUB_TOKEN, when set, is used instead)'}`
        : `no token was sent: ${this.#missingTokenHint}`;
      return new RemoteError(`${what}: GitHub refused the request (HTTP 401${said}); ${hint}`);
    }
    if (failure.status === 403 || failure.status === 429) {
      if (failure.headers['x-ratelimit-remaining'] === '0') {
        const reset = Number(failure.headers['x-ratelimit-reset']);
        const until = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
        return new RemoteError(`${what}: GitHub API rate limit exhausted${until} (HTTP ${failure.status})`);
      }
      const from = this.#credential ? `the token from ${this.#credential.source}` : 'an anonymous request';
      return new RemoteError(`${what}: forbidden (HTTP ${failure.status}${said}); ${from} needs contents: write on ${this.repository}`);
    }
    if (failure.status === 404) return new NotFoundError(`${what}: not found (HTTP 404${said})`);
    return new RemoteError(`${what}: HTTP ${failure.status}${said}`);
  }

  #redact(text: string): string {
    const token = this.#credential?.token;
    return token ? text.split(token).join('[REDACTED]') : text;
  }

  #redactError(error: PromoteError): PromoteError {
    const clean = this.#redact(error.message);
    if (clean === error.message) return error;
    const Kind = error.constructor as new (message: string) => PromoteError;
    return new Kind(clean);
  }
}

/** Build the client the way commands and tasks do: token from the environment or secret, API base from GITHUB_API_URL. */
export async function githubClientFromEnvironment(
  env: NodeJS.ProcessEnv,
  config: Config,
  options: { transport?: GitHubTransportOptions; requireToken?: boolean; redactor?: Redactor } = {},
): Promise<GitHubClient> {
  const hint = `set GITHUB_TOKEN, or run inside a task with TASKCLUSTER_PROXY_URL and the Taskcluster secret ${quote(config.taskcluster.secrets.github)} holding a ${githubSecretKey} field`;
  const apiUrl = env.GITHUB_API_URL !== undefined && env.GITHUB_API_URL !== '' ? parseApiUrl(env.GITHUB_API_URL, 'GITHUB_API_URL') : defaultApiUrl;
  const credential = await resolveGitHubToken(env, config, options.transport?.fetch ? { fetch: options.transport.fetch } : {});
  if (!credential && options.requireToken) throw new UsageError(`no GitHub credentials: ${hint}`);
  // Whatever GitHub answers (a commit title, an author) reaches output: the token is removed
  // from all of it, with its base64 forms, wherever it came from (GITHUB_TOKEN or the secret).
  options.redactor?.add(credential?.token);
  // The same knobs as the registry client, for operators behind slow links (and for tests).
  const transport: GitHubTransportOptions = {
    ...(env.TC_PROMOTE_HTTP_TIMEOUT_MS !== undefined && { timeoutMs: Number(env.TC_PROMOTE_HTTP_TIMEOUT_MS) }),
    ...(env.TC_PROMOTE_RETRY_BASE_MS !== undefined && { baseDelayMs: Number(env.TC_PROMOTE_RETRY_BASE_MS) }),
    ...options.transport,
  };
  return new GitHubClient({
    repository: config.github.repository,
    apiUrl,
    missingTokenHint: hint,
    ...(credential && { credential }),
    transport,
  });
}

function parseApiUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${field}: ${quoteUrl(text)} is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw new UsageError(`${field}: ${quoteUrl(text)} must be http(s)://host[:port][/path] with no credentials or query`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function shortRef(ref: string): string {
  if (!ref.startsWith('refs/')) throw new UsageError(`ref ${quote(ref)} must be fully qualified (refs/heads/…)`);
  return ref.slice('refs/'.length);
}

function refFrom(data: { ref?: unknown; object?: { sha?: unknown; type?: unknown } }, what: string): GitRef {
  const sha = data.object?.sha;
  const type = data.object?.type;
  if (typeof data.ref !== 'string' || typeof sha !== 'string' || !isCommitId(sha) || typeof type !== 'string' || !/^[a-z]{1,16}$/.test(type)) throw malformed(what);
  return { ref: data.ref, sha, type };
}

/** Object ids as GitHub reports them: 40 lowercase hex (a SHA-1 repository). */
function isCommitId(sha: string): boolean {
  return /^[0-9a-f]{40}$/.test(sha);
}

function malformed(what: string, contentType?: string, field?: string): RemoteError {
  const type = contentType?.split(';')[0]?.trim();
  const json = type === undefined || type === '' || /json/i.test(type);
  return new RemoteError(
    json
      ? `${what}: GitHub's answer does not have the documented shape${field ? ` (${field} missing or malformed)` : ''}`
      : `${what}: GitHub's answer is not JSON (${quote(type)}): a proxy or a captive portal may be answering for the API`,
  );
}

/** A commit of a compare answer, checked: its id, its message's first line, its author. */
function commitSummary(value: unknown, bad: () => RemoteError): CommitSummary {
  const c = value as { sha?: unknown; commit?: { message?: unknown; author?: { name?: unknown; date?: unknown } | null } } | null;
  if (c === null || typeof c !== 'object' || typeof c.sha !== 'string' || !isCommitId(c.sha)) throw bad();
  const message = c.commit?.message;
  if (typeof message !== 'string') throw bad();
  const author = c.commit?.author;
  const name = author && typeof author.name === 'string' && author.name !== '' ? (author.name.length > 100 ? `${author.name.slice(0, 100)}…` : author.name) : null;
  const date = author && typeof author.date === 'string' && !Number.isNaN(Date.parse(author.date)) ? author.date : null;
  const title = message.split('\n')[0]!.trim();
  return { sha: c.sha, title: title.length > 200 ? `${title.slice(0, 200)}…` : title, author: name, date };
}

/** The status, GitHub's message and headers of an HTTP failure octokit threw, if it was one. */
function httpFailure(error: unknown): HttpFailure | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { status, response } = error as { status?: unknown; response?: { data?: unknown; headers?: Record<string, string | undefined> } };
  if (typeof status !== 'number' || !response) return undefined;
  const data = response.data;
  const message = data !== null && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string' ? (data as { message: string }).message : '';
  return { status, message, headers: response.headers ?? {} };
}
