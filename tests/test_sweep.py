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
from archdsl.passes.input_size import search
from archdsl.passes.resolve import load_file
from archdsl.summary import summarize
from archdsl.sweep import MissingPlotting, grid, parse_values

from conftest import ROOT, SPECS, run_cli

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
