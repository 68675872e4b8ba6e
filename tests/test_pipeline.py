"""The pipeline (archdsl/pipeline.py): its stages in order, the Compilation record, and the guarantee that the
CLI and the API go through it instead of repeating the sequence; the registry of output formats."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import pytest

from archdsl import pipeline
from archdsl.diagnostics import ArchError
from archdsl.render import FORMATS, Rendering, register
from archdsl.report import Report

from conftest import ROOT, SPECS, run_cli

PACKAGE = ROOT / "archdsl"
FRONT_END_STAGES = ("read", "parse", "resolve", "choose", "elaborate")
BACK_ENDS = ("lower", "reparameterize", "deploy", "draw", "summarize", "export")


def test_the_docstring_lists_every_stage_in_order_and_each_is_a_function():
    doc = pipeline.__doc__
    positions = [re.search(rf"^\s+{name}\b", doc, re.MULTILINE) for name in FRONT_END_STAGES + BACK_ENDS]
    assert all(positions), [n for n, p in zip(FRONT_END_STAGES + BACK_ENDS, positions) if not p]
    starts = [p.start() for p in positions]
    assert starts[:len(FRONT_END_STAGES)] == sorted(starts[:len(FRONT_END_STAGES)])
    for name in FRONT_END_STAGES + BACK_ENDS:
        assert callable(getattr(pipeline, name)), name


def test_a_compilation_records_what_each_stage_found():
    c = pipeline.compile_network(SPECS / "resnet18.arch", params={"classes": 10})
    assert c.scope is not None and c.definition.name == "resnet18"
    assert c.network.output.dims == (10,) and c.params["classes"] == 10
    assert "specs/resnet18.arch" in {s.name for s in c.sources}
    assert not c.diagnostics and c.diagnostics.sources is c.sources


def test_stages_can_be_run_one_by_one(tmp_path):
    spec = tmp_path / "two.arch"
    spec.write_text("network a(input=[3, 8, 8]) { relu }\nnetwork b(input=[3, 8, 8], c=4) { conv(c, 3) }\n")
    c = pipeline.Compilation(spec)
    source = pipeline.read(c)
    assert pipeline.parse(c, source).networks[1].name == "b"
    pipeline.resolve(c)
    assert [d.name for d in pipeline.networks(c)] == ["a", "b"]
    assert pipeline.elaborate(c, {"c": 2}, pipeline.choose(c, "b")).output.dims == (2, 6, 6)
    with pytest.raises(ArchError) as caught:
        pipeline.choose(c)
    assert caught.value.diagnostics[0].code == "E0111"


def test_elaborate_each_collects_the_errors_of_every_network(tmp_path):
    spec = tmp_path / "three.arch"
    spec.write_text("network ok(input=[3, 8, 8]) { relu }\n"
                    "network bad1(input=[3, 8, 8]) { conv(4, 9) }\n"
                    "network bad2(input=[3, 8, 8], c=4) { maxpool(16) }\n")
    c = pipeline.load(spec)
    found = pipeline.elaborate_each(c, {"c": 8, "unrelated": 1})
    assert [n.name for n in found] == ["ok"]
    assert [d.code for d in c.diagnostics] == ["E0205", "E0205"]
    assert c.diagnostics.sources is c.sources


def test_an_error_leaving_any_stage_carries_the_sources(tmp_path):
    spec = tmp_path / "broken.arch"
    spec.write_text("network n(input=[3, 8, 8]) {\n    conv(4, 3\n}\n")
    with pytest.raises(ArchError) as caught:
        pipeline.compile_network(spec)
    assert caught.value.sources.get(caught.value.diagnostics[0].span.file) is not None
    spec.write_text("network n(input=[3, 8, 8]) {\n    nonsense\n}\n")
    with pytest.raises(ArchError) as caught:
        pipeline.compile_network(spec)
    assert caught.value.sources.get(caught.value.diagnostics[0].span.file).line(2) == "    nonsense"


def test_no_command_and_no_api_function_repeats_the_front_end():
    """Only the pipeline loads files, picks the network and runs the elaborator."""
    front_end = re.compile(r"\b(load_file|Elaborator|_choose|choose_network)\s*\(")
    drivers = [PACKAGE / "api.py", PACKAGE / "sweep.py", *sorted((PACKAGE / "cli").glob("*.py"))]
    repeated = {p.name: front_end.findall(p.read_text()) for p in drivers if p.exists()}
    assert not {name: calls for name, calls in repeated.items() if calls}


def test_importing_the_pipeline_does_not_import_torch():
    code = "import sys, archdsl.pipeline, archdsl.api; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


# --- output formats: one module, one registration each


def test_the_cli_format_choices_are_the_registry():
    from archdsl.cli import main

    for name in ("check", "build", "draw", "summary"):
        option = next(p for p in main.commands[name].params if p.name == "fmt")
        assert list(option.type.choices) == list(FORMATS), name
    assert list(FORMATS)[:3] == ["text", "github", "json"]


def test_a_registered_format_is_used_by_reports_and_a_name_is_registered_once():
    @register("count-for-test", for_tools=True)
    def count(r: Rendering) -> str:
        return f"{len(r.diagnostics)} diagnostics, {len(r.io_errors)} io errors\n"

    try:
        with pytest.raises(ValueError, match="registered twice"):
            register("count-for-test")(count)
        report = Report(format="count-for-test")
        report.add_io_error("no such file: x.arch")
        stream = io.StringIO()
        report.emit(stream)
        assert stream.getvalue() == "0 diagnostics, 1 io errors\n"
    finally:
        del FORMATS["count-for-test"]


def test_input_sizes_and_summary_documents_go_through_the_json_format(tmp_path):
    sizes = json.loads(run_cli("check", str(SPECS / "alexnet.arch"), "--input", "3xHxW", "--format", "json").stdout)
    assert sizes["networks"][0]["smallest"] == [3, 63, 63]
    assert sizes["diagnostics"] == [] and sizes["summary"]["exit_code"] == 0
    summary = json.loads(run_cli("summary", str(SPECS / "resnet18.arch"), "--format", "json").stdout)
    assert summary["totals"]["params"] == 11_689_512 and summary["diagnostics"] == []
    broken = tmp_path / "broken.arch"
    broken.write_text("network n(input=[3, 8, 8]) { nonsense }\n")
    result = run_cli("summary", str(broken), "--format", "json")
    assert result.returncode == 1 and json.loads(result.stdout)["diagnostics"][0]["code"] == "E0101"
