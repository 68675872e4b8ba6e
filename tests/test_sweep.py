"""`archdsl sweep` and `archdsl.sweep`: every combination evaluated statically, invalid ones as rows, outputs."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap

import pytest

import archdsl
from archdsl import pipeline
from archdsl.diagnostics import ArchError
from archdsl.passes.builder import Limits
from archdsl.passes.elaborate import Elaborator
from archdsl.passes.input_size import search
from archdsl.passes.memo import TOTALS, CallMemo
from archdsl.passes.resolve import load_file
from archdsl.summary import summarize
from archdsl.sweep import MissingPlotting, grid, parse_values

from conftest import ROOT, SPECS, all_specs, run_cli, spec_id

EFFICIENTNET = SPECS / "efficientnet_b0.arch"

# conv(c, groups=g) needs g to divide both the incoming channels (c_in) and c: some combinations cannot be built
GROUPED = """
network grouped(c=8, g=2, input=[4, 8, 8]) {
    conv(c, 3, pad=1, groups=g) relu
    gap flatten linear(10)
}
"""


@pytest.fixture
def grouped(write):
    return write("grouped.arch", GROUPED)


def test_grid_is_every_combination_with_the_last_axis_fastest():
    assert grid({"a": [1, 2], "b": ["x", "y", "z"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "z"},
        {"a": 2, "b": "x"}, {"a": 2, "b": "y"}, {"a": 2, "b": "z"}]


def test_each_row_is_what_check_and_summary_say_for_that_combination():
    axes = {"width": [0.5, 1.0], "depth": [1.0, 1.2], "input": [[3, 192, 192], [3, 224, 224]]}
    result = archdsl.sweep(EFFICIENTNET, axes)
    assert len(result.rows) == 8 and result.valid and result.network == "efficientnet_b0"
    assert result.axes["input"] == ((3, 192, 192), (3, 224, 224))  # lists are the language's tuples
    for row in result.rows:
        net = archdsl.check(EFFICIENTNET, **row.values)
        assert (row.params, row.macs, row.output, row.input) == (net.param_count, net.macs, net.output.dims,
                                                                   net.input.dims)
        assert row.activation_bytes == summarize(net).activation_bytes
    first = result.rows[0]
    assert first.values == {"width": 0.5, "depth": 1.0, "input": (3, 192, 192)}
    by_values = {(r.values["width"], r.values["depth"]): r.params for r in result.rows}
    assert by_values[(1.0, 1.0)] == 5_288_548  # torchvision's efficientnet_b0


def test_fixed_values_apply_to_every_row_without_becoming_columns():
    result = archdsl.sweep(EFFICIENTNET, {"width": [0.5]}, fixed={"classes": 10}, min_input=False)
    assert result.rows[0].output == (10,) and list(result.axes) == ["width"]


def test_invalid_combinations_are_rows_with_their_diagnostic_and_the_others_still_run(grouped):
    result = archdsl.sweep(grouped, {"c": [8, 6], "g": [2, 4]})
    status = {(r.values["c"], r.values["g"]): r for r in result.rows}
    assert [k for k, r in status.items() if r.valid] == [(8, 2), (8, 4), (6, 2)]
    bad = status[(6, 4)]
    assert bad.error.code == "E0204" and "groups" in bad.error.message
    assert bad.params is bad.macs is bad.output is bad.min_input is None
    assert not result.valid and result.invalid == [bad]
    assert status[(8, 4)].params == 4 * 3 * 3 * 8 // 4 + 8 + 8 * 10 + 10


def test_a_parameter_the_network_does_not_have_is_refused_once_with_a_suggestion():
    with pytest.raises(ValueError, match="has no parameter `widht`; did you mean `width`"):
        archdsl.sweep(EFFICIENTNET, {"widht": [0.5, 1.0]})
    with pytest.raises(ValueError, match="no parameter `clases`"):
        archdsl.sweep(EFFICIENTNET, {"width": [0.5]}, fixed={"clases": 10})
    with pytest.raises(ValueError, match="no values given for `width`"):
        archdsl.sweep(EFFICIENTNET, {"width": []})


def test_a_spec_that_does_not_parse_raises_its_diagnostic(write):
    path = write("broken.arch", "network n(input=[3, 8, 8]) { conv(4, 3 }\n")
    with pytest.raises(archdsl.ArchError):
        archdsl.sweep(path, {"input": [[3, 8, 8]]})


@pytest.mark.parametrize("name", ["alexnet", "googlenet", "resnet18"])
def test_minimum_input_agrees_with_check_input(name):
    path = SPECS / f"{name}.arch"
    scope = load_file(path)
    definition = scope.module.networks[0]
    expected = search(definition, scope, {}, (3, "S", "S")).smallest
    result = archdsl.sweep(path, {"input": [[3, 224, 224], [3, 160, 160]]})
    assert [r.min_input for r in result.rows] == [expected, expected]


def test_values_are_expressions_and_commas_inside_brackets_belong_to_one_value():
    assert parse_values("0.5,0.75, 1.0") == (0.5, 0.75, 1.0)
    assert parse_values("[3,192,192],[3,224,224]") == ((3, 192, 192), (3, 224, 224))
    assert parse_values('"relu", "silu"') == ("relu", "silu")
    assert parse_values("2 * 8, 32") == (16, 32)
    with pytest.raises(ValueError):
        parse_values("0.5,,1")


def test_csv_and_json_hold_every_row_including_the_invalid_ones(grouped, tmp_path):
    result = archdsl.sweep(grouped, {"c": [8, 6], "g": [4]})
    result.write(tmp_path / "s.csv")
    result.write(tmp_path / "s.json")
    rows = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert [(r["c"], r["g"], r["valid"]) for r in rows] == [("8", "4", "true"), ("6", "4", "false")]
    assert rows[0]["params"] == str(result.rows[0].params) and rows[0]["output_shape"] == "10"
    assert rows[0]["input_shape"] == "4x8x8" and rows[0]["min_input"] == "4x1x1"
    assert rows[1]["params"] == "" and rows[1]["error_code"] == "E0204" and "groups" in rows[1]["error"]
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["network"] == "grouped" and data["axes"] == {"c": [8, 6], "g": [4]}
    assert set(data["counting"]) == {"params", "macs", "activation_bytes", "min_input"}
    assert data["rows"][0]["valid"] and data["rows"][0]["input"] == [4, 8, 8]
    assert data["rows"][1]["error"]["code"] == "E0204" and data["rows"][1]["params"] is None
    with pytest.raises(ValueError, match="name it .csv or .json"):
        result.write(tmp_path / "s.txt")


def test_plot_is_an_image_with_a_point_per_valid_row(grouped, tmp_path):
    pytest.importorskip("matplotlib")
    result = archdsl.sweep(grouped, {"c": [8, 6, 16], "g": [2, 4]})
    result.plot(tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result.plot(tmp_path / "s.svg")
    svg = (tmp_path / "s.svg").read_text()
    assert "g=2" in svg or "c=" in svg  # the points are labelled


def test_plot_without_matplotlib_says_which_extra_to_install(monkeypatch, grouped, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    result = archdsl.sweep(grouped, {"c": [8]})
    with pytest.raises(MissingPlotting, match=r"archdsl\[plot\]"):
        result.plot(tmp_path / "s.png")
    assert not (tmp_path / "s.png").exists()


# --- block calls reused across variants (passes/memo.py): every result as a fresh elaboration gives it


def _fresh_row(path, values, min_input):
    """What `archdsl check` and a plain minimum-input search say of one combination."""
    try:
        net = archdsl.check(path, **values)
    except ArchError as exc:
        return ("error", exc.diagnostics[0])
    minimum = None
    if min_input:
        size = net.input.dims
        fits = []
        for n in range(1, size[1] + 1):
            try:
                archdsl.check(path, **{**values, "input": (size[0], n, n)})
            except ArchError:
                continue
            fits.append(n)
            break
        minimum = (size[0], fits[0], fits[0])
    return (net.param_count, net.macs, summarize(net).activation_bytes, net.input.dims, net.output.dims, minimum)


def _row(row):
    if row.error is not None:
        return ("error", row.error)
    return (row.params, row.macs, row.activation_bytes, row.input, row.output, row.min_input)


MEMO_GRID = """
block unit(c, stride=1) {
    conv(c, 3, stride=stride, pad=1, groups=8) bn relu
}
block stage(c, n, first=2) {
    unit(c, first)
    repeat n - 1 { add { unit(c) | } }
}
block fuse(@skip) {
    concat { | @skip resize(@input) }
}
block twice(c) {
    stage(c, 1, first=1)
}
network stages(c=16, n=2, input=[8, 16, 16]) {
    conv(8, 3)
    stage(8, 1, first=1)
    twice(8)  # the same call of `stage`, one call deeper
    stage(c, n) -> s1
    stage(c * 2, n)
    fuse(@s1)
    stage(c, 1, first=1)
    fuse(@s1)
    gap flatten linear(10)
}
"""


def test_every_row_of_a_grid_with_invalid_combinations_is_what_a_fresh_check_says(write):
    # c=12 does not divide into 8 groups (inside `unit`, two calls deep, after calls the memo already holds),
    # 8.0 is not an int, n=0 repeats -1 times, 2x2 is smaller than the first (unpadded) 3x3 conv; the smallest
    # input (3x3) is found by the search, whose small sizes reuse calls; a combination twice reuses them all
    path = write("stages.arch", MEMO_GRID)
    axes = {"c": [16, 12, 8, 8.0], "n": [2, 0, 3], "input": [[8, 16, 16], [8, 2, 2], [8, 5, 5], [8, 16, 16]]}
    result = archdsl.sweep(path, axes)
    assert not result.valid and len(result.invalid) < len(result.rows)
    for row in result.rows:
        assert _row(row) == _fresh_row(path, row.values, min_input=True), row.values


def test_efficientnet_grid_rows_equal_fresh_checks_and_the_memo_reuses_calls(monkeypatch):
    memos, make = [], CallMemo.elaborator
    monkeypatch.setattr(CallMemo, "elaborator", lambda self, sources=None: (memos.append(self), make(self, sources))[1])
    axes = {"width": [0.5, 1.0], "depth": [1.0, 1.2], "input": [[3, 64, 64], [3, 96, 96]]}
    result = archdsl.sweep(EFFICIENTNET, axes)
    for row in result.rows:
        assert _row(row)[:5] == _fresh_row(EFFICIENTNET, row.values, min_input=False)[:5], row.values
        assert row.min_input == (3, 1, 1)  # stride-2 convs padded by 1 take any size
    memo = memos[0]
    assert len(memos) == 8 + 4 and all(m is memo for m in memos)  # a variant each, a search per (width, depth)
    assert memo.hits > 10 * len(result.rows)  # mbconv_layers, se, conv_norm_act: within and across variants


def test_features_are_taken_as_without_the_memo():
    c = pipeline.load(SPECS / "resnet18.arch")
    definition = pipeline.choose(c)
    memo = CallMemo(c.limits)
    for _ in range(2):
        found = pipeline.elaborate(c, {}, definition, ["layer2", "layer4"], elaborator=memo.elaborator(c.sources))
        assert found == pipeline.elaborate(c, {}, definition, ["layer2", "layer4"])
    assert memo.hits == memo.misses == 0


def _elaborations(path, limits=None, variants=None):
    """Each network of a file elaborated plainly, and twice through one CallMemo (cold, then warm), with each
    of `variants` (parameter values; by default its defaults and another input size): the networks, or the
    diagnostics of the failures."""
    c = pipeline.load(path, limits=limits)
    memo = CallMemo(c.limits)

    def outcome(elaborator, definition, params):
        try:
            return pipeline.elaborate(c, params, definition, elaborator=elaborator)
        except ArchError as exc:
            return list(exc.diagnostics)

    found = []
    for definition in pipeline.networks(c):
        sizes = [{}, {"input": (3, 97, 97)}] if any(p.name == "input" for p in definition.params) else [{}]
        for params in variants or sizes:
            plain = outcome(Elaborator(c.limits, c.sources), definition, params)
            cold = outcome(memo.elaborator(c.sources), definition, params)
            warm = outcome(memo.elaborator(c.sources), definition, params)
            found.append((definition.name, params, plain, cold, warm))
    return found, memo


GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("path", [*all_specs(), *sorted(GOLDEN.glob("valid/*.arch")),
                                  *sorted(GOLDEN.glob("invalid/*.arch"))],
                         ids=lambda p: spec_id(p) if SPECS in p.parents else str(p.relative_to(GOLDEN)))
def test_memo_elaborates_every_spec_to_the_same_ir_or_the_same_diagnostics(path):
    try:
        found, _ = _elaborations(path)
    except ArchError:  # a golden that fails before elaboration (syntax, imports)
        return
    for name, params, plain, cold, warm in found:
        assert cold == plain, (name, params)
        assert warm == plain, (name, params)


@pytest.mark.parametrize("limit", ["max_ops", "max_steps", "max_params", "max_activations", "max_call_depth",
                                   "max_depth"])
def test_a_reused_call_that_would_cross_a_limit_fails_where_a_fresh_elaboration_does(write, limit):
    path = write("stages.arch", MEMO_GRID)
    c = pipeline.load(path)
    probe = Elaborator(c.limits)
    probe.network(pipeline.choose(c), c.scope, {"n": 3})
    reached = {"max_ops": probe.op_count, "max_steps": probe.steps, "max_params": probe.param_total,
               "max_activations": probe.activation_total, "max_call_depth": 4, "max_depth": 8}[limit]
    outcomes = set()
    for value in sorted({*range(1, reached + 1, max(1, reached // 40)), reached - 1, reached}):
        found, memo = _elaborations(path, Limits(**{limit: value}), [{"n": 3}, {"n": 3, "c": 8}, {"n": 3}])
        for name, params, plain, cold, warm in found:
            assert cold == plain and warm == plain, (value, params)
            outcomes.add(isinstance(plain, list))
    assert outcomes == {True, False}


def test_a_reused_call_that_would_meet_itself_on_the_stack_is_a_recursion_error_as_without_the_memo(write):
    # `x(n)` on a 4-channel input finishes (b takes the `relu` branch); inside `b(n, @wide)`, `x(n)` is the same
    # call of x, but elaborating it calls `b(n)` on the same input while that call of b is active: E0114 (values
    # and input decide recursion, not tensor arguments), which the remembered `x(n)` must not hide
    path = write("rec.arch", """
