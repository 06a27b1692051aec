import os


class _Options(dict):
    pass


class AppConfig:
    """tcadmin's application configuration: only `--environment` (the fxci-config environment
    the generators run for), from TC_PROMOTE_FXCI_ENVIRONMENT (default firefoxci)."""

    _current = None

    def __init__(self):
        self.options = _Options({"--environment": os.environ.get("TC_PROMOTE_FXCI_ENVIRONMENT", "firefoxci")})

    @classmethod
    def current(cls):
        if cls._current is None:
            cls._current = AppConfig()
        return cls._current
