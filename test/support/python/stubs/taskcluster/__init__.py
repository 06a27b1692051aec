# Stand-in for the taskcluster Python client (not installable here: PyPI is unreachable).
# taskgraph's and ciadmin's modules import it; while rendering actions.json nothing calls it,
# and ciadmin's only call (taskcluster.aio.Hooks.listHooks) answers that no hook exists yet.
# Any other use fails loudly.
from .exceptions import TaskclusterRestFailure  # noqa: F401


def optionsFromEnvironment(defaults=None):
    return dict(defaults or {})


def __getattr__(name):
    raise RuntimeError(f"taskcluster.{name}: the taskcluster client is an import-only stand-in in these tests; nothing may call it")
