"""Issue 14, items 1-3, 10 and 11: resource bombs, budgets checked before allocation, `check` never accepting
what `build` cannot do, and slow-but-legal inputs.

Every case runs the CLI in a subprocess under hard caps (tests/hostile.py): exit 1 or 2, no traceback, bounded
output, under 5 s (plus torch's import time for commands that need torch) and 1 GiB. The budgets are in
archdsl/budgets.py and README's "Limits and import policy".
"""

from __future__ import annotations

import keyword

import pytest

from hostile import assert_clean, run_capped, write_spec


def check(tmp_path, text: str, *extra: str, command: str = "check", name: str = "spec.arch"):
    return run_capped([command, str(write_spec(tmp_path, name, text)), *extra])


NET = "network n(input=[3, 8, 8]) {{\n{}\n}}\n"

# --- item 1: resource bombs in expressions

BOMBS = {
    # twenty doublings of a 100,000-long list: 10^11 elements (took 22 GB before it was killed)
    "list_plus_doubling": "let a = range(100000)\n" + "let a = a + a\n" * 20 + "relu",
    # a comprehension whose items grow: 10^10 elements from 100,000 items, under the item budget
    "comprehension_growth": "let r = range(100000)\nlet s = [r + (x,) for x in r]\nrelu",
    # nested comprehensions of shared tuples are cheap; printing one in a message is 8*10^9 numbers
    "shared_tuple_in_a_message": "let r = range(2000)\nlet s = [r for x in r]\nlet t = [s for x in r]\nconv(t, 3)",
    # nesting by repeated wrapping: printing or dumping it recursed past Python's limit
    "deep_nesting": "let a = (1,)\n" + "let a = (a, a)\n" * 60 + "relu",
    # many moderate lists: each is allowed, together they are the work of billions of elements
    "total_work": "repeat 10000 { let a = range(100000) }\nrelu",
}


@pytest.mark.parametrize("name", BOMBS)
def test_expression_bombs_are_refused_with_a_budget_error(tmp_path, name):
    out = assert_clean(check(tmp_path, NET.format(BOMBS[name])), (1,))
    assert "error[E0115]" in out and ("at most" in out or "more than" in out), out


BIG_ARGUMENT = ("block b(x) { relu }\nnetwork n(input=[3, 8, 8]) {\n let r = range(300)\n let s = [r for x in r]\n"
                " b([s for x in r])\n}\n")


@pytest.mark.parametrize("command", [["check"], ["summary"], ["build", "--emit", "ir"]])
def test_a_big_list_passed_to_a_block_is_refused_or_fast(tmp_path, command):
    """A 150-byte spec that passes 27 million shared numbers to a block (21 s and 1.4 GB in `check`)."""
    run = run_capped([*command[:1], str(write_spec(tmp_path, "big_argument.arch", BIG_ARGUMENT)), *command[1:]])
    assert_clean(run, (0, 1))


# --- item 2: check accepts what build cannot do

#: labels torch keeps for itself on every module: `check` refuses them (E0118)
RESERVED = ["training"]
#: every other Python keyword and nn.Module attribute (37 of them made `build` exit 3 before the lowering of
#: issue 11 and this check): each must build, run, train/eval, save, load and reparameterize
KEYWORD_AND_MODULE_LABELS = sorted(
    (set(keyword.kwlist) | {"self", "forward", "parameters", "modules", "state_dict", "to", "cuda", "eval", "train",
                            "apply", "register_buffer", "add_module", "children", "named_modules", "zero_grad",
                            "half", "float", "type", "dump_patches", "call_super_init", "T_destination", "_modules",
                            "_parameters", "_buffers", "__class__", "__dict__", "__init__", "__call__", "code",
                            "graph", "x", "input", "torch", "getattr", "super", "_"}) - set(RESERVED))


@pytest.mark.parametrize("label", RESERVED)
def test_a_label_torch_keeps_is_refused_by_check(tmp_path, label):
    path = write_spec(tmp_path, "label.arch", f"network n(input=[3, 8, 8]) {{ {label}: conv(4, 3) relu }}\n")
    out = assert_clean(run_capped(["check", str(path)]), (1,))
    assert f"error[E0118]: label `{label}` cannot name a submodule" in out
    assert_clean(run_capped(["build", str(path)]), (1,))


def test_every_other_keyword_and_module_attribute_label_builds(tmp_path):
    import copy

    import torch

    import archdsl

    body = " ".join(f'"{label}": conv(4, 3, pad=1) bn' for label in KEYWORD_AND_MODULE_LABELS)
    path = write_spec(tmp_path, "labels.arch", f"network n(input=[4, 8, 8]) {{ {body} }}\n")
    model = archdsl.build(archdsl.check(path))
    assert set(KEYWORD_AND_MODULE_LABELS) <= set(dict(model.named_children()))
    model.train()
    model(torch.randn(2, 4, 8, 8))
    model.eval()
    y = model(torch.randn(2, 4, 8, 8))
    model.load_state_dict(copy.deepcopy(model).state_dict())
    deployed = archdsl.reparameterize(model)
    assert deployed(torch.randn(2, 4, 8, 8)).shape == y.shape


HUGE = {
    # int() skipped the 2**62 limit
    "int_of_a_huge_float": "network n(input=[3, int(1e30), 32]) { relu }\n",
    "round_of_a_huge_float": "network n(input=[3, 8, 8]) { let x = round(1e30)\n relu }\n",
    # 22 channel doublings: 12.6 million channels at 8x8, 805 million elements, no parameter at all
    "concat_doublings": "network n(input=[3, 8, 8]) { repeat 22 { concat { | } } }\n",
    # 3.5e21 channels
    "concat_doublings_70": "network n(input=[3, 8, 8]) { repeat 70 { concat { | } } }\n",
    # an activation of 58 billion elements (a 230 GB tensor), few parameters
    "huge_activation": "network n(input=[3, 30000, 30000]) { conv(64, 3, pad=1) }\n",
    # 3.6 billion parameters: 14 GB at float32, under the old default --max-params of 10^10
    "huge_linear": "network n(input=[60000]) { linear(60000) }\n",
}


