"""Write syntaxes/archdsl.tmLanguage.json, the TextMate grammar of `.arch` files, from archdsl's own tables.

The keywords come from `archdsl.highlight` (the Pygments lexer's lists), the primitives from the primitive
registry and the functions from the evaluator's, so the editor and the docs highlight the same words.
tests/test_highlight.py fails when the committed grammar differs from what this script writes:

    python editors/vscode/make_grammar.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "syntaxes" / "archdsl.tmLanguage.json"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def words(names) -> str:
    return r"\b(?:" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + r")\b"


def grammar() -> dict:
    from archdsl.highlight import COMBINATORS, CONSTANTS, OPERATOR_WORDS, STATEMENTS
    from archdsl.passes.evaluate import BUILTINS
    from archdsl.primitives import REGISTRY

    control = [w for w in STATEMENTS if w != "import"]
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "archdsl",
        "scopeName": "source.archdsl",
        "fileTypes": ["arch"],
        "patterns": [{"include": "#comment"}, {"include": "#import"}, {"include": "#definition"},
                     {"include": "#body"}],
        "repository": {
            "comment": {"name": "comment.line.number-sign.archdsl", "match": "#.*$"},
            "import": {
                "match": r'\b(import)\s+("[^"\n]*")',
                "captures": {"1": {"name": "keyword.control.import.archdsl"},
                             "2": {"name": "string.quoted.double.archdsl"}},
            },
            "definition": {
                "begin": rf"\b(block|network)\s+({NAME})\s*(\()",
                "beginCaptures": {"1": {"name": "storage.type.$1.archdsl"},
                                  "2": {"name": "entity.name.function.archdsl"},
                                  "3": {"name": "punctuation.definition.parameters.begin.archdsl"}},
                "end": r"\)",
                "endCaptures": {"0": {"name": "punctuation.definition.parameters.end.archdsl"}},
                "patterns": [
                    {"include": "#comment"},
                    {"include": "#parentheses"},
                    {"match": rf"({NAME})\s*(=)(?!=)", "captures": {
                        "1": {"name": "variable.parameter.archdsl"}, "2": {"name": "keyword.operator.assignment.archdsl"}}},
                    {"match": rf"{NAME}(?=\s*(?:,|\)|$))", "name": "variable.parameter.archdsl"},
                    {"include": "#expression"},
                ],
            },
            "body": {"patterns": [
                {"include": "#comment"},
                {"match": rf"\b(let)\s+({NAME})", "captures": {"1": {"name": "keyword.control.let.archdsl"},
                                                               "2": {"name": "variable.other.archdsl"}}},
                {"match": r"\btrain(?=\s+@)", "name": "keyword.control.archdsl"},
                {"match": r"->", "name": "keyword.operator.arrow.archdsl"},
                {"match": words(control), "name": "keyword.control.archdsl"},
                {"match": words(COMBINATORS) + r"(?=\s*\{)", "name": "keyword.other.combinator.archdsl"},
                {"match": rf"\b({NAME})\s*(:)(?!:)", "captures": {"1": {"name": "entity.name.tag.label.archdsl"},
                                                                  "2": {"name": "punctuation.separator.label.archdsl"}}},
                {"include": "#expression"},
            ]},
            "parentheses": {"begin": r"\(", "end": r"\)", "patterns": [{"include": "#expression"}]},
            "expression": {"patterns": [
                {"include": "#comment"},
                {"match": r"\b(in)\s*(\.)", "captures": {"1": {"name": "variable.language.in.archdsl"},
                                                          "2": {"name": "punctuation.accessor.archdsl"}}},
                {"match": rf"@{NAME}", "name": "variable.other.tensor.archdsl"},
                {"match": words(OPERATOR_WORDS), "name": "keyword.operator.logical.archdsl"},
                {"match": words(CONSTANTS), "name": "constant.language.boolean.archdsl"},
                {"match": rf"\b({NAME})\s*(=)(?!=)", "captures": {
                    "1": {"name": "variable.parameter.keyword.archdsl"},
                    "2": {"name": "keyword.operator.assignment.archdsl"}}},
                {"match": words(REGISTRY), "name": "support.function.primitive.archdsl"},
                {"match": words(BUILTINS) + r"(?=\s*\()", "name": "support.function.builtin.archdsl"},
                {"match": rf"\b{NAME}(?=\s*\()", "name": "entity.name.function.call.archdsl"},
                {"match": r"\b(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)\b|\.[0-9]+(?:[eE][-+]?[0-9]+)?",
                 "name": "constant.numeric.float.archdsl"},
                {"match": r"\b[0-9]+\b", "name": "constant.numeric.integer.archdsl"},
                {"match": r'"[^"\n]*"', "name": "string.quoted.double.archdsl"},
                {"match": r"\*\*|//|[-+*/%]", "name": "keyword.operator.arithmetic.archdsl"},
                {"match": r"==|!=|<=|>=|<|>", "name": "keyword.operator.comparison.archdsl"},
                {"match": r"\|", "name": "punctuation.separator.branch.archdsl"},
                {"match": r",", "name": "punctuation.separator.comma.archdsl"},
                {"match": NAME, "name": "variable.other.archdsl"},
            ]},
        },
    }


def text() -> str:
    return json.dumps(grammar(), indent=2) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(text())
    print(f"wrote {OUTPUT}", file=sys.stderr)
