/**
 * taskcluster-lib-scopes (CommonJS, untyped): the scope logic Taskcluster's own services use.
 * Only what tc-promote calls is declared.
 */
declare module 'taskcluster-lib-scopes' {
  export type ScopeExpression = string | { AllOf: ScopeExpression[] } | { AnyOf: ScopeExpression[] };
  export function validScope(scope: string): boolean;
  export function validExpression(expression: ScopeExpression): boolean;
  export function satisfiesExpression(scopeset: string[], expression: ScopeExpression): boolean;
  /** The scopes of the set that satisfy the expression, or undefined when it is not satisfied. */
  export function scopesSatisfying(scopeset: string[], expression: ScopeExpression): string[] | undefined;
  /** What the expression still needs once the given scopes are taken into account (undefined: nothing). */
  export function removeGivenScopes(scopeset: string[], expression: ScopeExpression): ScopeExpression | undefined;
  export function simplifyScopeExpression(expression: ScopeExpression): ScopeExpression;
  export function scopeIntersection(a: string[], b: string[]): string[];
  export function scopeUnion(a: string[], b: string[]): string[];
  export function mergeScopeSets(a: string[], b: string[]): string[];
  export function scopeCompare(a: string, b: string): number;
  export function patternMatch(pattern: string, scope: string): boolean;
  const scopes: {
    validScope: typeof validScope;
    validExpression: typeof validExpression;
    satisfiesExpression: typeof satisfiesExpression;
    scopesSatisfying: typeof scopesSatisfying;
    removeGivenScopes: typeof removeGivenScopes;
    simplifyScopeExpression: typeof simplifyScopeExpression;
    scopeIntersection: typeof scopeIntersection;
    scopeUnion: typeof scopeUnion;
    mergeScopeSets: typeof mergeScopeSets;
    scopeCompare: typeof scopeCompare;
    patternMatch: typeof patternMatch;
  };
  export default scopes;
}