@pytest.mark.parametrize("name", HUGE)
def test_check_refuses_what_build_could_not_allocate(tmp_path, name):
    out = assert_clean(check(tmp_path, HUGE[name]), (1,))
    assert "the limit" in out or "2**62" in out


@pytest.mark.parametrize("name", ["concat_doublings", "huge_activation", "huge_linear"])
def test_build_refuses_before_allocating(tmp_path, name):
    assert_clean(check(tmp_path, HUGE[name], command="build"), (1,))


@pytest.mark.parametrize("command", ["check", "summary"])
def test_an_absurd_input_option_is_refused(tmp_path, command):
    run = check(tmp_path, NET.format("relu"), "--input", "3x" + "9" * 30 + "x8", command=command)
    assert "larger than 2**62" in assert_clean(run, (2,))
    run = check(tmp_path, NET.format("relu"), "--input", "3x" + "9" * 5000 + "x8", command=command)
    assert "larger than 2**62" in assert_clean(run, (2,))


def test_an_input_above_the_integer_range_is_refused_through_the_api(tmp_path):
    import archdsl
    from archdsl.diagnostics import ArchError

    with pytest.raises(ArchError, match=r"`input` size 4,611,686,018,427,387,905 is larger than 2\*\*62"):
        archdsl.check(write_spec(tmp_path, "n.arch", NET.format("relu")), input=[3, 2**62 + 1, 8])


def test_the_default_parameter_budget_is_sized_to_the_machine():
    """Training needs 16 bytes a parameter (float32 weights, gradients, two Adam moments): the default --max-params
    is what fits this machine's memory, not 10^10."""
    import click

    from archdsl.budgets import machine_memory
    from archdsl.cli.app import max_params_option

    @click.command()
    @max_params_option
    def probe(max_params):
        return max_params

    default = probe.params[0].default
    assert default == machine_memory() // 16 < 10**10


# --- item 3: `check --input 3xHxW` must not scan every size up to the default

@pytest.mark.parametrize("size", [4096, 100_000, 2**40])
def test_the_input_size_search_is_bounded(tmp_path, size):
    """The scan of valid sizes stops 256 sizes above the minimum; absurd defaults fail the activation budget."""
    run = check(tmp_path, f"network n(input=[3, {size}, {size}]) {{ conv(4, 3) relu }}\n", "--input", "3xHxW")
    out = assert_clean(run, (0, 1, 2))
    if size == 4096:
        assert "every size from 3 to 259 fits" in out


# --- item 10: slow but legal

def test_two_megabytes_of_relu(tmp_path):
    assert_clean(check(tmp_path, NET.format("relu\n" * 349_000)), (0, 1))


def test_a_long_list_literal(tmp_path):
    items = ", ".join(["1"] * 600_000)
    assert_clean(check(tmp_path, NET.format(f"let x = [{items}]\nrelu")), (0, 1))


def test_ten_thousand_block_calls_are_over_the_op_budget(tmp_path):
    """18 s to build: over the op budget (ten times the largest bundled network), refused in check already."""
    text = "block b() { relu }\nnetwork n(input=[3, 8, 8]) { repeat 10000 { b } }\n"
    out = assert_clean(check(tmp_path, text, command="build"), (1,))
    assert "ops, the limit" in out


def test_a_large_raw_graph_draws_in_seconds(tmp_path):
    """Raw ops never fold, and the search for repeated block calls was cubic on them (1,000 ops took a minute)."""
    text = "network n(input=[3, 8, 8]) { repeat 2000 { conv(3, 1) relu } }\n"
    assert_clean(check(tmp_path, text, "-o", str(tmp_path / "x.dot"), command="draw"), (0,))


@pytest.mark.parametrize("body", ["repeat 10000 { repeat 19 { relu } }", "repeat 9950 { conv(3, 1) relu }"])
def test_drawing_a_large_network_as_dot_is_fast_or_refused(tmp_path, body):
    """190,000 ops under the op limit: `draw -o x.dot` ran for minutes."""
    text = f"network n(input=[3, 8, 8]) {{ {body} }}\n"
    assert_clean(check(tmp_path, text, "-o", str(tmp_path / "x.dot"), command="draw"), (0, 1))


# --- item 11: arithmetic messages and the deploy IR

def test_zero_to_a_negative_power_says_what_happened(tmp_path):
    out = assert_clean(check(tmp_path, NET.format("let x = 0 ** -1\nrelu")), (1,))
    assert "right side is 0" not in out and "negative" in out


DEPLOY_BN_BRANCH = "network n(input=[3, 8, 8]) { conv(8, 3, pad=1) bn add { conv(8, 1) bn | bn } }\n"


@pytest.mark.parametrize("command", [["summary", "--deploy"], ["build", "--emit", "ir", "--deploy"],
                                     ["draw", "--deploy", "-o", "{tmp}/x.dot"]])
def test_the_deploy_ir_of_a_bn_only_branch(tmp_path, command):
    path = write_spec(tmp_path, "deploy.arch", DEPLOY_BN_BRANCH)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert_clean(run_capped([args[0], str(path), *args[1:]]), (0,))


def test_build_deploy_of_a_bn_only_branch(tmp_path):
    path = write_spec(tmp_path, "deploy.arch", DEPLOY_BN_BRANCH)
    out = assert_clean(run_capped(["build", str(path), "--deploy"]), (0,))
    assert "2 BatchNorm folded" in out
