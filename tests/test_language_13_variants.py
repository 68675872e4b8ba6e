"""Issue 13 item 4 (the language part): a network variant is one line, `network resnet101 = resnet(layers=[...])`,
made from a network of the same file or of an imported one, and found by `network=` and `--network`."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.source import Source
from archdsl.syntax.format import format_source

from conftest import run_cli

FAMILY = """
network family(classes=1000, input=[3, 16, 16], layers=[2, 2], width=8) {
    for n in layers as j { "layer{j + 1}": { repeat n { conv(width * (j + 1), 3, pad=1) relu } } }
    gap flatten fc: linear(classes)
}
network family_deep = family(layers=[3, 4])
network family_wide = family_deep(width=16)
"""


@pytest.fixture
def files(write):
    family = write("family.arch", FAMILY)
    user = write("user.arch", 'import "family.arch"\nnetwork small = family(7, [3, 16, 16], [1, 1], width=4)\n'
                              "network mine = family_wide(classes=10)\n")
    return family, user


def _layers(net) -> list[tuple[str, int]]:
    return [(node.name, len(node.graph.nodes)) for node in net.graph.nodes if node.name.startswith("layer")]


def test_a_variant_is_the_network_with_other_defaults(files):
    family, _ = files
    base, deep, wide = (archdsl.check(family, name) for name in ("family", "family_deep", "family_wide"))
    assert _layers(base) == [("layer1", 4), ("layer2", 4)]
    assert _layers(deep) == _layers(wide) == [("layer1", 6), ("layer2", 8)]
    assert deep.name == "family_deep" and deep.output.dims == (1000,)
    assert wide.params["width"] == 16 and wide.params["layers"] == (3, 4)
    assert wide.param_count > deep.param_count


def test_variants_of_imported_networks_positional_and_keyword(files):
    _, user = files
    small = archdsl.check(user, "small")  # positional arguments bind in parameter order
    assert small.output.dims == (7,) and _layers(small) == [("layer1", 2), ("layer2", 2)]
    assert small.params["width"] == 4


def test_a_variant_of_an_imported_variant_overrides_again(files):
    _, user = files
    mine = archdsl.check(user, "mine")
    assert mine.output.dims == (10,) and mine.params["width"] == 16 and mine.params["layers"] == (3, 4)
    assert mine.file.endswith("user.arch")


def test_parameters_of_a_variant_can_still_be_set(files):
    family, _ = files
    net = archdsl.check(family, "family_deep", classes=5, width=2)
    assert net.output.dims == (5,) and net.params["layers"] == (3, 4)


def test_imported_networks_are_found_by_name(files):
    _, user = files
    assert archdsl.check(user, "family_deep").name == "family_deep"
    with pytest.raises(ArchError) as caught:
        archdsl.check(user, "nope")
    assert "imported: " in caught.value.diagnostics[0].help and "`family_deep`" in caught.value.diagnostics[0].help


def test_load_and_build_find_a_variant(files):
    torch = pytest.importorskip("torch")
    family, user = files
    model = archdsl.load(user, network="mine")
    assert model(torch.randn(1, 3, 16, 16)).shape == (1, 10)
    assert "layer2.6.weight" in model.state_dict()
    result = run_cli("build", str(family), "--network", "family_wide", "--set", "classes=3")
    assert result.returncode == 0, result.stderr.decode()
    assert b"network family_wide" in result.stdout and b"output shape (1, 3)" in result.stdout


def test_check_reports_every_variant_of_a_file(files):
    family, _ = files
    out = run_cli("check", str(family)).stdout.decode()
    assert all(f": {name} 3x16x16 -> 1000" in out for name in ("family", "family_deep", "family_wide")), out


def test_an_error_inside_a_variant_says_which_variant(write, files):
    path = write("bad.arch", 'import "family.arch"\nnetwork broken = family(width=0)\n')
    with pytest.raises(ArchError) as caught:
        archdsl.check(path)
    (problem,) = caught.value.diagnostics
    assert problem.span.file.endswith("family.arch")  # where it fails: the base's body
    assert any("in `broken`" in note and "`family`" in note for note in problem.notes)


@pytest.mark.parametrize("line, code, message", [
    ("network b = famly()", "E0101", "unknown network `famly`"),
    ("network b = vgg_block(1, 2)", "E0101", "`vgg_block` is a block, not a network"),
    ("network b = c()\nnetwork c = b()", "E0114", "variant `b` is made from itself: b -> c -> b"),
    ("network b = b()", "E0114", "variant `b` is made from itself: b -> b"),
    ("network b = family(clases=3)", "E0104", "network `family` has no parameter `clases`"),
    ("network b = family(1, [3, 8, 8], [1], 4, 5)", "E0103", "network `family` takes 4 parameters, 5 given"),
    ("network b = family(width=1, width=2)", "E0106", "parameter `width` is given twice"),
    ("network b(input=[3, 8, 8]) { family }", "E0101", "`family` is a network, and a network cannot be called"),
])
def test_wrong_variants_are_reported_at_the_variant(write, files, line, code, message):
    path = write("bad.arch", f'import "family.arch"\n{line}\n')
    with pytest.raises(ArchError) as caught:
        archdsl.check(path, "b")
    problem = caught.value.diagnostics[0]
    assert problem.code == code and message in problem.message, problem.message
    assert problem.span.file.endswith("bad.arch") and problem.span.line == 2
    if code == "E0104":
        assert problem.help == "did you mean `classes`?"


def test_variants_format_one_a_line():
    text = 'network a(k=1, input=[3, 8, 8]) {\n    conv(k, 1)\n}\n\nnetwork  b=a (k = 2)\nnetwork c = a(k=3)\n'
    assert format_source(Source("a.arch", text)) == (
        'network a(k=1, input=[3, 8, 8]) {\n    conv(k, 1)\n}\n\nnetwork b = a(k=2)\nnetwork c = a(k=3)\n')


def test_a_variant_name_cannot_be_a_keyword(write):
    with pytest.raises(ArchError) as caught:
        archdsl.check(write("k.arch", FAMILY + "network repeat = family()\n"), "family")
    assert "`repeat` is a keyword" in caught.value.diagnostics[0].message
