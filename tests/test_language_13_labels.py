"""Issue 13 item 3: labels computed from loop variables (`"denselayer{i + 1}": ...`), so state_dict keys can
equal a reference's names where it builds them in a loop; densenet121 then matches torchvision by name."""

from __future__ import annotations

import importlib.util

import pytest

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.source import Source
from archdsl.syntax.format import format_source, same_ast
from archdsl.syntax.parser import parse

from conftest import SPECS, reference

LOOPS = """
network n(input=[8, 8, 8]) {
    repeat 2 as i { "layer{i + 1}": conv(8, 3, pad=1) }
    for c in [4, 8] as j { "stage{j}_{c}": conv(c, 1) }
    "block": relu
    "block1-0": { conv(8, 1) }
    trunk_output: { for k in 2 { "block1-{k}": conv(8, 1) } }
}
"""


def _error(write, body: str) -> ArchError:
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("e.arch", f"network n(input=[8, 8, 8]) {{\n    {body}\n}}\n"))
    return caught.value


def test_string_labels_interpolate_loop_variables(write):
    net = archdsl.check(write("n.arch", LOOPS))
    names = [node.name for node in net.graph.nodes if getattr(node, "name", None)]
    assert names == ["layer1", "layer2", "stage0_4", "stage1_8", "block", "block1-0", "trunk_output"]
    trunk = net.graph.nodes[-1]
    assert [node.name for node in trunk.graph.nodes] == ["block1-0", "block1-1"]


def test_labels_that_are_no_python_names_lower_to_submodules(write):
    torch = pytest.importorskip("torch")
    model = archdsl.load(write("n.arch", LOOPS))
    assert list(model.state_dict())[::2] == [
        "layer1.weight", "layer2.weight", "stage0_4.weight", "stage1_8.weight", "block1-0.0.weight",
        "trunk_output.block1-0.weight", "trunk_output.block1-1.weight"]
    assert model(torch.randn(1, 8, 8, 8)).shape == (1, 8, 8, 8)


def test_string_labels_format_as_written():
    text = 'network n(input=[8, 8, 8]) {\n    repeat 2 as i { "layer{i + 1}": conv(8, 3, pad=1) }\n}\n'
    assert format_source(Source("a.arch", text)) == text
    messy = 'network n(input=[8,8,8]){repeat 2 as i{"layer{i+1}" : conv(8,3,pad=1)}}'
    out = format_source(Source("a.arch", messy))
    assert '"layer{i+1}": conv(8, 3, pad=1)' in out
    assert same_ast(parse(Source("a.arch", messy)), parse(Source("b.arch", out)))


@pytest.mark.parametrize("body, code, message, col", [
    ('"a{": relu', "E0001", "`{` in a label has no `}`", 7),
    ('"a}": relu', "E0001", "`}` in a label has no `{` before it", 7),
    ('"a{}": relu', "E0001", "`{}` in a label holds no expression", 7),
    ('"a{1 +}": relu', "E0001", "`{1 +}` in a label is not a whole expression", 11),
    ('"a{1 2}": relu', "E0001", "found `2`", 10),
    ('"a{x}": relu', "E0102", "unknown variable `x`", 8),
    ('"a{1.5}": relu', "E0108", "a label's `{...}` must be an int or a string, got float `1.5`", 8),
    ('"a.b": relu', "E0107", "label `a.b` cannot name a submodule", 5),
    ('"": relu', "E0107", "an empty label cannot name a submodule", 5),
])
def test_bad_labels_are_reported_where_they_are_written(write, body, code, message, col):
    (problem,) = _error(write, body).diagnostics
    assert problem.code == code and message in problem.message
    assert (problem.span.line, problem.span.col) == (2, col)


def test_a_computed_label_used_twice_is_a_duplicate(write):
    (problem,) = _error(write, 'repeat 2 { "same{1}": relu }').diagnostics
    assert problem.code == "E0110" and "`same1`" in problem.message


# --- DenseNet-121 by name -------------------------------------------------------------------------------------


def test_densenet121_state_dict_keys_equal_torchvision_s():
    """tests/reference/densenet121.json records torchvision's ordered (name, shape) entries."""
    torch = pytest.importorskip("torch")  # noqa: F841
    for efficient in (False, True):
        model = archdsl.load(SPECS / "densenet121.arch", memory_efficient=efficient)
        ours = [[key, list(value.shape)] for key, value in model.state_dict().items()]
        assert ours == reference("densenet121")["state_dict"]


@pytest.mark.reference
def test_densenet121_loads_torchvision_s_state_dict_by_key_strictly(tmp_path):
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision not installed (pip install -e '.[reference]')")
    import torch
    import torchvision

    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).eval()
    ours = archdsl.load(SPECS / "densenet121.arch").eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)  # by key: no renaming, nothing left over
    torch.save(theirs.state_dict(), tmp_path / "densenet121.pth")
    loaded = archdsl.load(SPECS / "densenet121.arch", weights=tmp_path / "densenet121.pth").eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        expected = theirs(x)
        torch.testing.assert_close(ours(x), expected, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(loaded(x), expected, rtol=1e-4, atol=1e-5)
