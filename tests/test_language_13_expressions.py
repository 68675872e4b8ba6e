"""Issue 13 item 5: `log`, `log2`, `exp`, `sqrt`, `pow`; list comprehensions with several `for` clauses and `if`
filters; unsupported Python forms named as such; and the RegNet widths derived from w0, wa, wm with them."""

from __future__ import annotations

import math

import pytest

import archdsl
from archdsl.passes.elaborate import Limits
from archdsl.diagnostics import ArchError
from archdsl.source import Source
from archdsl.syntax.format import format_source

from conftest import SPECS


def value(write, expr: str):
    """The value of `expr`, read back through a network parameter's default."""
    net = archdsl.check(write("v.arch", f"network n(v={expr}, input=[3, 4, 4]) {{ relu }}"))
    return net.params["v"]


def problem(write, expr: str):
    with pytest.raises(ArchError) as caught:
        value(write, expr)
    return caught.value.diagnostics[0]


@pytest.mark.parametrize("expr, expected", [
    ("log(100, 10)", 2.0), ("log(exp(2))", 2.0), ("log2(1024)", 10.0), ("exp(0)", 1.0), ("sqrt(16)", 4.0),
    ("pow(2, 10)", 1024), ("pow(2.0, 0.5)", math.sqrt(2)), ("pow(2, -1)", 0.5),
    ("round(log(2.54 * 24 / 24) / log(2.54))", 1),
])
def test_math_functions(write, expr, expected):
    assert value(write, expr) == pytest.approx(expected)


@pytest.mark.parametrize("expr, code, message", [
    ("log(0)", "E0108", "`log(0)` failed: the argument is outside the function's domain"),
    ("sqrt(-1)", "E0108", "`sqrt(-1)` failed: the argument is outside the function's domain"),
    ("exp(1000)", "E0116", "`exp(1000)` failed: the result is too large"),
    ("pow(2, 100)", "E0116", "`pow(2, 100)` failed: exponent 100 is too large"),
    ("2 ** 100", "E0116", "exponent 100 is too large"),
    ("pow(3, 40)", "E0116", "integer result is larger than 2**62"),
    ("int(1e30)", "E0116", "integer result is larger than 2**62"),
    ("1e308 * 10", "E0116", "result is not a finite number"),
    ("pow(-8, 0.5)", "E0116", "result is not a real number"),
])
def test_math_errors_and_the_one_size_check(write, expr, code, message):
    found = problem(write, expr)
    assert found.code == code and message in found.message, found.message


@pytest.mark.parametrize("expr, expected", [
    ("[x for row in [[1, 2], [3]] for x in row]", (1, 2, 3)),
    ("[x for x in 10 if x % 3 == 0]", (0, 3, 6, 9)),
    ("[(i, j) for i in 3 for j in range(i) if i + j > 1 if j >= 0]", ((2, 0), (2, 1))),
    ("[[i * j for j in 3] for i in 3]", ((0, 0, 0), (0, 1, 2), (0, 2, 4))),
    ("[a + b for a, b in [[1, 2], [3, 4]] if a > 1]", (7,)),
    ("[x for x in [c * 2 for c in 3] if x > 0]", (2, 4)),
    ("[i for i in 4 if i > 1 for j in i]", (2, 2, 3, 3, 3)),
])
def test_comprehensions_with_several_clauses(write, expr, expected):
    assert value(write, expr) == expected


def test_the_comprehension_budget_covers_every_clause(write):
    found = problem(write, "[i for i in 1000 for j in 1000 for k in 2]")
    assert found.code == "E0115" and "more than 1,000,000 items" in found.message


def test_a_filter_must_be_a_bool(write):
    found = problem(write, "[x for x in 3 if x]")
    assert found.code == "E0108" and "a condition must be a bool" in found.message


def test_comprehensions_format_with_their_clauses():
    text = "network n(input=[3, 4, 4]) {\n    let v = [x for row in [[1]] for x in row if x > 0]\n    relu\n}\n"
    assert format_source(Source("a.arch", text)) == text


@pytest.mark.parametrize("expr, message, found", [
    ("sum(c for c in [1, 2])", "generator expressions are not supported", "`for`"),
    ("[1, 2][0:1]", "slices are not supported", "`:`"),
    ("{1: 2}", "dicts and sets are not expressions", "`{`"),
    ("[c for c in 3 if c > 0 else 0]", "an `if` after `for` filters items and takes no `else`", "`else`"),
    ("[*[1]]", "`*` unpacking is not supported", "`*`"),
    ("[c for c in 3 for]", "a clause of the list comprehension is incomplete", "`]`"),
    ("[c for c in 3 if]", "a clause of the list comprehension is incomplete", "`]`"),
])
def test_unsupported_forms_say_so(write, expr, message, found):
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("u.arch", f"network n(input=[3, 4, 4]) {{\n    let v = {expr}\n    relu\n}}\n"))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0001" and diagnostic.message == message
    assert diagnostic.label == f"{found} here" and diagnostic.help


