"""frozen.Frozen.model_construct makes the object pydantic's own model_construct makes, for every node class."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field

from archdsl import ast, ir
from archdsl.frozen import Frozen
from archdsl.source import Span
from archdsl.types import TensorType


def _classes(base: type) -> list[type]:
    found = []
    for cls in base.__subclasses__():
        found.append(cls)
        found.extend(_classes(cls))
    return found


NODE_CLASSES = sorted(set(_classes(Frozen)), key=lambda c: (c.__module__, c.__qualname__))
SPAN = Span(file="x.arch", line=1, col=1, end_line=1, end_col=2)


def _sample(annotation_name: str, field) -> object:
    """Some value for a field, by its name: what matters is that both constructions get the same one."""
    return {"span": SPAN, "out": TensorType.of(3, 8, 8), "input": TensorType.of(3, 8, 8), "dims": (1, 2)}.get(
        annotation_name, f"value-of-{annotation_name}")


def test_every_node_class_is_covered():
    names = {c.__name__ for c in NODE_CLASSES}
    assert {"Span", "TensorType", "OpNode", "GroupNode", "Graph", "Network", "Call", "Module", "Literal_"} <= names


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
@pytest.mark.parametrize("given", ["all", "required"])
def test_same_object_as_pydantic(cls, given):
    fields = cls.__pydantic_fields__
    names = [n for n, f in fields.items() if given == "all" or f.is_required()]
    values = {n: _sample(n, fields[n]) for n in names}
    ours = cls.model_construct(**values)
    theirs = BaseModel.model_construct.__func__(cls, **values)
    assert type(ours) is cls
    assert list(ours.__dict__.items()) == list(theirs.__dict__.items())  # the same values, in field order
    assert ours.model_fields_set == theirs.model_fields_set == set(names)
    assert ours.__pydantic_extra__ == theirs.__pydantic_extra__
    assert ours.__pydantic_private__ == theirs.__pydantic_private__
    assert ours == theirs


def test_explicit_fields_set_and_unknown_keys():
    span = Span.model_construct({"file"}, file="a", line=1, col=2, end_line=1, end_col=3, bogus=1)
    assert span.model_fields_set == {"file"}
    assert "bogus" not in span.__dict__  # ignored, as pydantic's model_construct ignores it under extra="forbid"


def test_classes_the_fast_path_cannot_take_fall_back_to_pydantic():
    class WithFactory(Frozen):
        items: list[int] = Field(default_factory=list)

    class WithMutableDefault(Frozen):
        model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
        seen: dict = {}

    class WithAlias(Frozen):
        value: int = Field(alias="v")

    a, b = WithFactory.model_construct(), WithFactory.model_construct()
    assert a.items == [] and a.items is not b.items  # a fresh list each, not one shared default
    c, d = WithMutableDefault.model_construct(), WithMutableDefault.model_construct()
    assert c.seen == {} and c.seen is not d.seen
    assert WithAlias.model_construct(v=3).value == 3


def test_constructed_nodes_stay_frozen_and_hashable():
    t = TensorType.of(3, 4, 4)
    with pytest.raises(Exception):
        t.dims = (1,)
    assert hash(t) == hash(TensorType(dims=(3, 4, 4))) and t == TensorType(dims=(3, 4, 4))
    assert ast.Var.model_construct(span=SPAN, name="x") == ast.Var(span=SPAN, name="x")
