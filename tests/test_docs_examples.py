"""Every ```arch (or ```archdsl) example in docs/ and the README parses and checks (issue 13 item 7), and
docs/language.md shows every construct the grammar accepts. A partial example is marked ```arch-fragment and is
only shown.

Each example is checked as a file in the folder of the page that holds it, so its imports are relative to that
page (`import "../specs/resnet18.arch"` from docs/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archdsl import pipeline
from archdsl.syntax.grammar import lark_parser

from conftest import ROOT

FENCE = re.compile(r"^```(arch[\w-]*)[ \t]*\n(.*?)^```", re.S | re.M)
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
LANGUAGE = ROOT / "docs" / "language.md"


def examples(page: Path) -> list[tuple[str, int, str]]:
    """(fence info, line of the fence, text) of each arch example of a page."""
    text = page.read_text()
    return [(m.group(1), text.count("\n", 0, m.start()) + 1, m.group(2)) for m in FENCE.finditer(text)]


CHECKED = [(page, line, text) for page in PAGES for info, line, text in examples(page) if info in ("arch", "archdsl")]


def test_examples_are_found_and_marked_arch_or_arch_fragment():
    infos = {info for page in PAGES for info, _, _ in examples(page)}
    assert infos <= {"arch", "archdsl", "arch-fragment"}, infos
    assert len(CHECKED) >= 8 and any(page.name == "README.md" for page, _, _ in CHECKED)


@pytest.mark.parametrize("page, line, text", CHECKED,
                         ids=[f"{p.relative_to(ROOT)}:{line}" for p, line, _ in CHECKED])
def test_example_parses_and_checks(page, line, text):
    c = pipeline.load(page.parent / f"example-at-line-{line}.arch", text=text)
    for definition in pipeline.networks(c):
        pipeline.elaborate(c, {}, definition)
    assert not c.diagnostics


def _rules_used(text: str) -> set[str]:
    tree = lark_parser().parse(text, start="start")
    return {t.data for t in tree.iter_subtrees()}


def test_the_language_page_shows_every_construct_of_the_grammar():
    """Each rule of grammars/archdsl.lark (each named alternative) appears in some checked example of
    docs/language.md: a new construct needs its example there."""
    expected = set()
    for rule in lark_parser().rules:
        name = str(rule.alias or rule.origin.name)
        if not name.startswith("_") and not (rule.options.expand1 and not rule.alias):
            expected.add(name)
    used = set().union(*(_rules_used(text) for info, _, text in examples(LANGUAGE) if info == "arch"))
    assert expected - used == set(), f"constructs without an example in docs/language.md: {sorted(expected - used)}"


@pytest.mark.parametrize("words", [
    ("activation(", "count_include_pad", "for c, s in widths as j", "relu()", "checkpoint ", "import ",
     "network items_small = items(", '"stage{j}":', " for x in row if "),
])
def test_the_language_page_shows_what_was_only_learnable_from_the_stdlib(words):
    examples_text = "\n".join(text for info, _, text in examples(LANGUAGE) if info == "arch")
    assert [w for w in words if w not in examples_text] == []
