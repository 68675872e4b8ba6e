"""The property-based guarantee of issue 14: what `check` accepts, `build` builds, and the static shapes are the
shapes torch computes.

For every valid spec that tests/strategies.py draws (blocks, loops, branches, merges, labels, if/else, random
shapes), and that `archdsl.check` accepts:

1. the generator's own model of the language gives the same output shape as `check` (and `check` accepts the
   spec at all: the generator writes only valid specs);
2. `archdsl.build` succeeds; at run time every op and block module receives and returns exactly the static
   shapes of its IR node, the output is the network's static output, and parameter counts agree;
3. the reparameterized module (`archdsl.reparameterize(model.eval())`) computes what the training form computes
   in eval mode (float64, BatchNorm statistics randomized), and the torch-free deploy IR counts the same
   parameters as that module;
4. `fmt` round-trips: the formatted text has the same syntax tree, formatting it again changes nothing, and it
   elaborates to the same IR (positions aside).

CI runs `ARCHDSL_DIFF_EXAMPLES` examples (30 by default, a fixed seed, a few seconds). The long run:

    ARCHDSL_DIFF_EXAMPLES=10000 ARCHDSL_DIFF_SURVEY=1 ARCHDSL_DIFF_REPORT=diff.json \\
        nice -n 19 python -m pytest tests/test_differential.py -q -p no:cacheprovider

draws fresh random examples; with ARCHDSL_DIFF_SURVEY it records every failure (kind, message, spec) in the
report instead of stopping at the first, and fails at the end if there was any.
"""

from __future__ import annotations

import collections
import json
import os
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, note, settings

import archdsl
from archdsl.diagnostics import ArchError
from strategies import GeneratedSpec, specs

EXAMPLES = int(os.environ.get("ARCHDSL_DIFF_EXAMPLES", "30"))
SURVEY = bool(os.environ.get("ARCHDSL_DIFF_SURVEY"))
REPORT = os.environ.get("ARCHDSL_DIFF_REPORT")
LONG = "ARCHDSL_DIFF_EXAMPLES" in os.environ

STATS: collections.Counter = collections.Counter()
REJECTED: collections.Counter = collections.Counter()
FAILURES: list[dict] = []


class Disagreement(AssertionError):
    """Two stages of archdsl (or archdsl and torch) disagree about a valid spec."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def expect(condition: bool, kind: str, message: str) -> None:
    if not condition:
        raise Disagreement(kind, message)


# --- what each stage says

def static_shapes(graph, prefix: str = "") -> dict[str, tuple[tuple, tuple]]:
    """Module path -> (input dims, output dims) for every op and block node of the IR, nested ones included,
    but ops written into their parent's forward (`Primitive.inline`): those have no module to hook, and the
    shapes of what reads them, or of the output, check them."""
    from archdsl.lower.codegen import is_inlined

    types = {0: graph.input}
    shapes = {}
    for node in graph.nodes:
        types[node.id] = node.out
        if node.kind == "group" or (node.kind == "op" and not is_inlined(node)):
            path = prefix + node.name
            shapes[path] = (tuple(types[node.inputs[0]].dims), tuple(node.out.dims))
            if node.kind == "group":
                shapes.update(static_shapes(node.graph, path + "."))
    return shapes


def randomize_norms(model: torch.nn.Module, generator: torch.Generator) -> None:
    """BatchNorm statistics and affine parameters far from the identity, so fusing them is really tested."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            n = module.num_features
            with torch.no_grad():
                module.running_mean.copy_(torch.randn(n, generator=generator, dtype=torch.float64) * 0.5)
                module.running_var.copy_(torch.rand(n, generator=generator, dtype=torch.float64) + 0.5)
                if module.affine:
                    module.weight.copy_(torch.randn(n, generator=generator, dtype=torch.float64))
                    module.bias.copy_(torch.randn(n, generator=generator, dtype=torch.float64))


def run_with_shape_hooks(model: torch.nn.Module, net, x: torch.Tensor) -> torch.Tensor:
    expected = static_shapes(net.graph)
    modules = dict(model.named_modules())
    missing = sorted(set(expected) - set(modules))
    expect(not missing, "lowering", f"IR nodes without a module: {missing[:5]}")
    seen: dict[str, tuple[tuple, tuple]] = {}

    def hook(name):
        def record(module, inputs, output):
            seen[name] = (tuple(inputs[0].shape[1:]), tuple(output.shape[1:]))

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in expected]
    try:
        with torch.no_grad():
            y = model(x)
    finally:
        for handle in handles:
            handle.remove()
    for name, static in expected.items():
        expect(name in seen, "runtime shape", f"module `{name}` never ran")
        expect(seen[name] == static, "runtime shape",
               f"module `{name}`: static in/out {static}, torch {seen[name]}")
    expect(tuple(y.shape[1:]) == tuple(net.output.dims), "runtime shape",
           f"output: static {tuple(net.output.dims)}, torch {tuple(y.shape[1:])}")
    return y


def without_positions(value):
    """A model dump with every position removed: spans, and anything else that names a line or column."""
    if isinstance(value, dict):
        return {k: without_positions(v) for k, v in value.items()
                if "span" not in k and k not in ("line", "col", "end_line", "end_col", "file", "trivia", "comments")}
    if isinstance(value, (list, tuple)):
        return [without_positions(v) for v in value]
    return value


