# Stand-in for tcadmin (mozilla/tc-admin, not installable here: PyPI is unreachable), only the
# names fxci-config's generators import: resources (Hook, Role, the Resources collection),
# normalizeScopes, MatchList, AppConfig, root_url, aiohttp_session. The generation logic that
# calls them is ciadmin's own.
