# Stand-in for aiohttp_retry: ciadmin reads Mercurial repositories' .taskcluster.yml through it.
# No Mercurial repository is served here: every request answers an empty file, which ciadmin
# treats as "this project has no .taskcluster.yml" (hashes nothing, makes no hook for it; a 404
# would abort the whole generation, as it would in production). Requests are recorded.
from simple_github import requests_seen


class ExponentialRetry:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class _Response:
    status = 200

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def raise_for_status(self):
        pass

    async def read(self):
        return b""


class RetryClient:
    def __init__(self, client_session=None, retry_options=None):
        pass

    def get(self, url, headers=None, params=None):
        requests_seen.append({"url": url, "served": False})
        return _Response()
