"""Issue 14, item 5: external tools that fail, hang or flood; bad export options. Exit 2 with one line.

graphviz's `dot` is replaced by small scripts on PATH, so these run whether graphviz is installed or not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostile import assert_clean, run_capped, write_spec

SPEC = "network n(input=[3, 8, 8]) { conv(4, 3) relu }\n"

FAKE_DOTS = {
    "fails": "echo 'Error: <stdin>: syntax error in line 1 near \"x\"' >&2; exit 1",
    "hangs": "sleep 60",
    "floods": "head -c 2000000 /dev/zero | tr '\\0' 'x' >&2; exit 1",
    "escapes": "printf 'Error: \\033[2J\\033]0;pwned\\007 bad\\n' >&2; exit 1",
    "crashes": "kill -SEGV $$",
    "killed": "kill -KILL $$",
}


def fake_dot(folder: Path, body: str | None, executable: bool = True) -> dict:
    """An environment whose PATH has a `dot` running `body` (or none at all for `None`)."""
    folder.mkdir(exist_ok=True)
    if body is not None:
        dot = folder / "dot"
        dot.write_text(body if body.startswith("\x7fELF") else f"#!/bin/sh\n{body}\n")
        dot.chmod(0o755 if executable else 0o644)
    python_dir = str(Path(os.sys.executable).parent)
    return {"PATH": os.pathsep.join([str(folder), python_dir, "/usr/bin", "/bin"]) if body is not None
            else python_dir, "ARCHDSL_DOT_TIMEOUT": "2"}


def draw(tmp_path, env: dict, suffix: str = ".svg"):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    return run_capped(["draw", str(spec), "-o", str(tmp_path / f"n{suffix}")], env=env)


def one_line(run) -> str:
    lines = [line for line in run.stderr.decode(errors="replace").splitlines() if line.strip()]
    assert len(lines) == 1, run.describe()
    return lines[0]


@pytest.mark.parametrize("name", FAKE_DOTS)
def test_a_broken_dot_is_one_line_and_exit_2(tmp_path, name):
    run = draw(tmp_path, fake_dot(tmp_path / "bin", FAKE_DOTS[name]))
    assert_clean(run, (2,), max_stderr=1000)
    line = one_line(run)
    assert line.startswith("error: ") and "dot" in line and "\x1b" not in line and "\x07" not in line
    assert not (tmp_path / "n.svg").exists() and not list(tmp_path.glob(".n.svg.*"))


def test_a_hanging_dot_is_stopped_at_the_time_out(tmp_path):
    run = draw(tmp_path, fake_dot(tmp_path / "bin", FAKE_DOTS["hangs"]))
    assert_clean(run, (2,), seconds=5)
    assert "did not finish in 2 s" in one_line(run)


def test_a_dot_that_is_not_a_program(tmp_path):
    run = draw(tmp_path, fake_dot(tmp_path / "bin", "\x7fELF garbage"))
    assert "cannot run" in one_line(run)
    assert_clean(run, (2,))


def test_no_dot_at_all(tmp_path):
    run = draw(tmp_path, fake_dot(tmp_path / "bin", None))
    assert_clean(run, (2,))
    assert "was not found on PATH" in one_line(run)


def test_dot_source_needs_no_dot(tmp_path):
    run = draw(tmp_path, fake_dot(tmp_path / "bin", FAKE_DOTS["fails"]), suffix=".dot")
    assert_clean(run, (0,))
    assert (tmp_path / "n.dot").read_text().startswith("digraph")


def test_render_raises_oserrors_the_cli_reports_as_usage_errors(tmp_path, monkeypatch):
    from archdsl.viz.render import GraphvizError, GraphvizTimeout, render

    fake_dot(tmp_path / "bin", FAKE_DOTS["hangs"])
    monkeypatch.setenv("PATH", str(tmp_path / "bin") + os.pathsep + "/usr/bin:/bin")
    with pytest.raises(GraphvizTimeout) as caught:
        render("digraph { a }", "svg", timeout=0.5)
    assert isinstance(caught.value, GraphvizError) and isinstance(caught.value, OSError)
    assert "0.5 s" in str(caught.value)


@pytest.mark.parametrize("opset", ["99999"])
def test_an_impossible_opset_is_one_line_and_exit_2(tmp_path, opset):
    pytest.importorskip("onnx")
    spec = write_spec(tmp_path, "n.arch", SPEC)
    run = run_capped(["export", str(spec), "-o", str(tmp_path / "n.onnx"), "--opset", opset])
    assert_clean(run, (2,), max_stderr=1000)
    one_line(run)