block x(n) { b(n, @input) }
block b(n, @t) { if @t.c == 4 { relu } else { x(n) } }
network rec(n=1, input=[4, 8, 8]) {
    conv(8, 1) -> wide
    conv(4, 1)
    x(n)
    b(n, @wide)
    gap flatten linear(2)
}
""")
    found, memo = _elaborations(path, variants=[{}, {"n": 2}, {}])
    for name, params, plain, cold, warm in found:
        assert isinstance(plain, list) and plain[0].code == "E0114"
        assert cold == plain and warm == plain, params
    assert memo.hits  # `x(1)` was remembered, and reused where the stack allows it
    # a value that cannot be a dictionary key (given through the API) is elaborated without the memo
    result = archdsl.sweep(path, {"n": [{"a": 1}, 1]}, min_input=False)
    assert [_row(r) for r in result.rows] == [_fresh_row(path, r.values, min_input=False) for r in result.rows]


def test_reused_calls_account_for_every_total_the_elaborator_keeps():
    counters = {name for name, value in vars(Elaborator()).items() if type(value) is int}
    assert counters == {name for name, _ in TOTALS} | {"depth"}, "a new total: add it to memo.TOTALS"
    for _, limit in TOTALS:
        assert hasattr(Limits(), limit)


def test_values_equal_in_python_but_not_in_the_language_are_different_calls(write):
    path = write("kinds.arch", """
