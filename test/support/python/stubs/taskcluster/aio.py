# Stand-in for the taskcluster client's Hooks (the network): ciadmin lists the hook group's
# existing hooks to keep recently fired old ones. None exists here: listHooks answers 404
# (ciadmin: "the group doesn't exist, that's OK, it just means there are no hooks").
from .exceptions import TaskclusterRestFailure


class Hooks:
    def __init__(self, options=None, session=None):
        pass

    async def listHooks(self, hookGroupId):
        raise TaskclusterRestFailure(f"hook group {hookGroupId} not found", status_code=404)
