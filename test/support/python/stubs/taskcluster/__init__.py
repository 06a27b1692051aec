# Import-only stand-in for the taskcluster Python client (not installable here: PyPI is
# unreachable). taskgraph's and ciadmin's modules import it; nothing the tests run calls it.
# Any use other than the exception class fails loudly.
from .exceptions import TaskclusterRestFailure  # noqa: F401


def __getattr__(name):
    raise RuntimeError(f"taskcluster.{name}: the taskcluster client is an import-only stand-in in these tests; nothing may call it")
