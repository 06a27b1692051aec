// Role expansion as the auth service does it (taskcluster/taskcluster services/auth,
// scoperesolver.js and trie.js; documented in ui/docs/reference/platform/auth/roles.mdx):
//   - `assume:<roleId>` gives the role's scopes, recursively;
//   - a role whose id ends in `*` applies to every `assume:` scope of which it is a prefix,
//     and `<..>` in its scopes is replaced by what the `*` matched (when that ends in `*`,
//     everything from `<..>` on is replaced by it);
//   - an `assume:` scope ending in `*` gets the scopes of every role it is a prefix of (for a
//     parameterised role, `<..>` and what follows become `*`).
// Written out as a fixed point over a small role set (the service builds a trie; the
// results are the same sets). Normalisation comes from taskcluster-lib-scopes.
import scopes from 'taskcluster-lib-scopes';

export type Roles = Record<string, string[]>;

const param = '<..>';

function substitute(scope: string, value: string): string {
  const at = scope.indexOf(param);
  if (at < 0) return scope;
  return value.endsWith('*') ? `${scope.slice(0, at)}${value}` : `${scope.slice(0, at)}${value}${scope.slice(at + param.length)}`;
}

/** The scopes one scope gives through the roles (not including itself). */
function given(scope: string, roles: Roles): string[] {
  if (!scope.startsWith('assume:') && !(scope.endsWith('*') && 'assume:'.startsWith(scope.slice(0, -1)))) return [];
  const out: string[] = [];
  for (const [roleId, roleScopes] of Object.entries(roles)) {
    const assume = `assume:${roleId}`;
    const starRole = roleId.endsWith('*');
    const prefix = starRole ? assume.slice(0, -1) : assume;
    if (starRole && scope.startsWith(prefix)) {
      // The role's * matches the rest of the scope.
      out.push(...roleScopes.map((s) => substitute(s, scope.slice(prefix.length))));
    } else if (!starRole && scope === assume) {
      out.push(...roleScopes);
    } else if (scope.endsWith('*') && prefix.startsWith(scope.slice(0, -1))) {
      // A kleene scope covering the role: every scope it has, parameters as *.
      out.push(...roleScopes.map((s) => substitute(s, '*')));
    }
  }
  return out;
}

/** The expanded scope set of `input`, normalised (no scope another one satisfies). */
export function expandScopes(input: string[], roles: Roles): string[] {
  const seen = new Set(input);
  const queue = [...input];
  while (queue.length) {
    const scope = queue.pop()!;
    for (const s of given(scope, roles)) {
      if (!seen.has(s)) {
        seen.add(s);
        queue.push(s);
      }
    }
    if (seen.size > 100_000) throw new Error('role expansion does not end: the roles form a cycle');
  }
  return scopes.scopeUnion([...seen], []);
}
