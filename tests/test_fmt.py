"""`archdsl fmt`: canonical, idempotent, comment-keeping, and the syntax tree never changes."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from archdsl.diagnostics import ArchError
from archdsl.source import Source
from archdsl.syntax.format import format_source, same_ast
from archdsl.syntax.grammar import tokens
from archdsl.syntax.parser import parse, parse_with_trivia

from conftest import ROOT, SPECS, run_cli

STDLIB = ROOT / "archdsl" / "stdlib"
BUNDLED = sorted(SPECS.rglob("*.arch")) + sorted(STDLIB.glob("*.arch"))
GOLDEN = ROOT / "tests" / "golden"
#: messy layouts whose formatted text is pinned: bundled files reflowed at random, and generated programs
CORPUS = sorted((GOLDEN / "fmt").glob("*.arch"))
SNAPSHOT_INPUTS = BUNDLED + sorted((GOLDEN / "valid").glob("*.arch")) + CORPUS


def fmt(text: str) -> str:
    return format_source(Source("test.arch", text))


def assert_safe(text: str) -> str:
    """Formatting `text` keeps its syntax tree and its comments, and formatting again changes nothing."""
    out = fmt(text)
    assert same_ast(parse(Source("in.arch", text)), parse(Source("out.arch", out))), out
    assert fmt(out) == out, out
    assert comments(out) == comments(text)
    return out


def comments(text: str) -> list[str]:
    return sorted(c.text for c in parse_with_trivia(Source("test.arch", text))[1].comments)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_files_format_safely(path):
    assert_safe(path.read_text())


class ArchText(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "arch"


def _snapshot_id(path: Path) -> str:
    return "-".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("path", SNAPSHOT_INPUTS, ids=_snapshot_id)
def test_output_is_pinned(path, snapshot):
    """The formatted text of every bundled file and of the messy corpus, byte for byte (`--snapshot-update`)."""
    assert fmt(path.read_text()) == snapshot.use_extension(ArchText)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_formats_safely(path):
    assert_safe(path.read_text())


def test_bundled_specs_and_stdlib_are_formatted():
    result = run_cli("fmt", "--check", "specs", "archdsl/stdlib")
    assert result.returncode == 0, result.stderr.decode()


# --- the layout -----------------------------------------------------------------------------------------------


def test_spacing_indentation_and_argumentless_calls():
    assert fmt("block  b( c ,d=2){conv( c,3 ,pad = 1)relu()   bn}") == (
        "block b(c, d=2) {\n    conv(c, 3, pad=1) relu bn\n}\n")


def test_items_keep_their_lines_and_blank_lines_collapse():
    text = "network n(input=[3, 8, 8]) {\n\n  conv(4, 3) bn\n\n\n\n  relu\n\n}\n"
    assert fmt(text) == "network n(input=[3, 8, 8]) {\n    conv(4, 3) bn\n\n    relu\n}\n"


def test_one_blank_line_between_definitions_and_comments_stay_with_the_next_one():
    text = 'import "a.arch"\nimport "b.arch"\n# about b\nblock b() { relu }\n\n\n\n# about n\n\nnetwork n() { b }'
    assert fmt(text) == ('import "a.arch"\nimport "b.arch"\n\n# about b\nblock b() {\n    relu\n}\n\n# about n\n\n'
                         "network n() {\n    b\n}\n")


def test_comments_own_line_trailing_and_before_closing_brace():
    text = ("# header\n\nblock b(c) {  # after the brace\n    # before conv\n    conv(c, 3)   # trailing\n"
            "    relu\n    # at the end of the body\n}\n# at the end of the file\n")
    out = assert_safe(text)
    assert out == ("# header\n\nblock b(c) {  # after the brace\n    # before conv\n    conv(c, 3)  # trailing\n"
                   "    relu\n    # at the end of the body\n}\n# at the end of the file\n")


def test_combinator_branches_and_empty_branches():
    text = "block b(c) {\nadd {\nconv(c, 3) bn\nrelu\n| conv(c, 1)\n|\n}\nconcat { relu | | bn }\n}"
    assert assert_safe(text) == ("block b(c) {\n    add {\n        conv(c, 3) bn\n        relu\n      | conv(c, 1)\n"
                                 "      |\n    }\n    concat { relu | | bn }\n}\n")


def test_one_line_bodies_stay_on_one_line_and_multi_line_ones_break():
    text = "block b() {\n  repeat 2 { relu }\n  if x { relu } else if y { bn\n } else { }\n  { relu }\n}"
    assert assert_safe(text) == ("block b() {\n    repeat 2 { relu }\n    if x {\n        relu\n    } else if y {\n"
                                 "        bn\n    }\n    { relu }\n}\n")


def test_long_lists_break_one_element_a_line_and_stay_broken():
    rows = ", ".join(f"[{i}, {i * 16}, {i % 3}, 2]" for i in range(12))
    text = f"network n(input=[3, 8, 8]) {{\n    for t, c, n, s in [{rows}] {{ relu }}\n}}\n"
    out = assert_safe(text)
    assert "    for t, c, n, s in [\n        [0, 0, 0, 2],\n        [1, 16, 1, 2],\n" in out
    assert "        [11, 176, 2, 2],\n    ] { relu }\n" in out
    assert all(len(line) <= 120 for line in out.splitlines())


def test_a_list_broken_after_its_bracket_stays_broken():
    out = assert_safe("network n(a=[\n1, 2], input=[3, 8, 8]) { relu }")
    assert out.startswith("network n(\n    a=[\n        1,\n        2,\n    ],\n    input=[3, 8, 8],\n) {\n")


def test_long_conditional_chains_break_at_else():
    text = ("network n(groups=3) {\n    let c = (144 if groups == 1 else 200 if groups == 2 else 240 if groups == 3 "
            "else 272 if groups == 4 else 384 if groups == 8 else 0)\n}")
    assert assert_safe(text) == ("network n(groups=3) {\n    let c = (\n        144 if groups == 1\n"
                                 "        else 200 if groups == 2\n        else 240 if groups == 3\n"
                                 "        else 272 if groups == 4\n        else 384 if groups == 8\n        else 0\n    )\n}\n")


def test_only_needed_parentheses_and_literals_as_written():
    text = ("block b() { let a = ((x * y) + (1e-5)) let b = (x + y) * -z ** 2 let c = (-z) ** 2\n"
            "let d = (a if b else c) let e = not (a == b) let f = (a < b) == c let g = a - (b - c) }")
    out = assert_safe(text)
    assert "    let a = x * y + 1e-5 let b = (x + y) * -z ** 2 let c = (-z) ** 2\n" in out
    assert "    let d = (a if b else c) let e = not a == b let f = (a < b) == c let g = a - (b - c)\n" in out


def test_loop_indices_and_comprehensions():
    text = "block b(rows) {for t,c in rows as j{repeat t as i {conv(c*(j+1),3)}} let d=[ceil(n*2)for n in rows]}"
    assert assert_safe(text) == ("block b(rows) {\n    for t, c in rows as j { repeat t as i { conv(c * (j + 1), 3) } }"
                                 " let d = [ceil(n * 2) for n in rows]\n}\n")


def test_a_call_before_a_group_keeps_its_parentheses():
    """`relu { bn }` is a combinator named `relu`; `relu() { bn }` is a call, then a group."""
    text = "block b() { relu() { bn } x: relu()\n{ bn } relu() y: { bn } add { relu() | { bn } } }"
    assert assert_safe(text) == ("block b() {\n    relu() { bn } x: relu()\n"
                                 "    { bn } relu y: { bn } add { relu | { bn } }\n}\n")


def test_labels_tuples_and_strings():
    text = 'block b() { head: { gap flatten } let t = (1,) let u = () c: conv(8, (3, 1), pad="same") }'
    out = assert_safe(text)
    assert 'head: { gap flatten } let t = (1,) let u = () c: conv(8, (3, 1), pad="same")' in out


# --- the trivia: what the parse records besides the AST ----------------------------------------------------------


def test_comments_come_from_the_lexer_with_their_place():
    text = 'block b() {  # after code\n    # own line\n    conv(8, pad="# not a comment") #\n}\n# last'
    _, trivia = parse_with_trivia(Source("t.arch", text))
    assert [(c.text, c.own_line) for c in trivia.comments] == [
        ("# after code", False), ("# own line", True), ("#", False), ("# last", True)]
    assert [c.offset for c in trivia.comments] == [text.index("# after"), text.index("# own"), text.index("#\n}"),
                                                   text.index("# last")]


def test_trivia_matches_brackets_and_sees_blank_lines_between_tokens():
    text = "network n(a=[1, (2)]) {\n\n    relu  # x\n\n\n    bn\n}\n"
    _, trivia = parse_with_trivia(Source("t.arch", text))
    for opening, closing in [("(", ")"), ("[", "]"), ("{", "}")]:
        assert trivia.closer[text.index(opening)] == text.rindex(closing)
    assert trivia.blank_line_between(text.index("{"), text.index("relu"))
    assert not trivia.blank_line_between(text.index("relu"), text.index("# x"))
    assert trivia.blank_line_between(text.index("# x"), text.index("bn"))
    assert not trivia.blank_line_between(text.index("bn"), text.index("}"))


def test_the_lexer_limits_bracket_depth_even_after_a_syntax_error():
    """The depth check is a lexer callback of the one parse: it still applies where parsing resumes."""
    deep = "network m() { let x = " + "(" * 101 + "1" + ")" * 101 + " }\n"
    for text in (deep, "network n( {\n" + deep):
        with pytest.raises(ArchError) as caught:
            parse(Source("t.arch", text))
        assert [(d.code, d.span.line) for d in caught.value.diagnostics] == [("E0002", text.count("\n"))]
    parse(Source("t.arch", deep.replace("(" * 101, "(" * 99).replace(")" * 101, ")" * 99)))  # 100 with the `{`


def test_lexing_without_parsing_reads_the_grammar_s_tokens():
    assert [(t.type, str(t)) for t in tokens('a == "#" # c\n= ')] == [
        ("NAME", "a"), ("COMP_OP", "=="), ("STRING", '"#"'), ("COMMENT", "# c"), ("EQUAL", "=")]
    assert [str(t) for t in tokens("x ; y")] == ["x"]  # stops where no token starts


# --- generated programs: any layout of any program formats safely ----------------------------------------------

NAMES = st.sampled_from(["a", "b", "c", "width", "x1", "stage_2"])
SPACE = st.sampled_from([" ", "  ", "\n", "\n\n\n", " \n    ", "\t"])
COMMENT = st.sampled_from(["# note", "# a | b { c }", '# "quoted" (', "#", "#   spaced"]).map(lambda c: f"  {c}\n")
GAP = st.one_of(SPACE, SPACE, COMMENT)  # wherever the grammar allows whitespace


def _join(draw, *parts: str) -> str:
    """Tokens with random whitespace (including newlines and comments) between them."""
    out = parts[0]
    for part in parts[1:]:
        out += draw(st.one_of(st.just(""), GAP)) if _glues(out, part) else draw(GAP)
        out += part
    return out


def _glues(left: str, right: str) -> bool:
    """Whether two tokens may touch (one of them is punctuation)."""
    word = lambda ch: ch.isalnum() or ch in "_.\""  # noqa: E731
    return not (word(left[-1]) and word(right[0]))


@st.composite
def expressions(draw, depth=0):
    leaves = [st.integers(0, 999).map(str), st.sampled_from(["0.5", "1e-3", "2.", ".25", '"same"', "true", "false",
                                                             "in.c", "in.h"]), NAMES]
    if depth >= 3:
        return draw(st.one_of(*leaves))
    kind = draw(st.sampled_from(["leaf", "leaf", "binop", "unary", "ternary", "list", "tuple", "call", "index",
                                 "paren", "compare", "listcomp"]))
    sub = lambda: draw(expressions(depth + 1))  # noqa: E731
    if kind == "leaf":
        return draw(st.one_of(*leaves))
    if kind == "binop":
        return _join(draw, sub(), draw(st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "and", "or"])), sub())
    if kind == "compare":
        return _join(draw, "(", sub(), draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])), sub(), ")")
    if kind == "unary":
        return _join(draw, draw(st.sampled_from(["-", "not"])), "(", sub(), ")")
    if kind == "ternary":
        return _join(draw, "(", sub(), "if", sub(), "else", sub(), ")")
    if kind in ("list", "tuple"):
        items = [sub() for _ in range(draw(st.integers(0 if kind == "list" else 2, 4)))]
        opening, closing = ("[", "]") if kind == "list" else ("(", ")")
        parts = [opening] + [p for item in items for p in (item, ",")][:-1] if items else [opening]
        if items and draw(st.booleans()):
            parts.append(",")
        return _join(draw, *parts, closing)
    if kind == "call":
        args = [sub() for _ in range(draw(st.integers(0, 3)))]
        parts = [p for a in args for p in (a, ",")][:-1]
        return _join(draw, draw(st.sampled_from(["max", "make_divisible", "ceil"])), "(", *parts, ")")
    if kind == "listcomp":
        return _join(draw, "[", sub(), "for", draw(NAMES), "in", sub(), "]")
    if kind == "index":
        return _join(draw, draw(NAMES), "[", sub(), "]")
    return _join(draw, "(", sub(), ")")


@st.composite
def statements(draw, depth=0, labeled=False):
    kinds = ["call", "call", "bare"] + ([] if labeled else ["let", "labeled"])
    kinds += ["repeat", "for", "if", "combine", "group"] if depth < 3 else []
    kind = draw(st.sampled_from(kinds))
    body = lambda: _join(draw, "{", *[draw(statements(depth + 1)) for _ in range(draw(st.integers(0, 3)))], "}")  # noqa: E731
    expr = lambda: draw(expressions(1))  # noqa: E731
    if kind == "call":
        args = [expr() for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            args.append(_join(draw, draw(NAMES), "=", expr()))
        parts = [p for a in args for p in (a, ",")][:-1]
        return _join(draw, draw(st.sampled_from(["conv", "linear", "block_x"])), "(", *parts, ")")
    if kind == "bare":
        return draw(st.sampled_from(["relu", "bn", "gap", "flatten", "relu()"]))
    if kind == "let":
        return _join(draw, "let", draw(NAMES), "=", "(", expr(), ")")
    if kind == "labeled":
        return _join(draw, draw(NAMES), ":", draw(statements(depth + 1, labeled=True)))
    if kind == "repeat":
        return _join(draw, "repeat", expr(), *(["as", draw(NAMES)] if draw(st.booleans()) else []), body())
    if kind == "for":
        index = ["as", draw(NAMES)] if draw(st.booleans()) else []
        return _join(draw, "for", draw(NAMES), ",", draw(NAMES), "in", expr(), *index, body())
    if kind == "if":
        parts = ["if", expr(), body()]
        for _ in range(draw(st.integers(0, 2))):
            parts += ["else", "if", expr(), body()]
        if draw(st.booleans()):
            parts += ["else", body()]
        return _join(draw, *parts)
    if kind == "combine":
        branches = [[draw(statements(depth + 1)) for _ in range(draw(st.integers(0, 2)))]
                    for _ in range(draw(st.integers(1, 3)))]
        parts = [draw(st.sampled_from(["add", "concat", "mul"])), "{"]
        for i, branch in enumerate(branches):
            parts += (["|"] if i else []) + branch
        return _join(draw, *parts, "}")
    return body()


@st.composite
def programs(draw):
    definitions = []
    for i in range(draw(st.integers(1, 3))):
        params = [draw(NAMES) + (f"={draw(expressions(1))}" if draw(st.booleans()) else "")
                  for _ in range(draw(st.integers(0, 3)))]
        parts = [p for param in params for p in (param, ",")][:-1]
        stmts = [draw(statements()) for _ in range(draw(st.integers(0, 4)))]
        definitions.append(_join(draw, draw(st.sampled_from(["block", "network"])), f"d{i}", "(", *parts, ")", "{",
                                 *stmts, "}"))
    head = draw(st.one_of(st.just(""), COMMENT, st.just('import "other.arch"\n')))
    return head + draw(GAP).join(definitions) + draw(st.one_of(st.just(""), GAP))


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_format_safely(text):
    assert_safe(text)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(BUNDLED), st.data())
def test_bundled_files_reflowed_at_random_format_to_the_same_text(path, data):
    """Moving a bundled file's tokens around (and adding comments) changes only where comments go."""
    text = path.read_text()
    out = fmt(text)
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    joined = data.draw(st.sampled_from(["\n", " \n ", "\n\n"])).join(line.strip() for line in lines)
    assert fmt(fmt(joined)) == fmt(joined)
    assert same_ast(parse(Source("a.arch", joined)), parse(Source("b.arch", out)))


