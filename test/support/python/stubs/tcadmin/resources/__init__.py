import copy
import re

from ..util.scopes import normalizeScopes  # noqa: F401


class _Resource:
    _fields = ()
    _kind = ""

    def __init__(self, **kwargs):
        unknown = set(kwargs) - set(self._fields)
        if unknown:
            raise TypeError(f"{self._kind}: unknown fields {sorted(unknown)}")
        missing = [f for f in self._fields if f not in kwargs]
        if missing:
            raise TypeError(f"{self._kind}: missing fields {missing}")
        for k, v in kwargs.items():
            setattr(self, k, copy.deepcopy(v))

    def evolve(self, **changes):
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other):
        return type(self) is type(other) and all(getattr(self, f) == getattr(other, f) for f in self._fields)


class Hook(_Resource):
    _kind = "Hook"
    _fields = ("hookGroupId", "hookId", "name", "description", "owner", "emailOnError", "schedule", "bindings", "task", "triggerSchema")

    @property
    def id(self):
        return f"Hook={self.hookGroupId}/{self.hookId}"

    def to_api(self):
        # tcadmin's Hook.to_api: the hooks service's hook-definition (without the ids, which are in the URL)
        return {
            "metadata": {"name": self.name, "description": self.description, "owner": self.owner, "emailOnError": self.emailOnError},
            "schedule": list(self.schedule),
            "bindings": list(self.bindings),
            "task": self.task,
            "triggerSchema": self.triggerSchema,
        }

    @classmethod
    def from_api(cls, api):
        m = api["metadata"]
        return cls(
            hookGroupId=api["hookGroupId"], hookId=api["hookId"], name=m["name"], description=m["description"], owner=m["owner"],
            emailOnError=m["emailOnError"], schedule=api.get("schedule", []), bindings=api.get("bindings", []), task=api["task"], triggerSchema=api["triggerSchema"],
        )


class Role(_Resource):
    _kind = "Role"
    _fields = ("roleId", "description", "scopes")

    @property
    def id(self):
        return f"Role={self.roleId}"

    def to_api(self):
        return {"roleId": self.roleId, "description": self.description, "scopes": list(self.scopes)}


class Binding(dict):
    def __init__(self, exchange, routingKeyPattern):
        super().__init__(exchange=exchange, routingKeyPattern=routingKeyPattern)


class Client(_Resource):
    _kind = "Client"
    _fields = ("clientId", "description", "scopes")


class WorkerPool(_Resource):
    _kind = "WorkerPool"
    _fields = ("workerPoolId", "providerId", "description", "owner", "emailOnError", "config")


class Resources:
    """tcadmin's collection: generators add resources and name the patterns they manage.
    Adding the same id twice with different content is an error, as in tcadmin."""

    def __init__(self):
        self.resources = {}
        self.managed = []

    def manage(self, pattern):
        self.managed.append(pattern)

    def add(self, resource):
        existing = self.resources.get(resource.id)
        if existing is not None and existing != resource:
            raise RuntimeError(f"Cannot add {resource.id}: it already exists with different content")
        if not any(re.fullmatch(p, resource.id) for p in self.managed):
            raise RuntimeError(f"Cannot add {resource.id}: it is not managed")
        self.resources[resource.id] = resource