block b(c, scale=1) { conv(c, 1) linear_scale(scale) }
block linear_scale(s) { if s == 1 { relu } else { gelu } }
network n(c=8, s=1, input=[4, 8, 8]) { b(c, s) b(c, s) gap flatten linear(2) }
""")
    result = archdsl.sweep(path, {"c": [8, 8.0, 8], "s": [1, 1.0, True]}, min_input=False)
    for row in result.rows:
        assert _row(row) == _fresh_row(path, row.values, min_input=False), row.values


# --- the command line, as a user runs it


def test_cli_prints_a_table_and_exits_0_when_every_combination_is_valid(tmp_path):
    out = tmp_path / "s.json"
    result = run_cli("sweep", "specs/efficientnet_b0.arch", "--set", "width=0.5,1.0", "--set", "depth=1.0",
                     "--set", "input=[3,192,192],[3,224,224]", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "efficientnet_b0" in text and "depth=1.0" in text  # a single value is shown once, in the title
    assert "5.289 M" in text and "3x224x224" in text and "4 combinations" in text
    assert len(json.loads(out.read_text())["rows"]) == 4


def test_cli_reports_invalid_rows_and_exits_1(grouped, tmp_path):
    out = tmp_path / "s.csv"
    result = run_cli("sweep", str(grouped), "--set", "c=8,6", "--set", "g=2,4", "-o", str(out))
    assert result.returncode == 1
    assert "error[E0204]" in result.stdout.decode()
    assert "1 of 4 combinations are not valid networks" in result.stderr.decode()
    assert len(list(csv.DictReader(out.open()))) == 4  # the file is written all the same


@pytest.mark.parametrize("args, message", [
    (["--set", "widht=0.5,1.0"], "did you mean `width`"),
    (["--set", "width=0.5,,1.0"], "--set"),
    (["--set", "width"], "expected NAME=V1,V2"),
    (["--set", "width=0.5", "--set", "width=1.0"], "given twice"),
    (["--set", "width=0.5", "-o", "out.txt"], "name it .csv or .json"),
])
def test_cli_usage_errors_exit_2_in_one_message(args, message):
    result = run_cli("sweep", "specs/efficientnet_b0.arch", *args)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert message in err and "Traceback" not in err


def test_cli_plot_writes_the_image(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "s.png"
    result = run_cli("sweep", "specs/mobilenet_v2.arch", "--set", "width=0.5,1.0", "--plot", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_plot_without_matplotlib_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "blocked" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "blocked"), str(ROOT)])}
    result = run_cli("sweep", "specs/mobilenet_v2.arch", "--set", "width=0.5", "--plot", str(tmp_path / "s.png"),
                     env=env)
    assert result.returncode == 2
    err = result.stderr.decode().strip()
    assert err == "error: --plot needs matplotlib: pip install 'archdsl[plot]'"


def test_sweep_never_imports_torch():
    program = textwrap.dedent("""
        import sys
        import archdsl
        from archdsl.cli import main
        archdsl.sweep("specs/efficientnet_b0.arch", {"width": [0.5, 1.0]})
        try:
            main(["sweep", "specs/mobilenet_v2.arch", "--set", "width=0.5,1.0"])
        except SystemExit as exit:
            assert exit.code == 0, exit.code
        print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
    """)
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
