from ..util.scopes import normalizeScopes  # noqa: F401
from . import Role  # noqa: F401
