"""The deploy agreement: every command that shows the deploy network shows the one that `build --deploy` saves.

`summary --deploy`, `draw --deploy` and `build --emit ir --deploy` read the IR pass (`reparam.ir`);
`build --deploy` and `archdsl.reparameterize` lower that deploy IR, with the weights computed along the pass
(`reparam.deploy`, `reparam/state.py`). A module that archdsl did not build is a torch.fx graph rewritten by
the same rules of `reparam/rules.py` (`reparam.graph`). Here, on every bundled spec and on tricky patterns, with
a throwaway primitive registered as the identity at inference with a module of its own (the case where two
passes once disagreed): the deploy module is the lowering of the deploy IR (module names and parameter shapes
in order, counts, the weights the IR pass computes), it computes what the training form computes in eval mode
with random BatchNorm statistics, and so does the fx pass on the traced training form.
"""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from torch import fx, nn

import archdsl
from archdsl.primitives import REGISTRY, Primitive
from archdsl.primitives.base import register_instance
from archdsl import pipeline, reparam
from archdsl.reparam import graph, ir
from archdsl.reparam.state import FollowState
from archdsl.reparam.verify import difference, flat_outputs, randomize_batchnorm

from conftest import network_specs, spec_id


class Jitter(nn.Module):
    """Noise while training, nothing in eval mode: a module that neither torch nor archdsl.nn knows."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.1 * torch.randn_like(x) if self.training else x


class JitterPrimitive(Primitive):
    name = "jitter"
    family = "regularize"
    inference_identity = True

    def build(self, p, x, y):
        return Jitter()


@pytest.fixture(scope="module", autouse=True)
def jitter():
    register_instance(JitterPrimitive())
    yield
    del REGISTRY["jitter"]


# -- the agreement


def check_small(path, **params) -> archdsl.Network:
    """The network at a smaller input where its shapes allow one (to save CPU), else at its own."""
    net = archdsl.check(path, **params)
    if net.input.rank == 3 and net.input.h > 64:
        for size in (64, 96, 128):
            try:
                return archdsl.check(path, **params, input=(net.input.c, size, size))
            except archdsl.ArchError:
                continue
    return net


def assert_agree(net: archdsl.Network, dtype=torch.float64, seed: int = 0) -> graph.Reparameterized:
    """`build --deploy` and the IR pass describe one network: returns the deploy result for more checks."""
    torch.manual_seed(seed)
    model = randomize_batchnorm(archdsl.build(net).to(dtype).eval())
    follow = FollowState(model.state_dict())  # the deploy weights computed along the IR pass, from the IR alone
    built, planned = reparam.run(model, build=pipeline.deploy_structure), ir.run(net, follow)
    assert (built.removed, built.folded, built.fused) == (planned.removed, planned.folded, planned.fused)
    assert len(built.kept) == len(planned.kept), (built.kept, planned.kept)
    deploy, state = built.module, built.module.state_dict()
    lowered = archdsl.build(planned.network).to(dtype).to(memory_format=torch.channels_last).eval()
    assert [(k, v.shape) for k, v in lowered.state_dict().items()] == [(k, v.shape) for k, v in state.items()]
    assert planned.network.param_count == sum(p.numel() for p in deploy.parameters())
    assert planned.network.output == net.output
    assert follow.state.keys() == state.keys()
    assert all(torch.equal(follow.state[k], v) for k, v in state.items()), "the IR pass computed other weights"
    lowered.load_state_dict(follow.state)
    x = torch.randn(2, *net.input.dims, dtype=dtype)
    with torch.no_grad():  # every output of a graph network (a segmentation spec returns {out, aux})
        reference, deployed = flat_outputs(model(x)), flat_outputs(deploy(x))
        assert all(torch.equal(a, b) for a, b in zip(flat_outputs(lowered(x)), deployed, strict=True))
        traced = flat_outputs(graph.run(fx.symbolic_trace(model).eval()).module(x))  # the other adapter, flat
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    for a, b, c in zip(reference, deployed, traced, strict=True):
        assert difference(a, b)[1] < tolerance and difference(a, c)[1] < tolerance
    return built


# -- every bundled spec

BatchNorm = nn.modules.batchnorm._BatchNorm

# BatchNorms that must remain: DenseNet-BC's are pre-activation (bn relu conv), except norm0 and each norm2
KEPT_BATCHNORMS = {"densenet121.arch": 62, "resnet18.arch": 0, "mobilenet_v2.arch": 0, "googlenet.arch": 0,
                   "efficientnet_b0.arch": 0, "repvgg_a0.arch": 0}


def batchnorms(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, BatchNorm)]


def foldable_batchnorms(model: nn.Module) -> list[str]:
    """BatchNorms of the deploy module's IR that directly follow a conv/linear (or a group ending in one) read
    by nothing else."""
    return _foldable(archdsl.nn.network_of(model).graph, "")


def _foldable(graph, prefix: str) -> list[str]:
    found = []
    for node in graph.nodes:
        if node.kind == "group":
            found += _foldable(node.graph, f"{prefix}{node.name}.")
        elif node.kind == "op" and node.op == "bn" and _ends_with_linear(graph, node.inputs[0]):
            found.append(f"{prefix}{node.name}")
    return found


def _ends_with_linear(graph, value: int) -> bool:
    readers = sum(i == value for n in graph.nodes for i in n.inputs) + sum(o.node == value for o in graph.results())
    if value == 0 or readers != 1:
        return False
    node = graph.nodes[value - 1]
    if node.kind == "group":
        return _ends_with_linear(node.graph, node.graph.output)
    return node.kind == "op" and node.op in ("conv", "linear")


@pytest.mark.slow
@pytest.mark.parametrize("spec", network_specs())
def test_every_spec_deploys_to_one_network(spec):
    path, network = spec
    net = check_small(path, network=network)
    dtype = torch.float64 if net.param_count < 50_000_000 else torch.float32  # VGG/AlexNet: keep memory small
    result = assert_agree(net, dtype)
    assert not foldable_batchnorms(result.module)
    if spec_id(path) in KEPT_BATCHNORMS:
        assert len(batchnorms(result.module)) == KEPT_BATCHNORMS[spec_id(path)]


# -- tricky patterns (input 8x10x10)

CRASH = "conv(8, 3, pad=1) bn add { conv(8, 1) bn | bn }"  # once a StopIteration in the IR pass (exit 3)

PATTERNS = {
    "bn-after-conv-before-bn-branch": CRASH,
    "bn-only-branches": "conv(8, 1) relu add { bn | bn | conv(8, 3, pad=1) bn }",
    "bn-only-no-conv": "relu add { bn | bn }",
    "kernels-1-3-5-1x3-3x1": "add { conv(8, 3, pad=1) bn | conv(8, (1, 3), pad=(0, 1)) bn "
                             "| conv(8, (3, 1), pad=(1, 0)) bn | conv(8, 5, pad=2) bn | conv(8, 1) bn }",
    "even-kernel-same-padding": 'add { conv(8, 2, pad="same") bn | conv(8, 1) bn }',
    "off-centre-windows": "avgpool(2, stride=1) add { conv(8, 3, stride=3, pad=1) | conv(8, 3, stride=3) }",
    "depthwise-strided-dilated": "add { conv(8, 3, pad=1, groups=8) bn | conv(8, 1, groups=8) bn | bn } relu "
                                 "add { conv(8, 3, pad=2, dilation=2) bn | conv(8, 1) bn | } relu "
                                 "add { conv(16, 3, stride=2, pad=1) bn | conv(16, 1, stride=2) bn }",
    "nested-adds": "add { add { conv(8, 3, pad=1) bn | conv(8, 1) bn } | bn | }",
    "nested-add-kept-apart": "add { add { conv(8, 3, pad=1) bn | conv(8, 1) bn } relu | conv(8, 1) bn }",
    "identity-branches": "add { conv(8, 3, pad=1) bn | | }",
    "identity-first": "add { | conv(8, 3, pad=1) bn | conv(8, 1) bn }",
    "partial-sum": "add { conv(8, 3, pad=1) bn | conv(8, 1) bn | conv(8, 3, pad=1) relu }",
    "value-read-twice": "conv(8, 3, pad=1) add { | }",
    "conv-read-twice": "conv(8, 1) add { bn | relu }",
    "dropout-drop-path-in-eval": "conv(8, 3, pad=1) dropout(0.2) bn "
                                 "add { conv(8, 3, pad=1) drop_path(0.1) bn | conv(8, 1) bn dropout(0.3) | }",
    "throwaway-identity": "conv(8, 3, pad=1) jitter bn add { { conv(8, 3, pad=1) jitter } bn | jitter | }",
    "group-emptied": "{ dropout(0.1) } conv(8, 1) { jitter } bn g: { conv(8, 3, pad=1) } bn",
    "group-ending-in-conv": "{ conv(8, 3, pad=1) relu conv(8, 1) } bn add { { conv(8, 3, pad=1) } bn | { bn } }",
    "bn-after-merge": "concat { conv(4, 1) | conv(4, 3, pad=1) } bn mul { conv(8, 1) bn | sigmoid }",
    "pre-activation": "bn relu conv(8, 3, pad=1)",
    "linear-bn": "conv(8, 1) bn relu gap flatten linear(10) bn dropout(0.5) linear(4) bn",
}


def pattern(write, name: str, body: str) -> archdsl.Network:
    return archdsl.check(write(f"{name.replace('-', '_')}.arch", f"network p(input=[8, 10, 10]) {{\n    {body}\n}}\n"))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("name", PATTERNS)
def test_tricky_pattern_deploys_to_one_network(write, name):
    assert_agree(pattern(write, name, PATTERNS[name]))


def test_the_throwaway_primitive_leaves_both_passes(write):
    net = pattern(write, "throwaway", PATTERNS["throwaway-identity"])
    result = assert_agree(net)
    assert not any(isinstance(m, Jitter) for m in result.module.modules())
    assert len(result.removed) == 3 and not result.kept


# -- the four commands, in one process (the throwaway primitive is registered only here)


def cli(*args: str) -> str:
    from archdsl.cli import main

    outcome = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


@pytest.mark.parametrize("name", ["throwaway-identity", "bn-after-conv-before-bn-branch", "nested-adds"])
def test_summary_draw_emit_and_build_deploy_agree(write, tmp_path, name):
    net = pattern(write, name, PATTERNS[name])
    path, dot = net.file, tmp_path / "deploy.dot"
    built = cli("build", path, "--deploy", "--verbose")
    emitted = json.loads(cli("build", path, "--emit", "ir", "--deploy"))
    summary = json.loads(cli("summary", path, "--deploy", "--format", "json"))
    cli("draw", path, "--deploy", "-o", str(dot))
    deploy = ir.deploy_ir(net)
    assert f"deploy: {deploy.param_count:,} parameters" in built
    assert json.dumps(emitted, sort_keys=True) == json.dumps(json.loads(deploy.model_dump_json()), sort_keys=True)
    assert deploy.param_count in _numbers(summary)
    text = dot.read_text()
    assert "jitter" not in text and ">bn<" not in text
    for line in reparam.run(archdsl.build(net).eval(), build=pipeline.deploy_structure).fused:
        assert line in built


def _numbers(value) -> set[int]:
    """Every integer anywhere in a JSON document."""
    if isinstance(value, dict):
        return set().union(*map(_numbers, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_numbers, value)) if value else set()
    return {value} if isinstance(value, int) and not isinstance(value, bool) else set()
