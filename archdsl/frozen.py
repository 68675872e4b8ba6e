"""The base of every frozen pydantic node (AST, IR, tensor types, spans), with a fast `model_construct`.

Parsing and elaboration make their nodes with `model_construct` (the grammar and the shape rules already
guarantee their structure; validating each node again is what made elaboration slow). pydantic's own
`model_construct` still looks up aliases and default factories field by field on every call, about 10 µs per
node, which was a sixth of an elaboration and of a sweep. Here each class's plan (field order and immutable
defaults) is worked out once, so a node costs a dict and four attribute stores. The result is the object pydantic
would make: same `__dict__` in field order, same `model_fields_set`; tests/test_frozen.py compares the two on
every node class.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict

_IMMUTABLE = (type(None), bool, int, float, str, bytes, frozenset)
_setattr = object.__setattr__


def _immutable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    return isinstance(value, _IMMUTABLE) or (isinstance(value, BaseModel) and value.model_config.get("frozen", False))


class _Plan:
    """How to construct one class: its fields in order, the defaults that can be shared and those that must be
    copied (`args: dict = {}`, copied as pydantic copies it), and whether the fast path applies at all (aliases,
    default factories or a post-init hook send a class to pydantic's own `model_construct`)."""

    def __init__(self, cls: type[BaseModel]):
        self.fields = tuple(cls.__pydantic_fields__)
        self.defaults: dict[str, Any] = {}
        self.copied: set[str] = set()
        self.fast = not cls.__pydantic_post_init__ and not cls.__pydantic_root_model__ and \
            cls.model_config.get("extra") != "allow"
        for name, field in cls.__pydantic_fields__.items():
            if field.alias is not None or field.validation_alias is not None or field.default_factory is not None:
                self.fast = False
            elif not field.is_required():
                if not _immutable(field.default):
                    self.copied.add(name)
                self.defaults[name] = field.default


_PLANS: dict[type, _Plan] = {}


class Frozen(BaseModel):
    """A frozen, strict pydantic model whose `model_construct` is fast (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any):
        plan = _PLANS.get(cls)
        if plan is None:
            plan = _PLANS[cls] = _Plan(cls)
        if not plan.fast:
            return super().model_construct(_fields_set, **values)
        data: dict[str, Any] = {}
        given = set()
        defaults = plan.defaults
        for name in plan.fields:
            if name in values:
                data[name] = values[name]
                given.add(name)
            elif name in defaults:
                data[name] = copy.deepcopy(defaults[name]) if name in plan.copied else defaults[name]
        node = cls.__new__(cls)
        _setattr(node, "__dict__", data)
        _setattr(node, "__pydantic_fields_set__", given if _fields_set is None else _fields_set)
        _setattr(node, "__pydantic_extra__", None)
        _setattr(node, "__pydantic_private__", None)
        return node


__all__ = ["Frozen"]
