"""The light install: a fresh venv with `pip install archdsl[lsp]` and no torch checks, summarizes, formats,
draws, highlights and serves the editor; `build` says in one line how to install torch.

This is what the pre-commit hook and the README's CI step install. It needs a reachable package index (the
test skips when none answers) and takes a minute or so; run with `-s` to see the install's time and size.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def _venv_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> Path:
    """A venv holding archdsl[lsp] and its dependencies, nothing else (its `bin` folder)."""
    root = tmp_path_factory.mktemp("light")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    probe = subprocess.run([*pip, "download", "-q", "--no-deps", "-d", str(root / "probe"), "lark"],
                           capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"no package index is reachable: {probe.stderr.strip()[-200:]}")
    empty = _venv_size(venv)
    started = time.perf_counter()
    result = subprocess.run([*pip, "install", "-q", f"{ROOT}[lsp]"], capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"\n  light install (archdsl[lsp]): {seconds:.1f} s, {(_venv_size(venv) - empty) / 2**20:.0f} MiB "
          f"over an empty venv")
    return venv / "bin"


def run(bin: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(bin / "archdsl"), *args], cwd=ROOT, capture_output=True, timeout=300, env=env,
                          input=input)


def test_there_is_no_torch(light):
    result = subprocess.run([str(light / "python"), "-c", "import torch"], capture_output=True, cwd="/")
    assert result.returncode != 0


def test_check_summary_fmt_sweep_and_draw_run_without_torch(light, tmp_path):
    checked = run(light, "check", "specs/")
    assert checked.returncode == 0, checked.stderr
    assert b"no errors" in checked.stderr + checked.stdout
    summary = run(light, "summary", "specs/resnet18.arch")
    assert summary.returncode == 0 and b"11,689,512" in summary.stdout
    formatted = run(light, "fmt", "--check", "specs/")
    assert formatted.returncode == 0, formatted.stderr
    swept = run(light, "sweep", "specs/resnet18.arch", "--set", "classes=10,100")
    assert swept.returncode == 0, swept.stderr
    drawn = run(light, "draw", "specs/resnet18.arch", "-o", str(tmp_path / "resnet18.dot"))
    assert drawn.returncode == 0 and (tmp_path / "resnet18.dot").read_text().startswith("digraph")


def test_build_says_how_to_install_torch(light):
    result = run(light, "build", "specs/resnet18.arch")
    assert result.returncode == 2
    (line,) = result.stderr.decode().strip().splitlines()
    assert "torch" in line and "pip install 'archdsl[torch]'" in line


def test_pygmentize_knows_the_language(light):
    result = subprocess.run([str(light / "python"), "-m", "pygments", "-l", "archdsl", "-f", "html",
                             str(ROOT / "specs" / "resnet18.arch")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '<span class="nb">conv</span>' in result.stdout


def test_the_language_server_starts_answers_and_stops(light):
    """initialize, open a spec (its diagnostics arrive: none), inlay hints, shutdown, exit."""
    from archdsl.lsp.stdio_client import StdioClient

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    client = StdioClient([str(light / "archdsl"), "lsp"], cwd=ROOT, env=env)
    try:
        capabilities = client.initialize(ROOT)["capabilities"]
        assert capabilities["hoverProvider"] and "inlayHintProvider" in capabilities
        uri = (ROOT / "specs" / "resnet18.arch").as_uri()
        client.open(uri, (ROOT / "specs" / "resnet18.arch").read_text())
        published = client.wait_for("textDocument/publishDiagnostics")
        assert published["uri"] == uri and published["diagnostics"] == []
        hints = client.request("textDocument/inlayHint", {"textDocument": {"uri": uri}, "range": {
            "start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}}})
        assert any(h["label"] == "-> 1000" for h in hints)
        assert client.shutdown() == 0
    finally:
        if client.process.poll() is None:
            client.process.kill()
        client.process.wait()
