// The roles fxci-config's grants make, computed the way ciadmin computes them
// (mozilla-releng/fxci-config src/ciadmin/generate/grants.py, util/matching.py), for the
// grantees this project meets: `project`/`projects` grantees (conditions access, level,
// alias, feature and !feature, repo_type, is_try, has_trust_project, trust_domain,
// include_pull_requests; jobs `*`, branch:<glob>, action:*, cron:*, pull-request:*) for a
// git project, and `roles` grantees (the `anonymous` role above all). Group grantees
// (people) are left out: no test acts as a person of a group. Scopes are substituted with
// {alias}, {level}, {priority}, {trust_domain}, {trust_project}, {repo_path}.
//
//   const roles = fxciRoles(grantFiles(dir), loadProjects(dir), ['scriptworker-scripts']);
//   roles['repo:github.com/mozilla-releng/scriptworker-scripts:action:*']   // scopes
//
// The emulator expands `assume:` scopes with these roles as the auth service does.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load as parseYaml } from 'js-yaml';

interface Project {
  alias: string;
  repo: string;
  repo_type: string;
  access?: string;
  trust_domain?: string;
  trust_project?: string;
  is_try?: boolean;
  default_branch: string;
  branches: { name: string; level: number }[];
  features: Record<string, boolean | { enabled?: boolean; policy?: string }>;
}

interface ProjectGrantee {
  access?: string | string[];
  level?: number | number[];
  alias?: string | string[];
  feature?: string | string[];
  repo_type?: string | string[];
  is_try?: boolean;
  trust_domain?: string | string[];
  job?: string | string[];
  include_pull_requests?: boolean;
  has_trust_project?: boolean;
}

type Grantee = { project: ProjectGrantee } | { projects: ProjectGrantee } | { roles: string | string[] } | { role: string | string[] } | { group: unknown } | { groups: unknown };

export interface Grant {
  grant: string[];
  to: Grantee[];
  environments?: string[];
}

const levelPriorities: Record<number, string> = { 1: 'low', 2: 'low', 3: 'highest' };