GAPS = [" ", "\n", "\n\n", "\n\n\n", "  # note\n", "  # a | b { c ( [\n", "\n# own line\n\n", "\t"]


def reflow(text: str, rng: random.Random) -> str:
    """`text` with the same tokens and comments but new gaps between them: spaces, new lines and new comments.

    The tokens come from the grammar's lexer, so a gap is never placed inside a string or a comment.
    """
    out, previous = [], None
    for token in tokens(text):
        if previous is not None:
            gap = rng.choice(GAPS + ["", "", "keep", "keep"])
            original = text[previous.end_pos:token.start_pos]
            if gap == "keep":
                gap = original
            elif gap == "" and not _may_touch(previous, token):
                gap = " "
            if previous.type == "COMMENT" and "\n" not in gap:
                gap = "\n" + gap
            out.append(gap)
        out.append(token.value)
        previous = token
    return "".join(out) + "\n"


def _may_touch(left, right) -> bool:
    """Whether two tokens may be written without a gap: one of them is a bracket or separator."""
    return left.value[-1] in "()[]{},:|" or right.value[0] in "()[]{},:|"


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BUNDLED), st.randoms(use_true_random=False))
def test_bundled_files_with_gaps_and_comments_inserted_format_safely(path, rng):
    """Spaces, new lines and comments between the tokens of a bundled file change no syntax tree, and the
    result formats to a fixed point with every comment kept."""
    assert_safe(reflow(path.read_text(), rng))


