"""The grammar (`grammars/archdsl.lark`) and the one Lark parser built from it.

The parser (parser.py) and the table of sample syntax errors (errors.py) both parse with it, so it sits
below both of them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark


def grammar_text() -> str:
    """The grammar, from the installed package or, in a checkout, from `grammars/`."""
    packaged = resources.files("archdsl").joinpath("grammars/archdsl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammars" / "archdsl.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    # keep_all_tokens instead of propagate_positions: spans come from tokens (see transform.py), twice as fast.
    # cache=True stores the LALR tables in the temp folder, saving ~0.2 s at every start of `archdsl check`.
    return Lark(grammar_text(), parser="lalr", keep_all_tokens=True, maybe_placeholders=True,
                start=["start", "expr"], cache=True)