const list = <T>(value: T | T[] | undefined): T[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

/** Every grants.d/*.yml file of a folder laid out like fxci-config, in name order. */
export function grantFiles(root: string): Grant[] {
  const dir = path.join(root, 'grants.d');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .flatMap((f) => (parseYaml(readFileSync(path.join(dir, f), 'utf8')) as Grant[] | null) ?? []);
}

export function loadProjects(root: string): Project[] {
  const data = parseYaml(readFileSync(path.join(root, 'projects.yml'), 'utf8')) as Record<string, Omit<Project, 'alias'>>;
  return Object.entries(data).map(([alias, p]) => ({ ...p, alias, features: p.features ?? {} }));
}

function feature(project: Project, name: string): boolean {
  const value = project.features[name];
  return value === true || (typeof value === 'object' && value !== null && value.enabled !== false);
}

function prPolicy(project: Project): string {
  const value = project.features['github-pull-request'];
  return typeof value === 'object' && value !== null ? (value.policy ?? '') : '';
}

function globMatch(patterns: string[] | undefined, value: string): boolean {
  if (patterns === undefined) return true;
  return patterns.some((p) => p === '*' || (p.endsWith('*') ? value.startsWith(p.slice(0, -1)) : value === p));
}

function levelOf(project: Project, branch: string): number | undefined {
  if (project.access?.startsWith('scm_level_')) return Number(project.access.at(-1));
  return project.branches.find((b) => globMatch([b.name], branch))?.level;
}

function repoPath(project: Project): string {
  return new URL(project.repo).pathname.replace(/^\/+|\/+$/g, '');
}

function rolePrefix(project: Project): string {
  const url = new URL(project.repo);
  return `repo:${url.host}/${repoPath(project)}`;
}

function projectMatch(g: ProjectGrantee, p: Project): boolean {
  const is = <T>(values: T[] | undefined, value: T | undefined): boolean => values === undefined || values.some((v) => v === value);
  if (!is(list(g.access), p.access)) return false;
  if (!is(list(g.repo_type), p.repo_type)) return false;
  if (p.access && !is(list(g.level), levelOf(p, p.default_branch))) return false;
  if (!is(list(g.alias), p.alias)) return false;
  for (const f of list(g.feature) ?? []) if (f.startsWith('!') ? feature(p, f.slice(1)) : !feature(p, f)) return false;
  if (g.is_try !== undefined && Boolean(p.is_try) !== g.is_try) return false;
  if (g.has_trust_project !== undefined && g.has_trust_project !== Boolean(p.trust_project)) return false;
  if (!is(list(g.trust_domain), p.trust_domain)) return false;
  return true;
}

function formatScope(p: Project, scope: string, level: number | undefined, priority: string | undefined): string {
  const subs: Record<string, string | undefined> = {
    alias: p.alias,
    level: level === undefined ? undefined : String(level),
    priority,
    trust_domain: p.trust_domain,
    trust_project: p.trust_project,
    repo_path: repoPath(p),
  };
  return scope.replace(/\{([a-z_]+)\}/g, (all, key: string) => {
    const value = subs[key];
    if (value === undefined) throw new Error(`grant scope ${scope}: no value for {${key}} in project ${p.alias}`);
    return value;
  });
}

function roleSuffix(job: string, policy: string): string {
  if (job === 'pull-request:untrusted' && policy === 'public_restricted') return 'pull-request-untrusted';
  if (job.startsWith('pull-request')) return 'pull-request';
  return job;
}

function addForProject(grant: Grant, g: ProjectGrantee, p: Project, add: (role: string, scope: string) => void): void {
  if (!projectMatch(g, p)) return;
  const jobs = list(g.job) ?? ['*'];
  const branchJobs = new Set<string>();
  let other = new Set<string>();
  for (const job of jobs) {
    if (job === '*') {
      branchJobs.add('branch:*');
      other.add(job);
    } else if (job.startsWith('branch')) branchJobs.add(job);
    else other.add(job);
  }
  const policy = prPolicy(p);
  const defaultLevel = levelOf(p, p.default_branch);
  if (other.has('*') && p.repo_type === 'git' && defaultLevel !== 1) {
    other.delete('*');
    for (const j of ['pull-request:*', 'cron:*', 'action:*', 'pr-action:*', 'release:*']) other.add(j);
  }
  const keep = (test: (job: string) => boolean): void => void (other = new Set([...other].filter(test)));
  if (!feature(p, 'taskgraph-cron')) keep((j) => !j.startsWith('cron:'));
  if (!feature(p, 'taskgraph-actions') && !feature(p, 'gecko-actions')) keep((j) => !j.startsWith('action:'));
  if (!feature(p, 'pr-actions')) keep((j) => !j.startsWith('pr-action:'));
  const levels = list(g.level);
  if (p.repo_type !== 'git' || !policy || g.include_pull_requests === false || (levels && !levels.includes(1))) keep((j) => !j.startsWith('pull-request') && !j.startsWith('pr-action'));
  if (other.has('pull-request:*')) {
    other.delete('pull-request:*');
    other.add('pull-request:trusted');
    other.add('pull-request:untrusted');
  }
  if (policy === 'public') other.delete('pull-request:trusted');
  else if (policy.startsWith('collaborators')) other.delete('pull-request:untrusted');
  for (const job of other) {
    let level = defaultLevel;
    if (p.repo_type === 'git' && !job.startsWith('pull-request') && levels && !levels.includes(level!)) continue;
    const priority = levelPriorities[level!];
    if (job.startsWith('pull-request') || job.startsWith('pr-action')) level = 1;
    for (const scope of grant.grant) add(`${rolePrefix(p)}:${roleSuffix(job, policy)}`, formatScope(p, scope, level, priority));
  }
  for (const branch of p.branches) {
    if (levels && !levels.includes(branch.level)) continue;
    for (const job of branchJobs) {
      if (!globMatch([job.split(':')[1]!], branch.name)) continue;
      const level = levelOf(p, branch.name);
      if (levels && !levels.includes(level!)) continue;
      for (const scope of grant.grant) add(`${rolePrefix(p)}:branch:${branch.name}`, formatScope(p, scope, level, levelPriorities[level!]));
    }
  }
}

/**
 * The roles (roleId → scopes, in grant order, duplicates removed) that the grants make for
 * the named projects, plus every role a `roles` grantee names.
 */
export function fxciRoles(grants: Grant[], projects: Project[], aliases: string[], environment = 'firefoxci'): Record<string, string[]> {
  const roles: Record<string, string[]> = {};
  const add = (role: string, scope: string): void => {
    const scopes = (roles[role] ??= []);
    if (!scopes.includes(scope)) scopes.push(scope);
  };
  const selected = projects.filter((p) => aliases.includes(p.alias));
  for (const grant of grants) {
    if (grant.environments && !grant.environments.includes(environment)) continue;
    for (const grantee of grant.to) {
      if ('project' in grantee || 'projects' in grantee) {
        const g = 'project' in grantee ? grantee.project : grantee.projects;
        for (const p of selected) addForProject(grant, g, p, add);
      } else if ('roles' in grantee || 'role' in grantee) {
        for (const role of list('roles' in grantee ? grantee.roles : grantee.role) ?? []) for (const scope of grant.grant) add(role, scope);
      }
    }
  }
  return roles;
}
