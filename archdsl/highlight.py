"""A Pygments lexer for `.arch` files, registered as the `pygments.lexers` entry point `archdsl`.

`pygmentize -l archdsl specs/resnet18.arch` highlights a spec in a terminal; MkDocs (pymdownx.highlight), Sphinx
and anything else built on Pygments highlight ```` ```archdsl ```` blocks. Primitives and the expression functions
come from their registries, so a new primitive is highlighted without touching this file.

>>> from pygments import lex
>>> [(str(t), v) for t, v in lex("conv1: conv(64, 3)", ArchLexer()) if v.strip()][:3]
[('Token.Name.Label', 'conv1'), ('Token.Punctuation', ':'), ('Token.Name.Builtin', 'conv')]
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace)

from .combinators import COMBINATORS as COMBINATOR_REGISTRY
from .passes.evaluate import BUILTINS
from .primitives import REGISTRY

#: the grammar's words, by role (grammars/archdsl.lark); tests/test_highlight.py checks they are all the keywords
DECLARATIONS = ("block", "network")
STATEMENTS = ("let", "repeat", "as", "for", "if", "else", "checkpoint", "import", "param", "return")
COMBINATORS = tuple(COMBINATOR_REGISTRY)  # not the grammar's: names it looks up in archdsl/combinators.py
OPERATOR_WORDS = ("and", "or", "not", "in")
CONSTANTS = ("true", "false")
KEYWORDS = frozenset(DECLARATIONS + STATEMENTS + COMBINATORS + OPERATOR_WORDS + CONSTANTS)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class ArchLexer(RegexLexer):
    """Lexer for archdsl `.arch` specs (CNN architecture descriptions)."""

    name = "archdsl"
    aliases = ["archdsl", "arch", "arch-fragment"]  # `arch-fragment`: a partial example in the docs
    filenames = ["*.arch"]
    mimetypes = ["text/x-archdsl"]
    url = "https://github.com/archdsl/archdsl"

    tokens = {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (rf"(block|network)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r'(import)(\s+)("[^"\n]*")', bygroups(Keyword.Namespace, Whitespace, String.Double)),
            (r"(in)(\s*)(\.)", bygroups(Name.Builtin.Pseudo, Whitespace, Punctuation)),
            (rf"@{_NAME}", Name.Variable),  # a named tensor (docs/language.md, "Graphs")
            (r"(train)(\s+)(?=@)", bygroups(Keyword, Whitespace)),  # a training-only output of `return`
            (r"->", Operator),
            (rf"(let)(\s+)({_NAME})", bygroups(Keyword, Whitespace, Name.Variable)),
            (words(STATEMENTS, suffix=r"\b"), Keyword),
            (words(COMBINATORS, suffix=r"\b"), Keyword.Reserved),
            (words(OPERATOR_WORDS, suffix=r"\b"), Operator.Word),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            # `conv1: conv(...)`: a label names the submodule (expressions never contain a colon)
            (rf"({_NAME})(\s*)(:)", bygroups(Name.Label, Whitespace, Punctuation)),
            (rf"({_NAME})(\s*)(=)(?!=)", bygroups(Name.Attribute, Whitespace, Operator)),  # keyword arguments
            (words(tuple(sorted(REGISTRY, key=len, reverse=True)), suffix=r"\b"), Name.Builtin),
            (words(tuple(sorted(BUILTINS, key=len, reverse=True)), suffix=r"(?=\s*\()"), Name.Function.Magic),
            (_NAME, Name),
            (r"[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+|\.[0-9]+([eE][-+]?[0-9]+)?", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r'"[^"\n]*"', String.Double),
            (r"\*\*|//|==|!=|<=|>=|[-+*/%<>=]", Operator),
            (r"[(){}\[\],.|]", Punctuation),
            (r".", Name),  # never an error token: a half-typed spec still highlights
        ],
    }
