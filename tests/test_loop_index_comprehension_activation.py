"""Language additions the mobile families needed: `for ... as j` (the row index), list comprehensions, and
`activation(kind)` (an activation chosen by a string parameter, as MobileNet v3's rows choose RE or HS)."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.diagnostics import ArchError


def test_for_as_binds_the_row_index_and_comprehensions_map_rows(write):
    # EfficientNet's stochastic depth needs each block's global index: the blocks of earlier rows, summed
    net = archdsl.check(write("n.arch", """
        network n(depth=1.5, input=[3, 8, 8]) {
            let rows = [[1, 8], [2, 16], [3, 8]]
            let depths = [ceil(n * depth) for n, c in rows]
            for n, c in rows as j {
                let first = sum([depths[m] for m in range(j)])
                repeat depths[j] as i { conv(c + first + i, 1) }
            }
            conv(sum([x * x for x in 4]), 1)
        }
    """))
    assert [node.out.c for node in net.graph.nodes] == [8, 9, 18, 19, 20, 13, 14, 15, 16, 17, 14]


@pytest.mark.parametrize("expression, message", [
    ("[x for x in 1.5]", "a list comprehension needs a list or an int, got float"),
    ("[a for a, b in [1, 2]]", "cannot unpack 1 into 2 names (a, b)"),
    ("[y for x in 3]", "unknown variable `y`"),
])
def test_comprehension_errors(write, expression, message):
    with pytest.raises(ArchError) as exc:
        archdsl.check(write("n.arch", f"network n(input=[3, 8, 8]) {{ let v = {expression} }}"))
    assert exc.value.diagnostics[0].message == message


def test_comprehension_variables_do_not_leak(write):
    with pytest.raises(ArchError) as exc:
        archdsl.check(write("n.arch", "network n(input=[3, 8, 8]) { let v = [x for x in 3] conv(x, 1) }"))
    assert exc.value.diagnostics[0].message == "unknown variable `x`"


def test_activation_by_name_builds_the_named_module(write):
    path = write("n.arch", 'network n(act="hardswish", input=[3, 8, 8]) { conv(4, 1) activation(act) }')
    assert type(archdsl.load(path).get_submodule("1")).__name__ == "Hardswish"
    assert type(archdsl.load(path, act="relu6").get_submodule("1")).__name__ == "ReLU6"


def test_activation_by_name_rejects_unknown_names(write):
    path = write("n.arch", 'network n(act="swish", input=[3, 8, 8]) { activation(act) }')
    with pytest.raises(ArchError) as exc:
        archdsl.check(path)
    assert exc.value.diagnostics[0].code == "E0107"
    assert "must be one of 'relu', 'relu6'" in exc.value.diagnostics[0].message


def test_nested_comprehensions_are_bounded(write):
    path = write("n.arch", "network n(input=[3, 8, 8]) { let v = [[x for x in 100000] for y in 100000] }")
    with pytest.raises(ArchError) as exc:
        archdsl.check(path)
    assert exc.value.diagnostics[0].code == "E0115"
