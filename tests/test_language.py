"""Semantics of the language: binding, loops, combinators, naming, imports, and the shapes they produce."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.ir import GroupNode, MergeNode, OpNode


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [d.code for d in exc.value.diagnostics]


def check_text(write, text: str, **params):
    return archdsl.check(write("net.arch", text), **params)


def test_only_output_channels_are_written(write):
    net = check_text(write, "network n(input=[3, 32, 32]) { conv(16, 3, pad=1) conv(8, 1) }")
    first, second = net.graph.nodes
    assert (first.out.dims, second.out.dims) == ((16, 32, 32), (8, 32, 32))
    assert first.param_count == 16 * 3 * 9 + 16 and second.param_count == 8 * 16 + 8


def test_block_defaults_may_use_earlier_parameters_and_the_incoming_shape(write):
    net = check_text(write, """
        block widen(factor, c=in.c * factor) { conv(c, 1) }
        network n(input=[4, 8, 8]) { widen(3) }
    """)
    (call,) = net.graph.nodes
    assert call.block == "widen" and call.args == {"factor": 3, "c": 12} and call.out.dims == (12, 8, 8)


def test_keyword_arguments_and_positional_order(write):
    net = check_text(write, "block b(a, s=1) { conv(a, 3, stride=s, pad=1) } network n(input=[3, 16, 16]) { b(s=2, a=5) }")
    assert net.output.dims == (5, 8, 8)


def test_repeat_with_index_and_for_with_destructuring(write):
    net = check_text(write, """
        network n(input=[3, 32, 32]) {
            repeat 3 as i { conv(8 * (i + 1), 3, pad=1) }
            for c, s in [[32, 2], [64, 1]] { conv(c, 3, stride=s, pad=1) }
            for k in 2 { relu }
        }
    """)
    outs = [n.out.dims for n in net.graph.nodes]
    assert outs == [(8, 32, 32), (16, 32, 32), (24, 32, 32), (32, 16, 16), (64, 16, 16), (64, 16, 16), (64, 16, 16)]


def test_if_else_chains_and_let(write):
    text = """
        block pick(k) {
            let c = k * 2
            if k == 1 { conv(c, 1) } else if k == 2 { conv(c, 3, pad=1) } else { identity }
        }
        network n(k=1, input=[3, 8, 8]) { pick(k) }
    """
    assert check_text(write, text, k=1).output.dims == (2, 8, 8)
    assert check_text(write, text, k=2).output.dims == (4, 8, 8)
    assert check_text(write, text, k=3).output.dims == (3, 8, 8)


def test_concat_add_mul_and_empty_branch_identity(write):
    net = check_text(write, """
        network n(input=[4, 8, 8]) {
            concat { conv(6, 1) | | maxpool(3, stride=1, pad=1) }
            add { conv(14, 3, pad=1) | }
            mul { identity | gap conv(14, 1) sigmoid }
        }
    """)
    merges = [n for n in net.graph.nodes if isinstance(n, MergeNode)]
    assert [m.op for m in merges] == ["concat", "add", "mul"]
    assert [m.out.dims for m in merges] == [(14, 8, 8)] * 3
    assert merges[0].inputs[1] == 0  # the empty branch is the input itself


def test_naming_positions_labels_and_transparent_combinators(write):
    net = check_text(write, """
        block unit(c) { add { conv1: conv(c, 3, pad=1) relu | } }
        network n(input=[4, 8, 8]) { stem: conv(4, 1) unit(4) { relu relu } head: repeat 2 { relu } }
    """)
    names = [n.name for n in net.graph.nodes if not isinstance(n, MergeNode)]
    assert names == ["stem", "1", "2", "head"]
    unit = net.graph.nodes[1]
    assert isinstance(unit, GroupNode) and [n.name for n in unit.graph.nodes if isinstance(n, OpNode)] == ["conv1", "1"]


def test_state_dict_keys_follow_labels_and_spec_order(write):
    model = archdsl.load(write("n.arch", """
        block unit(c) { add { a: conv(c, 3, pad=1, bias=false) bn | down: { conv(c, 1) } } }
        network n(input=[4, 8, 8]) { first: unit(6) flatten fc: linear(3) }
    """))
    assert list(model.state_dict()) == [
        "first.a.weight", "first.1.weight", "first.1.bias", "first.1.running_mean", "first.1.running_var",
        "first.1.num_batches_tracked", "first.down.0.weight", "first.down.0.bias", "fc.weight", "fc.bias"]


def test_network_parameters_are_overridable(write):
    path = write("n.arch", "network n(classes=1000, input=[3, 32, 32]) { gap flatten linear(classes) }")
    assert archdsl.check(path, classes=10).output.dims == (10,)
    assert archdsl.check(path, input=(5, 7, 7)).graph.nodes[-1].param_count == 5 * 1000 + 1000
    assert archdsl.check(path, input=[5, 7, 7]).input.dims == (5, 7, 7)  # Python lists are accepted too
    with pytest.raises(ArchError) as exc:
        archdsl.check(path, clases=10)
    assert codes(exc) == ["E0104"] and "did you mean `classes`" in exc.value.diagnostics[0].help


def test_builtins(write):
    net = check_text(write, """
        network n(input=[3, 8, 8]) {
            conv(make_divisible(32 * 0.75, 8), 1)
            conv(max(ceil(2.1), floor(3.9), round(2.5)), 1)
            conv(len([1, 2, 3]) + sum([1, 1]) + abs(-1) + min(4, 9), 1)
            conv(int(7.9) + (1, 2, 3)[-1] + range(4)[2] * 2 ** 2 % 5 // 1, 1)
        }
    """)
    assert [n.out.c for n in net.graph.nodes] == [24, 3, 10, 13]


def test_imports_are_relative_to_the_importing_file(write):
    write("lib/blocks.arch", 'block twice(c) { conv(c, 1) conv(c, 1) }')
    path = write("nets/n.arch", 'import "../lib/blocks.arch"\nnetwork n(input=[3, 4, 4]) { twice(5) }')
    assert archdsl.check(path).output.dims == (5, 4, 4)


def test_import_cycle_is_reported_with_the_cycle(write):
    write("a.arch", 'import "b.arch"\nblock a1() { relu }')
    write("b.arch", 'import "a.arch"\nblock b1() { relu }')
    with pytest.raises(ArchError) as exc:
        archdsl.check(write("n.arch", 'import "a.arch"\nnetwork n(input=[3, 4, 4]) { a1 }'))
    (d,) = exc.value.diagnostics
    assert d.code == "E0113" and "a.arch -> " in d.message and "b.arch" in d.message


def test_non_terminating_recursion_is_reported(write):
    with pytest.raises(ArchError) as exc:
        check_text(write, "block loop(c) { conv(c, 1) loop(c) } network n(input=[3, 4, 4]) { loop(4) }")
    (d,) = exc.value.diagnostics
    assert d.code == "E0114" and "`loop`" in d.message and "recursion" in d.message


def test_terminating_recursion_is_allowed(write):
    net = check_text(write, """
        block halve(n) { if n > 0 { conv(4, 3, stride=2, pad=1) halve(n - 1) } }
        network n(input=[3, 32, 32]) { halve(3) }
    """)
    assert net.output.dims == (4, 4, 4)


@pytest.mark.parametrize("text, code", [
    ("network n(input=[3, 8, 8]) { convv(3, 1) }", "E0101"),
    ("network n(input=[3, 8, 8]) { conv(c, 1) }", "E0102"),
    ("network n(input=[3, 8, 8]) { conv(3, 1, 1, 0, 1, 1, true, 9) }", "E0103"),
    ("network n(input=[3, 8, 8]) { conv(3, 1, strid=2) }", "E0104"),
    ("network n(input=[3, 8, 8]) { conv(3) }", "E0105"),
    ("network n(input=[3, 8, 8]) { conv(3, 1, kernel=2) }", "E0106"),
    ("network n(input=[3, 8, 8]) { conv(3.5, 1) }", "E0107"),
    ("network n(input=[3, 8, 8]) { conv(3 + true, 1) }", "E0108"),
    ("block b() { relu } block b() { relu } network n(input=[3, 8, 8]) { b }", "E0109"),
    ("network n(input=[3, 8, 8]) { a: relu a: relu }", "E0110"),
    ("block b() { relu }", "E0111"),
    ("network n(input=[3, 8, 8]) { repeat 100000 { relu } }", "E0115"),
    ("network n(input=[3, 8, 8]) { conv(3 // 0, 1) }", "E0116"),
    ("network n(input=[3, 8, 8]) { add { conv(4, 1) | } }", "E0201"),
    ("network n(input=[3, 8, 8]) { concat { conv(4, 1, stride=2) | } }", "E0202"),
    ("network n(input=[3, 8, 8]) { mul { conv(4, 1) | conv(2, 1) } }", "E0203"),
    ("network n(input=[3, 8, 8]) { conv(4, 1, groups=2) }", "E0204"),
    ("network n(input=[3, 8, 8]) { conv(4, 9) }", "E0205"),
    ("network n(input=[3, 8, 8]) { linear(10) }", "E0206"),
    ("network n(input=[3, 8, 8]) { slice(2, 9) }", "E0207"),
])
def test_each_error_code(write, text, code):
    with pytest.raises(ArchError) as exc:
        check_text(write, text)
    assert codes(exc) == [code]
    d = exc.value.diagnostics[0]
    assert d.message and not d.message[0].isupper() and not d.message.endswith(".")


def test_errors_inside_blocks_carry_the_call_stack(write):
    with pytest.raises(ArchError) as exc:
        check_text(write, """
            block inner(c) { add { conv(c, 1) | } }
            block outer(c) { inner(c * 2) }
            network n(input=[3, 8, 8]) { outer(c=4) }
        """)
    (d,) = exc.value.diagnostics
    assert d.code == "E0201" and d.span.line == 2
    assert d.notes[0].startswith("in `inner(c=8)` called at ") and d.notes[0].endswith("net.arch:3:30")
    assert d.notes[1].startswith("in `outer(c=4)` called at ") and d.notes[1].endswith("net.arch:4:42")


def test_stray_else_is_a_syntax_error_with_a_hint(write):
    with pytest.raises(ArchError) as exc:
        check_text(write, "network n(input=[3, 4, 4]) { relu else { relu } }")
    (d,) = exc.value.diagnostics
    assert d.code == "E0001" and "`else` without an `if`" in d.message and d.span.col == 35


def test_check_reports_a_shared_broken_block_once(write):
    from conftest import run_cli

    path = write("dup.arch", "block b(c) { add { conv(c, 1) | } }\n"
                             "network n1(input=[3, 8, 8]) { b(4) }\nnetwork n2(input=[3, 8, 8]) { b(4) }\n")
    result = run_cli("check", str(path))
    assert result.returncode == 1 and result.stderr.count(b"error[E0201]") == 1
