"""Golden diagnostics: one invalid spec per error code, each with its rendered diagnostic snapshot-tested.

tests/golden/invalid/<name>.arch starts with `# expect: E0201 at 5:9` (the first diagnostic's code and
position; `at other.arch:2:1` when it lies in an imported file) and, optionally, `# args: --network NAME`.
Its text rendering is compared with <name>.txt; `pytest --update-goldens` rewrites the snapshots.
tests/golden/valid/<name>.arch (`# expect: ok`) must check clean, and each `<name>__invalid.arch` has one.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput

from archdsl.cli.check import check_file
from archdsl.diagnostics import CODES, Diagnostic
from archdsl.passes.elaborate import Limits
from archdsl.render import render_github, render_json, render_text
from archdsl.source import Source
from archdsl.syntax.error_examples import EXAMPLES
from archdsl.syntax.errors import classify, kind_of
from archdsl.syntax.parser import lark_parser

GOLDEN = Path(__file__).parent / "golden"
INVALID = sorted((GOLDEN / "invalid").glob("*.arch"))
VALID = sorted((GOLDEN / "valid").glob("*.arch"))
SHAPE_TWINS = ("add", "concat", "mul", "groups", "spatial", "linear")
HEADER = re.compile(r"# expect: (?P<code>E\d{4}|ok)(?: at (?:(?P<file>[\w./]+):)?(?P<line>\d+):(?P<col>\d+))?\s*$")
#: Lark's terminal names must never reach a user
RAW_TOKEN = re.compile(r"\b(RPAR|LPAR|RBRACE|LBRACE|RSQB|LSQB|COMMA|NAME|INT|FLOAT|STRING|EQUAL|VBAR|COLON|"
                       r"COMP_OP|ADD_OP|MUL_OP|__ANON\w*|\$END)\b")


def expectation(path: Path) -> dict:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = HEADER.match(lines[0]) if lines else None
    assert found, f"{path.name}: the first line must be `# expect: CODE at LINE:COL` or `# expect: ok`"
    args = next((shlex.split(line.split(":", 1)[1]) for line in lines[1:4] if line.startswith("# args:")), [])
    return {**found.groupdict(), "args": dict(zip(args[::2], args[1::2]))}


def diagnose(path: Path, args: dict, monkeypatch) -> list[Diagnostic]:
    """What `archdsl check` reports for the file, run from its folder so that names are short and stable."""
    monkeypatch.chdir(path.parent)
    limits = Limits(max_params=int(args.get("--max-params", Limits.max_params)))
    problems, _ = check_file(Path(path.name), {}, network=args.get("--network"), limits=limits)
    return problems


def compare(snapshot: Path, text: str, request) -> None:
    if request.config.getoption("--update-goldens"):
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot {snapshot.name}: run pytest --update-goldens and review it"
    assert text == snapshot.read_text(encoding="utf-8"), f"{snapshot.name} differs (pytest --update-goldens)"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_fails_where_expected(path, monkeypatch, request):
    expected = expectation(path)
    problems = diagnose(path, expected["args"], monkeypatch)
    assert problems, f"{path.name} checked clean"
    first = problems[0]
    assert first.code == expected["code"], render_text(problems)
    if expected["line"] is not None:
        assert first.span is not None
        assert (first.span.file, first.span.line, first.span.col) == (
            expected["file"] or path.name, int(expected["line"]), int(expected["col"])), render_text(problems)
    compare(path.with_suffix(".txt"), render_text(problems), request)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_twin_checks_clean(path, monkeypatch):
    assert expectation(path)["code"] == "ok"
    problems = diagnose(path, {}, monkeypatch)
    assert not problems, render_text(problems)


def test_every_error_code_has_a_golden():
    covered = {expectation(p)["code"] for p in INVALID}
    assert set(CODES) - covered == set(), "codes without an invalid golden spec"
    assert covered - set(CODES) == set(), "goldens expecting codes that CODES does not list"


def test_every_invalid_twin_has_a_valid_one():
    twins = {p.stem.removesuffix("__invalid") for p in INVALID if p.stem.endswith("__invalid")}
    assert set(SHAPE_TWINS) <= twins
    assert twins <= {p.stem for p in VALID}


def test_github_and_json_renderings(monkeypatch, request):
    path = GOLDEN / "invalid" / "add__invalid.arch"
    problems = diagnose(path, {}, monkeypatch)
    compare(path.with_name("add__invalid.github.txt"), render_github(problems), request)
    compare(path.with_name("add__invalid.json"), render_json(problems), request)


def test_secondary_spans_point_at_what_set_the_channels(monkeypatch):
    """The new user's residual mismatch: both branches' channels are traced to the conv that set them."""
    (d,) = diagnose(GOLDEN / "invalid" / "newuser_residual.arch", {}, monkeypatch)
    labels = {(s.span.line, s.message) for s in d.secondary}
    assert (5, "branch 1 is 128x32x32: channels set to 128 here") in labels
    assert (12, "branch 2 (identity) is 64x32x32: channels set to 64 here") in labels
    assert d.notes == ("in `residual(c=128)` called at newuser_residual.arch:14:5",)
    assert "1x1 conv to 128 channels" in d.help


# --- the table of sample syntax errors behind the parse-error messages

SAMPLES = [(kind, sample) for kind, samples in EXAMPLES.items() for sample in samples]


@pytest.mark.parametrize("kind, sample", SAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(SAMPLES)])
def test_syntax_sample_is_classified_as_its_kind(kind, sample):
    with pytest.raises(UnexpectedInput) as caught:
        lark_parser().parse(sample, start="start")
    source = Source("sample.arch", sample)
    assert kind_of(source, caught.value) == kind, "the grammar changed: update syntax/error_examples.py"
    problem = classify(source, caught.value)
    words = " ".join(filter(None, [problem.message, problem.label, problem.help]))
    assert not RAW_TOKEN.search(words), words
    assert problem.message[0].islower() or problem.message[0] in "`\"", problem.message
    assert not problem.message.endswith(".")
