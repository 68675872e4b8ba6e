"""Fuzzing: whatever the input, `archdsl check` ends in success or in clean diagnostics, never another exception.

Three generators, each bounded to a few seconds:
- grammar-based: hypothesis draws programs from the Lark grammar itself (`hypothesis.extra.lark`);
- structured: plausible networks from the primitive registry, combinators, loops, blocks and expressions,
  so that elaboration and the shape rules are exercised, not only the parser;
- byte-level: the bundled specs and stdlib files, mutated (bytes deleted, inserted, replaced, duplicated,
  truncated), so that every kind of broken input near a real one is tried.
Each input goes through the same path as `archdsl check` (decode, parse, imports, every network), and every
diagnostic is rendered in the three formats and checked for the message style.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from archdsl.cli.check import check_file
from archdsl.diagnostics import CODES, Diagnostic
from archdsl.passes.elaborate import Limits
from archdsl.primitives import REGISTRY
from archdsl.render import render_github, render_json, render_text
from archdsl.syntax.parser import grammar_text

from conftest import all_specs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = all_specs() + sorted((ROOT / "archdsl" / "stdlib").glob("*.arch"))
#: tight limits keep each example fast; hitting one is a clean outcome like any other
LIMITS = Limits(max_ops=5_000, max_steps=50_000, max_repeat=200, max_params=10**9)


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
RAW_TOKEN = re.compile(r"\b(RPAR|LPAR|RBRACE|LBRACE|RSQB|LSQB|COMMA|NAME|INT|FLOAT|STRING|EQUAL|VBAR|COLON|"
                       r"COMP_OP|ADD_OP|MUL_OP|__ANON\w*|\$END)\b")


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzzed.arch"


def assert_clean(path: Path, data: bytes) -> list[Diagnostic]:
    """Check `data` as `archdsl check` would; any exception other than a diagnostic fails the test."""
    path.write_bytes(data)
    return assert_clean_file(path)


def assert_clean_file(path: Path) -> list[Diagnostic]:
    problems, _ = check_file(path, {}, limits=LIMITS)
    for d in problems:
        assert d.code in CODES, d
        assert d.message and not d.message.endswith("."), d.message
        assert d.message[0].islower() or d.message[0] in "`\"" or d.message[0].isdigit(), d.message
        if d.code == "E0001":  # the parser's words, never its terminal names (a user's names are in backticks)
            assert not RAW_TOKEN.search(re.sub(r"`[^`]*`", "", f"{d.message} {d.label} {d.help}")), d
    render_text(problems, colour=True), render_github(problems), render_json(problems)
    return problems


# --- grammar-based

GRAMMAR = Lark(grammar_text(), parser="lalr", start="start")


@fuzz(60)
@given(from_lark(GRAMMAR, start="start"))
def test_programs_from_the_grammar(spec_file, text):
    assert_clean(spec_file, text.encode("utf-8", "surrogatepass"))


# --- structured: plausible networks

NAMES = ("c", "s", "i", "x", "n")
numbers = st.one_of(st.integers(-3, 40), st.integers(-3, 40), st.sampled_from([64, 10**6, 2**62, 2**63]))
atoms = st.one_of(numbers.map(str), st.sampled_from(
    ["1.5", "0.5", "1e400", "true", "false", '"same"', '"relu"', "in.c", "in.h", "in.w", "in.rank", "in", "c",
     "s", "x", "i", "(1, 2)", "[1, 2, 3]", "(3,)", "[]"]))
expressions = st.recursive(atoms, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "//", "/", "%", "**", "==", "<", "and", "or"]), inner)
    .map(" ".join),
    inner.map(lambda e: f"({e})"),
    st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    st.tuples(st.sampled_from(["max", "min", "make_divisible", "int", "round", "len", "range", "abs"]),
              st.lists(inner, max_size=2)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
    st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]")), max_leaves=6)


@st.composite
def primitive_calls(draw) -> str:
    name = draw(st.sampled_from(sorted(REGISTRY)))
    fields = list(REGISTRY[name].Params.model_fields)
    if not fields and draw(st.booleans()):
        return name
    positional = draw(st.lists(expressions, max_size=min(len(fields), 3)))
    keywords = draw(st.lists(st.sampled_from(fields + ["bogus"]), max_size=2, unique=True)) if fields else []
    args = positional + [f"{k}={draw(expressions)}" for k in keywords]
    return f"{name}({', '.join(args)})"


def _items(inner):
    sequence = st.lists(inner, max_size=3).map(" ".join)
    return st.one_of(
        st.tuples(st.sampled_from(["add", "concat", "mul"]), st.lists(sequence, min_size=1, max_size=3))
        .map(lambda t: f"{t[0]} {{ {' | '.join(t[1])} }}"),
        st.tuples(expressions, sequence).map(lambda t: f"repeat {t[0]} as i {{ {t[1]} }}"),
        st.tuples(expressions, sequence).map(lambda t: f"for x in {t[0]} {{ {t[1]} }}"),
        st.tuples(expressions, sequence, sequence).map(lambda t: f"if {t[0]} {{ {t[1]} }} else {{ {t[2]} }}"),
        sequence.map(lambda s: f"{{ {s} }}"),
        st.tuples(st.sampled_from(["stem", "head", "relu"]), inner).map(lambda t: f"{t[0]}: {t[1]}"),
        st.tuples(st.sampled_from(NAMES), expressions).map(lambda t: f"let {t[0]} = {t[1]}"),
        st.tuples(expressions, expressions).map(lambda t: f"unit({t[0]}, {t[1]})"),
        st.just("unit"))


items = st.recursive(primitive_calls(), _items, max_leaves=8)
bodies = st.lists(items, max_size=5).map("\n    ".join)
inputs = st.sampled_from(["[3, 16, 16]", "[3, 8, 8]", "[16]", "[3, 1, 1]", "[1, 2]", "[0, 4, 4]", "3"])


@fuzz(80)
@given(unit=bodies, network=bodies, input=inputs)
def test_structured_networks(spec_file, unit, network, input):
    text = (f"block unit(c=8, s=1) {{\n    {unit}\n}}\n\n"
            f"network net(classes=10, input={input}) {{\n    {network}\n}}\n")
    assert_clean(spec_file, text.encode())


# --- byte-level mutation of the bundled specs

TOKENS = [b"(", b")", b"{", b"}", b"[", b"]", b"|", b",", b"=", b"==", b":", b'"', b"#", b"\n", b"\x00", b"\xff",
          b"\xe4\xb8\xad", b"9" * 30, b"-", b"**", b"add {", b"repeat 99", b"if", b"else", b"let", b"in.c", b"block",
          b"network n(input=[3, 8, 8]) {", b"import \"x.arch\"", b"\t", b"\r\n", b"\xef\xbb\xbf"]


@st.composite
def mutants(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "token", "replace", "duplicate", "truncate"]))
        if kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "insert":  # mostly text: random bytes are nearly always invalid UTF-8, refused up front
            data[at:at] = draw(st.one_of(st.text(min_size=1, max_size=8).map(str.encode),
                                         st.binary(min_size=1, max_size=8)))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "replace" and at < len(data):
            data[at] = draw(st.one_of(st.integers(32, 126), st.integers(0, 255)))
        elif kind == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 80))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


@fuzz(80)
@given(mutants())
def test_mutated_bundled_specs(spec_file, data):
    assert_clean(spec_file, data)


def test_the_seeds_themselves_check_clean():
    """The mutation seeds are valid, so the mutants are near-misses of real specs, not noise."""
    for seed in all_specs():  # checked where they are: family files import their base spec by a relative path
        assert assert_clean_file(seed) == [], seed.name
