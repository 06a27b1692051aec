# Stand-in for simple_github's GitHub client (the network): ciadmin asks it for a repository's
# branches (/repos/<repo>/branches, paginated by `link`) and a branch's .taskcluster.yml
# (/repos/<repo>/contents/.taskcluster.yml?ref=<branch>, raw). Answered from real git
# repositories named in TC_PROMOTE_FXCI_REPOS ({"<owner>/<repo>": "<git dir>"}): every branch
# of the repository, and `git show <branch>:.taskcluster.yml`. A repository not named there
# has no branches (an empty list; its .taskcluster.yml 404), so ciadmin makes no hook for it;
# every request is recorded in requests_seen, with served: false for those.
import json
import os
import subprocess

from aiohttp import ClientResponseError

requests_seen = []
_PAGE = 100


def _repos():
    return json.loads(os.environ.get("TC_PROMOTE_FXCI_REPOS", "{}"))


class _Response:
    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.ok = 200 <= status < 300
        self.reason = "OK" if self.ok else "Not Found"
        self._body = body
        self.headers = headers or {}

    def raise_for_status(self):
        if not self.ok:
            raise ClientResponseError(status=self.status, message=self.reason)

    async def read(self):
        return self._body

    async def text(self):
        return self._body.decode()

    async def json(self):
        return json.loads(self._body)


def _git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True).stdout


class AsyncClient:
    async def request(self, method, endpoint, headers=None, params=None):
        assert method == "GET", method
        params = dict(params or {})
        path, _, query = endpoint.partition("?")
        for part in filter(None, query.split("&")):
            k, _, v = part.partition("=")
            params[k] = v
        parts = path.strip("/").split("/")
        repo = "/".join(parts[1:3])
        gitdir = _repos().get(repo)
        requests_seen.append({"endpoint": endpoint, "params": {k: str(v) for k, v in params.items()}, "served": gitdir is not None})
        if gitdir is None:
            return _Response(200, b"[]") if parts[3:] == ["branches"] else _Response(404)
        if parts[3:] == ["branches"]:
            names = sorted(
                line.decode()
                for line in _git(gitdir, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/").splitlines()
            )
            page = int(params.get("page", 1))
            per_page = int(params.get("per_page", 30))
            chunk = names[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(names):
                headers["link"] = f'<https://api.github.com/repos/{repo}/branches?per_page={per_page}&page={page + 1}>; rel="next"'
            return _Response(200, json.dumps([{"name": n} for n in chunk]).encode(), headers)
        if parts[3:] == ["contents", ".taskcluster.yml"]:
            try:
                return _Response(200, _git(gitdir, "show", f"refs/heads/{params['ref']}:.taskcluster.yml"))
            except subprocess.CalledProcessError:
                return _Response(404)
        return _Response(404)

    async def close(self):
        pass


def client_from_env(owner, repositories):
    return AsyncClient
