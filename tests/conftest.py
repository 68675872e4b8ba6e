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


def named_ops(graph, prefix: str = ""):
    """(state_dict-style path, OpNode) of every primitive op of an IR graph, nested groups included, in order."""
    from archdsl.ir import GroupNode, OpNode

    for node in graph.nodes:
        if isinstance(node, GroupNode):
            yield from named_ops(node.graph, f"{prefix}{node.name}.")
        elif isinstance(node, OpNode):
            yield prefix + node.name, node


def randomize_batchnorm_stats(model, seed: int = 1, affine: bool = False):
    """Give every `BatchNorm2d` of a torch model running statistics that are not the identity (means 0.1 * N(0, 1),
    variances U(0.5, 1.5)), and with `affine` weights 1 + 0.1 * N(0, 1) and biases 0.1 * N(0, 1), drawn in module
    order from a generator seeded with `seed`, so that eval mode tests something. Returns the model."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                if affine:
                    m.weight.copy_(1 + torch.randn(m.num_features, generator=generator) * 0.1)
                    m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.1)
    return model


def at_small_input(path: Path, network: str | None = None, size: int = 64):
    """The checked network at a `size`x`size` input where its spec accepts one (faster to run), else at its own."""
    import archdsl

    net = archdsl.check(path, network)
    if len(net.input.dims) == 3 and "input" in net.params:
        try:
            return archdsl.check(path, network, input=(net.input.dims[0], size, size))
        except archdsl.ArchError:
            pass
    return net


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
