# Stand-in for aiohttp (not installable here): its error class, which ciadmin catches.


class ClientResponseError(Exception):
    def __init__(self, request_info=None, history=(), *, status=None, message=""):
        super().__init__(f"{status}, message={message!r}")
        self.request_info = request_info
        self.history = history
        self.status = status
        self.message = message