# --- the command --------------------------------------------------------------------------------------------


def test_check_diff_and_rewrite_in_place(tmp_path):
    messy = tmp_path / "messy.arch"
    messy.write_text("network n(input=[3,8,8]){conv(4,3) # keep me\nrelu}")
    messy.chmod(0o640)
    tidy = tmp_path / "tidy.arch"
    tidy.write_text("network n(input=[3, 8, 8]) {\n    relu\n}\n")

    check = run_cli("fmt", "--check", str(tmp_path))
    assert check.returncode == 1
    assert b"would reformat" in check.stderr and b"1 file would be reformatted, 1 left unchanged" in check.stderr
    diff = run_cli("fmt", "--diff", str(messy))
    assert diff.returncode == 0 and b"+    conv(4, 3)  # keep me" in diff.stdout
    assert messy.read_text().startswith("network n(input=[3,8,8])")  # --check and --diff write nothing

    done = run_cli("fmt", str(tmp_path))
    assert done.returncode == 0, done.stderr.decode()
    assert messy.read_text() == "network n(input=[3, 8, 8]) {\n    conv(4, 3)  # keep me\n    relu\n}\n"
    assert stat.S_IMODE(os.stat(messy).st_mode) == 0o640
    assert run_cli("fmt", "--check", str(tmp_path)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["messy.arch", "tidy.arch"]  # no temporary files left


def test_stdin_to_stdout():
    result = run_cli("fmt", "-", input=b"block b(){relu}")
    assert result.returncode == 0 and result.stdout == b"block b() {\n    relu\n}\n"


def test_a_file_that_does_not_parse_is_reported_and_left_alone(tmp_path):
    bad = tmp_path / "bad.arch"
    bad.write_text("network n( {")
    result = run_cli("fmt", str(bad))
    assert result.returncode == 1 and b"error[E0001]" in result.stderr
    assert bad.read_text() == "network n( {"
    assert run_cli("fmt", str(tmp_path / "missing.arch")).returncode == 2
    (tmp_path / "empty").mkdir()
    assert run_cli("fmt", str(tmp_path / "empty")).returncode == 2


def test_help_has_examples():
    out = run_cli("fmt", "--help").stdout.decode()
    assert "Examples:" in out and "archdsl fmt --check specs/" in out


def test_fmt_never_imports_torch(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom archdsl.cli import main\ntry:\n"
            f"    main(['fmt', '--check', {str(SPECS / 'resnet18.arch')!r}])\n"
            "except SystemExit:\n    pass\nassert 'torch' not in sys.modules\n")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0


def test_docstring_example_matches():
    assert fmt("block b(c){conv( c,3 ,pad=1) # a comment\n relu}") == (
        "block b(c) {\n    conv(c, 3, pad=1)  # a comment\n    relu\n}\n")
    assert Path(__file__).exists()
