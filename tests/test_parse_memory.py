"""parse remembers the AST of a file it has parsed (per name and text), as Python remembers imported modules."""

from __future__ import annotations

import pytest

from archdsl.diagnostics import ArchError
from archdsl.source import Source
from archdsl.syntax import parser
from archdsl.syntax.parser import forget_parsed, parse

TEXT = "network n(input=[3, 8, 8]) {\n  conv(4, 3)\n  relu\n}\n"


def test_same_file_same_text_is_parsed_once():
    forget_parsed()
    first = parse(Source("a.arch", TEXT))
    assert parse(Source("a.arch", TEXT)) is first
    assert parser._parse_text.cache_info().hits == 1


def test_another_text_or_name_is_parsed_again():
    first = parse(Source("a.arch", TEXT))
    edited = parse(Source("a.arch", TEXT.replace("conv(4, 3)", "conv(8, 3)")))
    renamed = parse(Source("b.arch", TEXT))
    assert edited is not first and renamed is not first
    assert renamed.networks[0].span.file == "b.arch"  # spans name the file they were parsed from
    assert edited.networks[0].body[0].args[0].value == 8


def test_a_file_with_errors_reports_afresh_each_time():
    broken = Source("bad.arch", "network n( {\n")
    with pytest.raises(ArchError) as first:
        parse(broken)
    with pytest.raises(ArchError) as again:
        parse(broken)
    assert first.value.diagnostics == again.value.diagnostics
    assert first.value is not again.value


def test_large_files_are_not_kept(monkeypatch):
    monkeypatch.setattr(parser, "MAX_CACHED_CHARS", len(TEXT) - 1)
    forget_parsed()
    assert parse(Source("a.arch", TEXT)) is not parse(Source("a.arch", TEXT))
    assert parser._parse_text.cache_info().currsize == 0


def test_forget_parsed_empties_the_memory():
    parse(Source("a.arch", TEXT))
    forget_parsed()
    assert parser._parse_text.cache_info().currsize == 0


def test_remember_false_leaves_the_memory_alone():
    forget_parsed()
    first = parse(Source("a.arch", TEXT), remember=False)
    assert parse(Source("a.arch", TEXT), remember=False) is not first
    assert parser._parse_text.cache_info().currsize == 0
