# Run fxci-config's own generators (ciadmin, ../shared/upstream/fxci-config/src/ciadmin) over
# an fxci-config folder (the current folder), as `ci-admin` does before it applies them:
# in_tree_actions.update_resources (the in-tree action hooks and their hook-id: roles) and
# grants.update_resources (the roles grants.d makes). Only tcadmin, aiohttp, simple_github and
# the taskcluster client are stand-ins (stubs/, on PYTHONPATH): the GitHub look-ups are
# answered from local git repositories (TC_PROMOTE_FXCI_REPOS), the hooks service has no hooks.
#
#   python3 fxci_generate.py  -> {"hooks": [...], "roles": [...], "githubRequests": [...]} on stdout
import asyncio
import json

from tcadmin.resources import Hook, Resources, Role

from ciadmin.generate import grants, in_tree_actions
from simple_github import requests_seen


async def main():
    hooks_resources = Resources()
    await in_tree_actions.update_resources(hooks_resources)
    grants_resources = Resources()
    await grants.update_resources(grants_resources)
    out = {"hooks": [], "roles": [], "githubRequests": requests_seen}
    for collection, source in ((hooks_resources, "in_tree_actions"), (grants_resources, "grants")):
        for resource in collection.resources.values():
            if isinstance(resource, Hook):
                out["hooks"].append({"hookGroupId": resource.hookGroupId, "hookId": resource.hookId, **resource.to_api()})
            elif isinstance(resource, Role):
                out["roles"].append({**resource.to_api(), "generator": source})
    print(json.dumps(out, sort_keys=True))


asyncio.run(main())
