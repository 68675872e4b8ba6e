"""Lowering: module structure, in-place activations only where safe, and one code generation per module."""

from __future__ import annotations

import pytest
import torch

import archdsl


def build(write, text: str):
    return archdsl.load(write("n.arch", text)).eval()


def test_activation_overwrites_only_fresh_single_use_tensors(write):
    model = build(write, """
        network n(input=[4, 8, 8]) {
            relu                               # the network input: never overwritten
            conv(4, 1) relu                    # conv output read only by relu: in place
            add { conv(4, 1) relu | relu }     # the add's input is read twice: both relus copy
            sigmoid                            # torch's Sigmoid has no in-place form
        }
    """)
    inplace = {name: getattr(m, "inplace", None) for name, m in model.named_children()}
    assert inplace == {"0": False, "1": None, "2": True, "3": None, "4": True, "5": False, "6": None}


def test_in_place_activations_keep_values_and_gradients(write):
    text = "network n(input=[3, 8, 8]) { conv(4, 3, pad=1) bn relu6 conv(4, 1) hardswish conv(4, 1) silu }"
    torch.manual_seed(0)
    model = archdsl.load(write("n.arch", text))
    reference = archdsl.load(write("n.arch", text))
    reference.load_state_dict(model.state_dict())
    for m in reference.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    y1, y2 = model(x), reference(x)
    torch.testing.assert_close(y1, y2)
    (g1,) = torch.autograd.grad(y1.sum(), x)
    (g2,) = torch.autograd.grad(y2.sum(), x)
    torch.testing.assert_close(g1, g2)


def test_one_branch_merges_are_refused_and_an_identity_sum_is_fresh(write):
    # a one-branch `add { }` would lower to its input tensor itself, which a relu after it must not overwrite:
    # the language refuses it (E0117); `add { | }` (x + x) is a new tensor, safe to overwrite
    with pytest.raises(archdsl.ArchError) as exc:
        build(write, "network n(input=[4, 8, 8]) { conv(4, 3, pad=1) add { add { } relu | } }")
    assert exc.value.diagnostics[0].code == "E0117"
    model = build(write, "network n(input=[4, 8, 8]) { conv(4, 3, pad=1) add { add { | } relu | } }")
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad():
        c = model.get_submodule("0")(x)
        torch.testing.assert_close(model(x), torch.relu(c + c) + c)


def test_each_structure_compiles_its_forward_once(write, monkeypatch):
    from archdsl.lower import classes

    compiled = []
    original = classes._compile
    monkeypatch.setattr(classes, "_compile", lambda code, name: compiled.append(name) or original(code, name))
    monkeypatch.setattr(classes, "_CLASSES", {})
    text = "block b() { { { conv(4, 1) } } } network n(input=[3, 4, 4]) { b b }"
    model = archdsl.load(write("n.arch", text))
    # 7 generated modules, 3 structures: n, b, and the two nested groups (each calls its one child `0`)
    generated = [m for m in model.modules() if isinstance(m, classes.Block)]
    assert len(generated) == 7 and sorted(compiled) == ["B", "N", "Sequential"]
    archdsl.load(write("n.arch", text))
    assert len(compiled) == 3


def test_modules_are_plain_classes_with_readable_forward_code(write):
    import inspect

    model = build(write, "block unit() { conv(4, 1) relu } network n(input=[4, 4, 4]) { a: unit b: unit add { | } }")
    assert type(model).__mro__[1:3] == (archdsl.lower.classes.Block, torch.nn.Module)
    assert type(model.a) is type(model.b)
    source = inspect.getsource(type(model).forward)  # linecache knows the generated file
    assert source == model.code and "m['a'](x)" in source and "x + x" in source
    try:
        type(model.a).forward(model.a, None)
    except TypeError as exc:  # the traceback points into the generated lines
        import traceback

        frames = traceback.extract_tb(exc.__traceback__)
        assert any(f.filename.startswith("<archdsl Unit") and f.line == "x = m['0'](x)" for f in frames)


def test_pickle_deepcopy_and_torch_save_rebuild_the_generated_classes(write, tmp_path):
    import copy
    import pickle

    model = build(write, "block unit() { conv(4, 1) bn relu } network n(input=[4, 4, 4]) { a: unit add { b: unit | } }")
    x = torch.randn(2, 4, 4, 4)
    torch.save(model, tmp_path / "model.pt")
    copies = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model),
              torch.load(tmp_path / "model.pt", weights_only=False)]
    for other in copies:
        assert type(other) is type(model) and list(other.state_dict()) == list(model.state_dict())
        assert other.a.get_submodule("0").weight is not model.a.get_submodule("0").weight
        torch.testing.assert_close(other(x), model(x))
        assert archdsl.nn.network_of(other) == archdsl.nn.network_of(model)
    assert archdsl.nn.network_of(copies[1]) is archdsl.nn.network_of(model)  # the IR is immutable: shared


def test_labels_that_the_generated_code_also_uses_as_names(write):
    model = build(write, "network n(input=[3, 4, 4]) { m: conv(4, 1) x: relu torch: conv(4, 1) concat { | } }")
    assert [name for name, _ in model.named_children()] == ["m", "x", "torch"]
    assert model(torch.randn(1, 3, 4, 4)).shape == (1, 8, 4, 4) and "m['torch'](x)" in model.code


