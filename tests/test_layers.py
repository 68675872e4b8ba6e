"""The layers of archdsl hold: the import-linter contracts of pyproject.toml, checked by `lint-imports`.

Imports inside functions count too, so a lazy import cannot hide an edge that runs back up. A contract has no
`ignore_imports`: an edge that breaks a layer is moved, not excused.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter depends on tomli there
    import tomli as tomllib

from conftest import ROOT


def contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["importlinter"]["contracts"]


def test_the_contracts_excuse_no_import():
    assert contracts(), "pyproject.toml declares no import-linter contract"
    assert [c["name"] for c in contracts() if c.get("ignore_imports")] == []


def test_lint_imports_keeps_every_contract():
    lint = Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [shutil.which("lint-imports") or "lint-imports"]
    result = subprocess.run([*command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[result.stdout.find("Broken contracts"):] + result.stderr
