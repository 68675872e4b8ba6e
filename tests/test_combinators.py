"""The combinator registry: every entry's shape rule agrees with its lowering, every entry is documented, and
a combinator registered in one file is checked, built, drawn and reserved everywhere, then gone again."""

from __future__ import annotations

from pathlib import Path

import pytest

import archdsl
from archdsl.combinators import (COMBINATORS, Combinator, MergeError, MergeInput, eager, fold, register, same_shape,
                                 unregister)
from archdsl.diagnostics import ArchError
from archdsl.types import SPATIAL, TensorType
from archdsl.viz import to_dot

DOCS = Path(__file__).resolve().parents[1] / "docs" / "language.md"
ENTRIES = sorted(COMBINATORS)


def _inputs(*shapes: tuple[int, ...]) -> list[MergeInput]:
    return [MergeInput(TensorType.of(*dims), f"branch {i}") for i, dims in enumerate(shapes, start=1)]


@pytest.mark.parametrize("name", ENTRIES)
def test_shape_rule_agrees_with_the_lowering(name):
    torch = pytest.importorskip("torch")
    combinator = COMBINATORS[name]
    inputs = _inputs((4, 5, 5), (4, 5, 5), (4, 5, 5))
    merged = combinator.lower([torch.randn(2, *i.type.dims) for i in inputs])
    assert tuple(merged.shape[1:]) == combinator.infer(inputs).dims


@pytest.mark.parametrize("name", ENTRIES)
def test_shape_rule_names_the_input_that_breaks_it_and_how(name):
    with pytest.raises(MergeError) as caught:
        COMBINATORS[name].infer(_inputs((4, 5, 5), (4, 5, 5), (4, 3, 3)))
    error = caught.value
    assert (error.culprit, error.reference, error.aspect) == (2, 0, SPATIAL)
    assert error.message.startswith(f"`{name}`: branch 3 ")
    assert error.code in archdsl.diagnostics.CODES


@pytest.mark.parametrize("name", ENTRIES)
def test_every_combinator_has_its_row_in_the_docs(name):
    row = f"| `{name} {{ a \\| b }}` | {COMBINATORS[name].doc} |"
    assert row in DOCS.read_text().splitlines(), f"docs/language.md needs the row: {row}"


def test_mul_blames_the_branch_that_set_the_conflicting_dimension():
    with pytest.raises(MergeError) as caught:
        COMBINATORS["mul"].infer(_inputs((1, 8, 8), (4, 8, 8), (8, 8, 8)))
    assert (caught.value.culprit, caught.value.reference) == (2, 1)
    assert "does not broadcast with 4x8x8" in caught.value.message


class Maximum(Combinator):
    """The throwaway combinator: everything below comes from this one class."""

    name = "maximum"
    doc = "elementwise maximum of inputs of the same shape"
    requirement = "branches must have the same shape"
    symbol = "max"

    def infer(self, inputs):
        return same_shape(self, inputs, code="E0201")

    def lower(self, inputs, call=eager):
        import torch

        return fold(call, torch.maximum, inputs)


@pytest.fixture
def maximum():
    register(Maximum)
    try:
        yield COMBINATORS["maximum"]
    finally:
        unregister("maximum")


SPEC = """
network n(input=[3, 8, 8]) {
    conv(8, 3, pad=1)
    maximum { conv(8, 3, pad=1) | relu }
}
"""


def test_a_registered_combinator_is_checked_built_and_drawn(maximum, write):
    torch = pytest.importorskip("torch")
    path = write("max.arch", SPEC)
    network = archdsl.check(path)
    assert network.output.dims == (8, 8, 8)
    assert [n.op for n in network.graph.nodes if n.kind == "merge"] == ["maximum"]

    model = archdsl.build(network).eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        stem = model.get_submodule("0")(x)
        expected = torch.maximum(model.get_submodule("1")(stem), torch.relu(stem))
        torch.testing.assert_close(model(x), expected)
    assert "maximum" in model.code

    assert '[label="max", shape="box"' in to_dot(network)  # a word is drawn in a box, a glyph in a circle


def test_a_registered_combinator_reports_its_rule_and_is_reserved(maximum, write):
    bad = write("bad.arch", SPEC.replace("| relu", "| conv(4, 1)"))
    with pytest.raises(ArchError) as caught:
        archdsl.check(bad)
    (d,) = caught.value.diagnostics
    assert d.code == "E0201" and d.message.startswith("`maximum`: branch 2 has shape 4x8x8")
    assert d.label == "branches must have the same shape" and (d.span.line, d.span.col) == (4, 5)

    reserved = write("reserved.arch", "block maximum(c) { relu }\n" + SPEC)
    with pytest.raises(ArchError) as caught:
        archdsl.check(reserved)
    assert "`maximum` is a keyword" in caught.value.diagnostics[0].message

    stray = write("stray.arch", "network n(input=[3, 8, 8]) { relu | relu }\n")
    with pytest.raises(ArchError) as caught:
        archdsl.check(stray)
    assert "`add`, `concat`, `mul` or `maximum`" in caught.value.diagnostics[0].message


def test_an_unregistered_combinator_is_unknown_again(write):
    path = write("max.arch", SPEC)
    with pytest.raises(ArchError) as caught:
        archdsl.check(path)
    (d,) = caught.value.diagnostics
    assert d.code == "E0101" and d.message == "unknown combinator `maximum`" and (d.span.line, d.span.col) == (4, 5)
    assert "`add`, `concat` or `mul`" in d.help


def test_unknown_combinator_suggests_the_closest_name(write):
    path = write("typo.arch", "network n(input=[3, 8, 8]) { conact { relu | } }\n")
    with pytest.raises(ArchError) as caught:
        archdsl.check(path)
    assert caught.value.diagnostics[0].help == "did you mean `concat`?"


def test_a_call_followed_by_a_group_is_written_with_parentheses(write):
    """A name right before `{` is always a combinator; `relu() { ... }` is a call, then a group."""
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("a.arch", "network n(input=[3, 8, 8]) { relu { conv(4, 1) } }\n"))
    assert "write `relu() { ... }`" in caught.value.diagnostics[0].help
    network = archdsl.check(write("b.arch", "network n(input=[3, 8, 8]) { relu() { conv(4, 1) } }\n"))
    assert [n.kind for n in network.graph.nodes] == ["op", "group"]


@pytest.mark.parametrize("text", ["concat relu", "concat(3)", "relu add"])
def test_a_combinator_called_like_a_primitive_needs_braces(write, text):
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("c.arch", f"network n(input=[3, 8, 8]) {{ {text} }}\n"))
    (d,) = caught.value.diagnostics
    assert d.code == "E0001" and d.message.endswith("takes its branches in braces")