def test_class_names_follow_blocks(write):
    model = build(write, "block my_unit() { conv(4, 1) } network tiny_net(input=[3, 4, 4]) { my_unit }")
    assert type(model).__name__ == "TinyNet" and type(model.get_submodule("0")).__name__ == "MyUnit"


def test_generated_code_is_shared_by_identical_structures_only(write):
    model = build(write, """
        block a() { first: conv(4, 1) relu }
        block b() { second: conv(4, 1) relu }
        network n(input=[4, 4, 4]) { a a b add { a | b } }
    """)
    a1, a2, b1 = (model.get_submodule(n) for n in ("0", "1", "2"))
    assert a1.code == a2.code and "first" in a1.code
    assert "second" in b1.code and "first" not in b1.code
    assert " + " in model.code


CHECKPOINTED = """
    block unit(c) { conv(c, 3, pad=1) bn relu conv(c, 3, pad=1) }
    network n(ckpt=true, input=[4, 8, 8]) { a: unit(4) if ckpt { b: checkpoint unit(4) } else { b: unit(4) } }
"""


def test_checkpointed_block_recomputes_in_training_only(write, monkeypatch):
    import torch.utils.checkpoint as torch_checkpoint

    calls = []
    original = torch_checkpoint.checkpoint
    monkeypatch.setattr(torch_checkpoint, "checkpoint", lambda *a, **k: calls.append(1) or original(*a, **k))
    path = write("n.arch", CHECKPOINTED)
    torch.manual_seed(0)
    checkpointed, plain = archdsl.load(path), archdsl.load(path, ckpt=False)
    assert list(checkpointed.state_dict()) == list(plain.state_dict())
    plain.load_state_dict(checkpointed.state_dict())
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    grads = []
    for model in (checkpointed, plain):
        y = model.train()(x)
        grads.append(torch.autograd.grad(y.sum(), [x, *model.parameters()]))
    assert calls == [1]
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b)
    checkpointed.eval()(x)
    assert calls == [1]


def test_checkpoint_applies_to_blocks_only(write):
    import pytest

    with pytest.raises(archdsl.ArchError) as exc:
        archdsl.check(write("n.arch", "network n(input=[3, 4, 4]) { checkpoint relu }"))
    assert exc.value.diagnostics[0].code == "E0107" and "`checkpoint`" in exc.value.diagnostics[0].message


def test_memory_efficient_densenet_has_the_same_parameters():
    from conftest import SPECS

    plain = archdsl.load(SPECS / "densenet121.arch", input=[3, 64, 64])
    efficient = archdsl.load(SPECS / "densenet121.arch", input=[3, 64, 64], memory_efficient=True)
    assert [(k, v.shape) for k, v in plain.state_dict().items()] == \
        [(k, v.shape) for k, v in efficient.state_dict().items()]
    checkpointed = [m for m in efficient.modules() if type(m).__mro__[1].__name__ == "CheckpointedBlock"]
    assert len(checkpointed) == 58


def test_channel_plumbing_is_written_into_forward_not_called_as_modules(write):
    """`slice` and `channel_shuffle` are expressions of the generated forward (Primitive.inline), as torchvision's
    ShuffleNet writes them: no child module, the same values, and their parameters are part of the cached code
    (two blocks of one structure but other numbers get their own forward)."""
    from archdsl.nn import ChannelShuffle, ChannelSlice
    from archdsl.nn.channels import channel_shuffle

    model = build(write, """
block unit(split, groups) {
    concat { slice(0, split) | slice(split, 8) conv(8 - split, 1) }
    channel_shuffle(groups)
}
network n(input=[8, 5, 5]) {
    a: unit(4, 2)
    b: unit(2, 4)
}""")
    assert not any(isinstance(m, (ChannelShuffle, ChannelSlice)) for m in model.modules())
    assert "torch.narrow(x, 1, 0, 4)" in model.a.code and "channel_shuffle(x, 2)" in model.a.code
    assert "torch.narrow(x, 1, 0, 2)" in model.b.code and "channel_shuffle(x, 4)" in model.b.code
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        y = channel_shuffle(torch.cat([x[:, :4], convs[0](x[:, 4:])], dim=1), 2)
        z = channel_shuffle(torch.cat([y[:, :2], convs[1](y[:, 2:])], dim=1), 4)
        assert torch.equal(model(x), z)


def test_a_tensor_named_like_a_module_of_the_generated_code_does_not_hide_it(write):
    """`torch.cat` and `torch.narrow` in a forward whose extra inputs are tensors named `torch` and `archdsl`."""
    model = build(write, """
block b(@torch, @archdsl) {
    concat { identity | @torch | @archdsl }
    slice(0, 4)
    channel_shuffle(2)
}
network n(input=[2, 4, 4]) {
    conv(2, 1) -> torch
    conv(2, 1) -> archdsl
    b(@torch, @archdsl)
}""")
    x = torch.randn(1, 2, 4, 4)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (1, 4, 4, 4)
    assert "def forward(self, x, input_1, input_2)" in model._modules["2"].code