def formatted(text: str, name: str) -> str:
    from archdsl.source import Source
    from archdsl.syntax.format import format_source

    return format_source(Source(name, text))


def syntax_tree(text: str, name: str):
    from archdsl.source import Source
    from archdsl.syntax.parser import parse

    return without_positions(parse(Source(name, text)).model_dump(mode="json"))


def deploy_ir(net):
    try:
        from archdsl.pipeline import deploy
    except ImportError:  # before the pipeline
        from archdsl.reparam import deploy_ir as deploy
    return deploy(net)


# --- the property

def differential(spec: GeneratedSpec, folder: Path) -> None:
    path = folder / "generated.arch"
    path.write_text(spec.text)
    try:
        net = archdsl.check(path)
    except ArchError as exc:
        first = exc.diagnostics[0]
        REJECTED[f"{first.code} {first.message[:80]}"] += 1
        raise Disagreement("check rejects a valid spec", f"{first.code} {first.message}") from None
    STATS["accepted"] += 1
    expect(tuple(net.output.dims) == spec.output, "static shape",
           f"check says {tuple(net.output.dims)}, the generator's model {spec.output}")

    # 2. build, and the shapes torch computes
    try:
        model = archdsl.build(net).double()
    except Exception as exc:  # noqa: BLE001 - any failure here is the finding
        raise Disagreement("build fails", f"{type(exc).__name__}: {exc}") from None
    params = sum(p.numel() for p in model.parameters())
    expect(params == net.param_count, "parameter count", f"static {net.param_count:,}, module {params:,}")
    generator = torch.Generator().manual_seed(len(spec.text))
    randomize_norms(model, generator)
    model.eval()
    x = torch.randn(2, *net.input.dims, generator=generator, dtype=torch.float64)
    try:
        y = run_with_shape_hooks(model, net, x)
    except Disagreement:
        raise
    except Exception as exc:  # noqa: BLE001
        raise Disagreement("forward fails", f"{type(exc).__name__}: {exc}") from None

    # 3. the deploy form computes the same, and the torch-free deploy IR describes it
    try:
        deployed = archdsl.reparameterize(model)
        with torch.no_grad():
            z = deployed(x)
    except Exception as exc:  # noqa: BLE001
        raise Disagreement("reparameterize fails", f"{type(exc).__name__}: {exc}") from None
    expect(z.shape == y.shape, "deploy output", f"shape {tuple(z.shape)}, training form {tuple(y.shape)}")
    scale = max(1.0, float(y.abs().max()))
    diff = float((z - y).abs().max())
    expect(diff <= 1e-8 * scale, "deploy output", f"max abs diff {diff:.3g} (outputs up to {scale:.3g})")
    try:
        ir_params = deploy_ir(net).param_count
    except Exception as exc:  # noqa: BLE001
        raise Disagreement("deploy IR fails", f"{type(exc).__name__}: {exc}") from None
    module_params = sum(p.numel() for p in deployed.parameters())
    expect(ir_params == module_params, "deploy IR",
           f"deploy IR counts {ir_params:,} parameters, the deploy module has {module_params:,}")

    # 4. fmt
    try:
        once = formatted(spec.text, "generated.arch")
        twice = formatted(once, "generated.arch")
    except ArchError as exc:
        raise Disagreement("fmt fails", exc.diagnostics[0].message) from None
    expect(twice == once, "fmt", "formatting the formatted text changes it again")
    expect(syntax_tree(once, "generated.arch") == syntax_tree(spec.text, "generated.arch"), "fmt",
           "the formatted text parses to another syntax tree")
    path.write_text(once)
    again = archdsl.check(path)
    expect(without_positions(again.model_dump(mode="json")) == without_positions(net.model_dump(mode="json")),
           "fmt", "the formatted text elaborates to another IR")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("differential")


@pytest.fixture(scope="module", autouse=True)
def report():
    started, threads = time.monotonic(), torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: threads only add overhead on a shared machine
    yield
    torch.set_num_threads(threads)
    if REPORT:
        Path(REPORT).write_text(json.dumps({
            "examples": STATS["examples"], "accepted": STATS["accepted"], "failures": len(FAILURES),
            "by_kind": collections.Counter(f["kind"] for f in FAILURES), "rejected_by_check": REJECTED,
            "seconds": round(time.monotonic() - started, 1), "failure_samples": FAILURES[:200]}, indent=2))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG, print_blob=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(specs())
def test_what_check_accepts_builds_runs_reparameterizes_and_formats_as_stated(folder, spec):
    note(spec.text)
    STATS["examples"] += 1
    try:
        differential(spec, folder)
    except Disagreement as exc:
        if not SURVEY:
            raise
        FAILURES.append({"kind": exc.kind, "message": str(exc)[:500], "spec": spec.text})


def test_the_survey_found_no_disagreement():
    """With ARCHDSL_DIFF_SURVEY the property records instead of failing: this fails at the end if it recorded."""
    kinds = collections.Counter(f["kind"] for f in FAILURES)
    assert not FAILURES, f"{len(FAILURES)} disagreements in {STATS['examples']} examples: {dict(kinds)}; first:\n" \
                         f"{FAILURES[0]['message']}\n{FAILURES[0]['spec']}"
