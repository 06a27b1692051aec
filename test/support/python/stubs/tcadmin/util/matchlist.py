import re


class MatchList:
    """As tcadmin's: a list of regular expressions, matched against whole resource ids."""

    def __init__(self, patterns=()):
        self.patterns = list(patterns)

    def add(self, pattern):
        self.patterns.append(pattern)

    def matches(self, resource_id):
        return any(re.fullmatch(p, resource_id) for p in self.patterns)
