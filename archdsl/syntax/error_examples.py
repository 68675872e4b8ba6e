"""Sample bad inputs, one list per kind of syntax mistake (Lark's `match_examples` table).

`syntax/errors.py` parses each sample once and remembers where the parser stopped; a user's error that stops
it in the same place gets that kind's message. Every sample must fail to parse, and must be classified as its
own kind: tests/test_diagnostics.py checks both, so a grammar change that breaks the table is caught.
"""

from __future__ import annotations

N = "network n(input=[3, 8, 8]) {\n    "  # most mistakes happen inside a body
E = "\n}\n"

EXAMPLES: dict[str, list[str]] = {
    # a bracket left open: `)` or `,` missing, told apart by what follows (see errors._unclosed)
    "unclosed": [
        N + "conv(16, 3, pad=1 relu" + E,
        N + "conv(16, 3 relu" + E,
        N + "conv(16, 3\n    bn" + E,
        N + "conv(16 3)" + E,
        N + "conv(16, max(1, 2) relu" + E,
        N + "conv(16, stride=s relu" + E,
        N + "conv(16, pad=(1, 1) relu" + E,
        N + "conv(c[0] relu" + E,
        N + "linear(10\n}\n",
        "network n(input=[3, 8, 8] { relu }\n",
        "network n(input=[3 8 8]) { relu }\n",
        "block b(c, s=1 { relu }\n",
        N + "let x = (1 + 2 relu" + E,
        N + "for c in [16, 32 { relu }" + E,
        N + "conv(16, pad=1]" + E,
    ],
    "compare_with_eq": [
        N + "if s = 1 { relu }" + E,
        N + "if in.c = 3 { relu }" + E,
        N + "if s + 1 = 2 { relu }" + E,
        N + "let x = (s = 1)" + E,
    ],
    "chained_comparison": [
        N + "if 1 < s < 3 { relu }" + E,
        N + "if 1 <= s <= 3 { relu }" + E,
        N + "conv(16 if 1 < s < 3 else 8)" + E,
        N + "let x = (s == 1 == true)" + E,
    ],
    "missing_body": [
        N + "repeat 3 relu" + E,
        N + "repeat n relu" + E,
        N + "repeat 2 as i conv(i)" + E,
        N + "for c in [16, 32] conv(c)" + E,
        N + "for i in range(3) relu" + E,
        N + "if s == 1 relu" + E,
        N + "if s relu" + E,
        N + "if s == 1 { relu } else relu" + E,
        N + "if s: relu" + E,
        N + "repeat 3: relu" + E,
        N + "let x = 1 if s else 2" + E,
        "network n(input=[3, 8, 8])\n    relu\n",
        "block b(c) relu\n",
        "block b(c):\n    relu\n",
    ],
    "ternary_needs_else": [
        N + "conv(16 if s)" + E,
        N + "conv(16 if s > 1)" + E,
        N + "let x = (1 if s)" + E,
    ],
    "toplevel": [
        "conv(16, 3)\n",
        "relu\n",
        "model net(input=[3, 8, 8]) { relu }\n",
        "def b(c) { relu }\n",
        "network n(input=[3, 8, 8]) { relu }\nrelu\n",
    ],
    "needs_params": [
        "block b { relu }\n",
        "network n { relu }\n",
    ],
    "needs_name": [
        "block (c) { relu }\n",
        "network (input=[3, 8, 8]) { relu }\n",
        "block 1b(c) { relu }\n",
    ],
    "let_syntax": [
        N + "let x 3" + E,
        N + "let x == 3" + E,
        N + "let = 3" + E,
        N + "let 3 = x" + E,
    ],
    "assignment_without_let": [
        N + "x = 3" + E,
        N + "relu\n    width = 16" + E,
    ],
    "label_without_item": [
        N + "stem: }\n",
        N + "stem:" + E,
    ],
    "double_label": [
        N + "stem: head: relu" + E,
        N + "stem: head: conv(16, 3)" + E,
    ],
    "param_annotation": [
        "block b(c: int) { relu }\n",
        "block b(c, s: int = 1) { relu }\n",
    ],
    "empty_argument": [
        N + "conv(, 3)" + E,
        N + "conv(16,, 3)" + E,
        N + "let x = [1,, 2]" + E,
        "block b(, c) { relu }\n",
    ],
    "missing_value": [
        N + "conv(16, pad=)" + E,
        N + "let x = }\n",
        N + "let x = 1 + }\n",
        N + "conv(16, 3 *)" + E,
        N + "let x = [1, 2 +]" + E,
        "block b(c=) { relu }\n",
    ],
    "repeat_count": [
        N + "repeat { relu }" + E,
    ],
    "import_path": [
        "import resnet\n",
        "import resnet.arch\n",
    ],
    "bar_outside_combinator": [
        N + "relu | relu" + E,
        N + "conv(16) | bn" + E,
        N + "if s | t { relu }" + E,
    ],
    "for_needs_in": [
        N + "for c [16, 32] { relu }" + E,
        N + "for c range(3) { relu }" + E,
    ],
    # Python forms the language leaves out (issue 13): the message names the form and what to write instead
    "unsupported_expression": [
        N + "let x = sum(c for c in [1, 2])" + E,
        N + "conv(max(c for c in cs))" + E,
        N + "let x = cs[1:2]" + E,
        N + "let x = cs[:2]" + E,
        N + "let x = {1: 2}" + E,
        N + "conv({1: 2})" + E,
        N + "let x = [c for c in cs if c else 0]" + E,
        N + "let x = [*cs]" + E,
        N + "let x = [c for c in cs for]" + E,
        N + "let x = [c for c in cs if]" + E,
    ],
    # graphs (issue 12): naming and using tensors, outputs, learnable tensors
    "arrow_needs_name": [
        N + "conv(16, 3) -> }\n",
        N + "conv(16, 3) -> 3" + E,
        N + "relu -> @x" + E,
    ],
    "arrow_one_in_parens": [
        N + "conv(16, 3) -> (a)" + E,
    ],
    "return_needs_tensors": [
        N + "return }\n",
        N + "return x" + E,
        N + "return 3" + E,
        N + "return @a, b" + E,
    ],
    "return_dict_entry": [
        N + "return {@a}" + E,
        N + "return {a @x}" + E,
        N + "return {a: x}" + E,
    ],
    "param_syntax": [
        N + "param x }\n",
        N + "param = 3" + E,
        N + "param x 3" + E,
        N + "param @x = 3" + E,
    ],
    "stray_closer": [
        N + "relu) bn" + E,
        N + "relu ] bn" + E,
        "network n(input=[3, 8, 8]) { relu }\n}\n",
        N + "conv(16, 3))" + E,
    ],
}