# --- RegNet: the widths derived from w0, wa, wm (stdlib regnet_trunk) ----------------------------------------

#: torchvision's RegNet configurations (`BlockParams.from_init_params` arguments) and what torchvision 0.29
#: makes of them: stage widths, stage depths, parameters at 1000 classes
REGNETS = {
    "regnet_x_400mf": ("depth=22, w0=24, wa=24.48, wm=2.54, group_width=16", [32, 64, 160, 400], [1, 2, 7, 12], 5495976),
    "regnet_x_800mf": ("depth=16, w0=56, wa=35.73, wm=2.28, group_width=16", [64, 128, 288, 672], [1, 3, 7, 5], 7259656),
    "regnet_x_1_6gf": ("depth=18, w0=80, wa=34.01, wm=2.25, group_width=24", [72, 168, 408, 912], [2, 4, 10, 2], 9190136),
    "regnet_x_3_2gf": ("depth=25, w0=88, wa=26.31, wm=2.25, group_width=48", [96, 192, 432, 1008], [2, 6, 15, 2],
                       15296552),
    "regnet_x_8gf": ("depth=23, w0=80, wa=49.56, wm=2.88, group_width=120", [80, 240, 720, 1920], [2, 5, 15, 1],
                     39572648),
    "regnet_x_16gf": ("depth=22, w0=216, wa=55.59, wm=2.1, group_width=128", [256, 512, 896, 2048], [2, 6, 13, 1],
                      54278536),
    "regnet_x_32gf": ("depth=23, w0=320, wa=69.86, wm=2.0, group_width=168", [336, 672, 1344, 2520], [2, 7, 13, 1],
                      107811560),
    "regnet_y_400mf": ("depth=16, w0=48, wa=27.89, wm=2.09, group_width=8, se_ratio=0.25", [48, 104, 208, 440],
                       [1, 3, 6, 6], 4344144),
    "regnet_y_800mf": ("depth=14, w0=56, wa=38.84, wm=2.4, group_width=16, se_ratio=0.25", [64, 144, 320, 784],
                       [1, 3, 8, 2], 6432512),
    "regnet_y_1_6gf": ("depth=27, w0=48, wa=20.71, wm=2.65, group_width=24, se_ratio=0.25", [48, 120, 336, 888],
                       [2, 6, 17, 2], 11202430),
    "regnet_y_3_2gf": ("depth=21, w0=80, wa=42.63, wm=2.66, group_width=24, se_ratio=0.25", [72, 216, 576, 1512],
                       [2, 5, 13, 1], 19436338),
    "regnet_y_8gf": ("depth=17, w0=192, wa=76.82, wm=2.19, group_width=56, se_ratio=0.25", [224, 448, 896, 2016],
                     [2, 4, 10, 1], 39381472),
    "regnet_y_16gf": ("depth=18, w0=200, wa=106.23, wm=2.48, group_width=112, se_ratio=0.25", [224, 448, 1232, 3024],
                      [2, 4, 11, 1], 83590140),
    "regnet_y_32gf": ("depth=20, w0=232, wa=115.89, wm=2.53, group_width=232, se_ratio=0.25", [232, 696, 1392, 3712],
                      [2, 5, 12, 1], 145046770),
    "regnet_y_128gf": ("depth=27, w0=456, wa=160.83, wm=2.52, group_width=264, se_ratio=0.25",
                       [528, 1056, 2904, 7392], [2, 7, 17, 1], 644812894),
}


@pytest.fixture(scope="module")
def regnets(tmp_path_factory):
    """Every configuration as a one-line variant of the bundled regnet_x_400mf."""
    path = tmp_path_factory.mktemp("regnet") / "regnets.arch"
    lines = [f"network {name}_ = regnet_x_400mf({args})" for name, (args, *_) in REGNETS.items()]
    path.write_text((SPECS / "regnet_x_400mf.arch").read_text() + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("name", REGNETS)
def test_regnet_stage_widths_and_depths_are_derived(regnets, name):
    _, widths, depths, params = REGNETS[name]
    net = archdsl.check(regnets, f"{name}_", limits=Limits(max_params=10**9))
    (trunk,) = [node for node in net.graph.nodes if node.name == "trunk_output"]
    assert [stage.name for stage in trunk.graph.nodes] == [f"block{i + 1}" for i in range(len(widths))]
    assert [stage.out.dims[0] for stage in trunk.graph.nodes] == widths
    assert [len(stage.graph.nodes) for stage in trunk.graph.nodes] == depths
    assert [block.name for block in trunk.graph.nodes[0].graph.nodes] == [f"block1-{i}" for i in range(depths[0])]
    assert net.param_count == params


def test_the_bundled_regnet_y_is_a_one_line_variant():
    text = (SPECS / "regnet_y_400mf.arch").read_text()
    assert sum(line.startswith("network ") for line in text.splitlines()) == 1
    assert archdsl.check(SPECS / "regnet_y_400mf.arch").param_count == REGNETS["regnet_y_400mf"][3]
