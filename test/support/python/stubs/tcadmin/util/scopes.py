def normalizeScopes(scopes):
    """As tcadmin's: drop duplicates and scopes implied by another scope's `*` suffix; sort."""
    scopes = set(scopes)
    stars = [s[:-1] for s in scopes if s.endswith("*")]
    kept = [s for s in scopes if not any(s != p + "*" and s.startswith(p) for p in stars)]
    return sorted(kept)
