"""Sources travel with the errors that point into them: no process-wide cache keyed by display name.

The regression: checking `d1/net.arch`, then `d2/net.arch` (both displayed as `net.arch`, relative to the
folder each was checked from) and rendering the first error showed the second file's text under its caret.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import archdsl
from archdsl.cli.check import check_file
from archdsl.diagnostics import ArchError, Diagnostic
from archdsl.render import render_text
from archdsl.report import Report
from archdsl.source import Source, SourceMap

from conftest import ROOT, run_cli

FIRST = "network net(input=[3, 8, 8]) {\n    conv(8, 3, pad=1)\n    add { conv(8, 3) | identity }\n}\n"
SECOND = "# another file, another text\nnetwork net(input=[3, 8, 8]) {\n    relu\n    concat { conv(8, 5) | identity }\n}\n"


@pytest.fixture
def two_folders(tmp_path) -> Path:
    for folder, text in (("d1", FIRST), ("d2", SECOND)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "net.arch").write_text(text)
    return tmp_path


def _error_of(path: str) -> ArchError:
    with pytest.raises(ArchError) as caught:
        archdsl.check(path)
    return caught.value


def test_an_error_renders_with_its_own_file_after_another_of_the_same_name(two_folders, monkeypatch):
    monkeypatch.chdir(two_folders / "d1")
    first = _error_of("net.arch")
    monkeypatch.chdir(two_folders / "d2")
    second = _error_of("net.arch")
    assert first.diagnostics[0].span.file == second.diagnostics[0].span.file == "net.arch"
    shown = render_text(first.diagnostics)
    assert "add { conv(8, 3) | identity }" in shown and "concat" not in shown and "another file" not in shown
    assert "concat { conv(8, 5) | identity }" in render_text(second.diagnostics)


def test_the_same_in_a_fresh_interpreter(two_folders):
    """The same sequence in a process of its own, as a notebook or a build script runs it."""
    script = textwrap.dedent("""
        import os, archdsl
        from archdsl.diagnostics import ArchError
        from archdsl.render import render_text
        errors = []
        for folder in ("d1", "d2"):
            os.chdir(folder)
            try:
                archdsl.check("net.arch")
            except ArchError as exc:
                errors.append(exc)
            os.chdir("..")
        print(render_text(errors[0].diagnostics))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=two_folders, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "add { conv(8, 3) | identity }" in result.stdout and "concat" not in result.stdout


def test_one_check_run_shows_each_file_with_its_own_text(two_folders):
    result = run_cli("check", "d1/net.arch", "d2/net.arch", cwd=two_folders)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    first, second = err.split("error[E0202]")
    assert "--> d1/net.arch:3:5" in first and "add { conv(8, 3) | identity }" in first and "concat {" not in first
    assert "--> d2/net.arch:4:5" in second and "concat { conv(8, 5) | identity }" in second


def test_a_user_file_named_like_a_stdlib_file_keeps_its_own_text(tmp_path):
    """`<stdlib>/resnet.arch` in the user's folder used to be shown with the standard library's resnet.arch."""
    folder = tmp_path / "<stdlib>"
    folder.mkdir()
    (folder / "resnet.arch").write_text(FIRST)
    result = run_cli("check", "<stdlib>/resnet.arch", cwd=tmp_path)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "add { conv(8, 3) | identity }" in err and "Two 3x3 convolutions" not in err


def test_a_report_over_two_compilations_never_shows_the_wrong_text(two_folders, monkeypatch):
    """Merged maps drop a display name two different files claim: no snippet rather than the wrong one."""
    report = Report()
    for folder in ("d1", "d2"):
        monkeypatch.chdir(two_folders / folder)
        problems, _ = check_file(Path("net.arch"), {})
        report.add(problems)
    assert len(report.diagnostics) == 2 and report.sources.get("net.arch") is None
    shown = render_text(report.diagnostics, sources=report.sources)
    assert "concat {" not in shown.split("error[E0202]")[0]


def test_errors_in_imported_and_stdlib_files_carry_their_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocks.arch").write_text("block broken(c) {\n    conv(c, 3)\n    add { conv(c, 3) | identity }\n}\n")
    (tmp_path / "main.arch").write_text('import "blocks.arch"\nnetwork n(input=[3, 8, 8]) { broken(4) }\n')
    problems, _ = check_file(Path("main.arch"), {})
    assert problems[0].span.file == "blocks.arch"
    assert "add { conv(c, 3) | identity }" in render_text(problems)
    assert {"main.arch", "blocks.arch"} <= {s.name for s in problems.sources}
    assert any(s.name.startswith("<stdlib>/") for s in problems.sources)


def test_source_map_lookup_and_merge():
    one = SourceMap.of(Source("a.arch", "first"), key="/x/a.arch")
    assert one.get("a.arch").text == "first" and "a.arch" in one and len(one) == 1
    assert one.name_is_free("a.arch", "/x/a.arch") and not one.name_is_free("a.arch", "/y/a.arch")
    one.update(SourceMap.of(Source("a.arch", "first"), key="/x/a.arch"))  # the same file again: still shown
    assert one.get("a.arch").text == "first"
    one.update(SourceMap.of(Source("a.arch", "changed"), key="/x/a.arch"))  # the file changed in between
    assert one.get("a.arch") is None and len(one) == 0


def test_a_diagnostic_without_its_source_is_rendered_without_a_snippet():
    d = Diagnostic(code="E0101", message="unknown primitive or block `x`",
                   span=Source("gone.arch", "x").span(1, 1))
    assert render_text([d]) == "error[E0101]: unknown primitive or block `x`\n --> gone.arch:1:1\n"


def test_the_source_module_has_no_global_cache():
    import archdsl.source as source

    assert not hasattr(source, "SOURCES")
    assert not [name for name, value in vars(source).items() if isinstance(value, dict) and not name.startswith("__")]
