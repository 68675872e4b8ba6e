"""Shared helpers and options.

`python -m pytest` (and CI) leaves out the tests marked `slow` (each over about 5 s on two cores: whole-network
float64 comparisons, CLI runs that build torch models, long hypothesis searches) through pyproject's addopts;
`python -m pytest -m "slow or not slow"` runs everything, `-m slow` only those.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
REFERENCE = Path(__file__).parent / "reference"


def all_specs() -> list[Path]:
    return sorted(SPECS.rglob("*.arch"))


def spec_id(path: Path) -> str:
    return str(path.relative_to(SPECS))


def network_specs() -> list:
    """`pytest.param((path, network))` for every network a bundled spec defines with a body, `network` None where it
    is the file's only network, with the file's id unless the file defines several. Variants (`network resnet101 =
    resnet50(...)`, a family file's one-liners) are left out: a variant's body is its base's, exercised where the
    base is defined, and test_parity.py checks each variant against its reference."""
    from archdsl.passes.resolve import load_file

    cases = []
    for path in all_specs():
        networks = load_file(path).module.networks
        defined = [n.name for n in networks if n.base is None]
        for name in defined:
            case = (path, None if len(networks) == 1 else name)
            cases.append(pytest.param(case, id=spec_id(path) if len(defined) == 1 else f"{spec_id(path)}:{name}"))
    return cases


def reference(name: str) -> dict:
    return json.loads((REFERENCE / f"{name}.json").read_text())


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, input: bytes | None = None):
    """Run `archdsl` as a user does, in a subprocess."""
    return subprocess.run([sys.executable, "-m", "archdsl", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, **(env or {})}, input=input, timeout=600)


@pytest.fixture
def write(tmp_path):
    """Write a spec file and return its path: write("a.arch", "network ...")."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite the snapshots under tests/golden/ from the current output, instead of comparing.")
