"""The installed package is self-contained: grammar and standard library ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_wheel_contains_grammar_and_stdlib(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("archdsl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "archdsl/grammars/archdsl.lark" in names
    stdlib = {p.name for p in (ROOT / "archdsl" / "stdlib").glob("*.arch")}
    assert stdlib and {f"archdsl/stdlib/{n}" for n in stdlib} <= names
    assert "archdsl/cli/__init__.py" in names


def test_grammar_is_read_from_the_package_when_installed(tmp_path, monkeypatch):
    from importlib import resources

    from archdsl.syntax import parser

    packaged = tmp_path / "archdsl" / "grammars"
    packaged.mkdir(parents=True)
    (packaged / "archdsl.lark").write_text((ROOT / "grammars" / "archdsl.lark").read_text())
    monkeypatch.setattr(resources, "files", lambda package: tmp_path / package)
    assert parser.grammar_text() == (ROOT / "grammars" / "archdsl.lark").read_text()


def test_version_and_help_as_a_user_runs_them():
    from conftest import run_cli

    version = run_cli("--version")
    assert version.returncode == 0 and b"archdsl" in version.stdout
    helped = run_cli("--help")
    assert helped.returncode == 0 and b"check" in helped.stdout and b"build" in helped.stdout


def test_build_command_prints_parameters_and_output_shape():
    from conftest import run_cli

    result = run_cli("build", "specs/resnet18.arch")
    assert result.returncode == 0, result.stderr
    assert b"11,689,512 parameters" in result.stdout and b"output shape (1, 1000)" in result.stdout


def test_build_saves_a_loadable_state_dict(tmp_path):
    import torch

    from conftest import run_cli

    out = tmp_path / "m.pt"
    result = run_cli("build", "specs/resnet18.arch", "--set", "classes=10", "-o", str(out))
    assert result.returncode == 0, result.stderr
    state = torch.load(out, weights_only=True)
    assert state["fc.weight"].shape == (10, 512)


def test_build_on_missing_cuda_is_a_usage_error():
    import torch

    from conftest import run_cli

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; the error path cannot be exercised")
    result = run_cli("build", "specs/resnet18.arch", "--device", "cuda")
    assert result.returncode == 2 and b"no CUDA device" in result.stderr
