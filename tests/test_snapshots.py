"""Snapshots of every stage's output for every bundled spec: the IR, the deploy IR and the diagrams' DOT source.

They pin today's behaviour so that code can move underneath: a refactor must leave every file under
`__snapshots__/test_snapshots/` unchanged. Only public entry points are called (`archdsl.check`,
`archdsl.reparam.deploy_ir`, `archdsl.viz.to_dot`). The formatter's outputs are in `__snapshots__/test_fmt/`.

When a change is meant to alter an output, regenerate and review the diff:

    python -m pytest tests/test_snapshots.py --snapshot-update
    git diff tests/__snapshots__/
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

import archdsl
from archdsl.reparam import deploy_ir
from archdsl.viz import to_dot

ROOT = Path(__file__).resolve().parents[1]
NETWORK = re.compile(r"^network\s+(\w+)\s*\(", re.MULTILINE)


def _cases() -> list:
    """One case per network of every spec under specs/, with a readable id (`book-lenet`)."""
    cases = []
    for path in sorted((ROOT / "specs").rglob("*.arch")):
        relative = path.relative_to(ROOT).as_posix()
        stem = "-".join(path.relative_to(ROOT / "specs").with_suffix("").parts)
        names = NETWORK.findall(path.read_text())
        for name in names:
            cases.append(pytest.param((relative, name), id=stem if len(names) == 1 else f"{stem}-{name}"))
    return cases


CASES = _cases()


class _Text(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT


class JSONText(_Text):
    file_extension = "json"


class DOTText(_Text):
    file_extension = "dot"


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONText)


@pytest.fixture
def snapshot_dot(snapshot):
    return snapshot.use_extension(DOTText)


@pytest.fixture
def network(request, monkeypatch):
    """The elaborated network, checked from the repository root so that spans name `specs/...` on any machine."""
    path, name = request.param
    monkeypatch.chdir(ROOT)
    return archdsl.check(path, name)


def as_json(network: archdsl.Network) -> str:
    """Key order sorted: the snapshot pins what the IR says, not the order a model declares its fields in."""
    return json.dumps(network.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"


def test_bundled_specs_are_all_covered():
    # a family file of variants only (`network resnet101 = resnet50(...)`) has no body of its own: its base's is here
    defining = [p for p in (ROOT / "specs").rglob("*.arch") if NETWORK.search(p.read_text())]
    assert len(CASES) >= len(defining)


@pytest.mark.parametrize("network", CASES, indirect=True)
def test_ir(network, snapshot_json):
    assert as_json(network) == snapshot_json


@pytest.mark.parametrize("network", CASES, indirect=True)
def test_deploy_ir(network, snapshot_json):
    assert as_json(deploy_ir(network)) == snapshot_json


# The variants `archdsl draw` offers: blocks closed, one level open, everything open and repeats expanded, and the
# deploy form at the depth its help example uses.
DOT_VARIANTS = {
    "depth0": lambda net: to_dot(net),
    "depth1": lambda net: to_dot(net, depth=1),
    "expanded": lambda net: to_dot(net, depth=99, expand_repeats=True),
    "deploy-depth2": lambda net: to_dot(deploy_ir(net), depth=2, variant="deploy"),
}


@pytest.mark.parametrize("variant", list(DOT_VARIANTS))
@pytest.mark.parametrize("network", CASES, indirect=True)
def test_dot(network, variant, snapshot_dot):
    assert DOT_VARIANTS[variant](network) == snapshot_dot
