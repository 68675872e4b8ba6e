"""Renders what `archdsl lsp` shows in an editor into docs/lsp-hints.png: `python docs/make_lsp_screenshot.py`.

Not drawn by hand: the script starts the real server (`python -m archdsl lsp`), opens docs/lsp-example.arch,
takes the inlay hints and diagnostics the server publishes, and draws the text with them as an editor shows
them (hints in grey after each item, each error at the end of its line, the line marked) with Pygments'
image formatter and archdsl's own lexer. Needs Pillow (in the `docs` extra) and a monospace font.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "lsp-example.arch"
OUTPUT = ROOT / "docs" / "lsp-hints.png"


def server_view(path: Path) -> tuple[list[dict], list[dict]]:
    """The inlay hints and diagnostics the server gives for the file."""
    from archdsl.lsp.stdio_client import StdioClient

    text = path.read_text()
    uri = path.resolve().as_uri()
    with StdioClient([sys.executable, "-m", "archdsl", "lsp"], cwd=ROOT) as client:
        client.open(uri, text)
        diagnostics = client.wait_for("textDocument/publishDiagnostics")["diagnostics"]
        end = {"line": text.count("\n") + 1, "character": 0}
        hints = client.request("textDocument/inlayHint", {"textDocument": {"uri": uri},
                                                           "range": {"start": {"line": 0, "character": 0}, "end": end}})
    return hints, diagnostics


def tokens(text: str, hints: list[dict], diagnostics: list[dict]):
    """archdsl's tokens, with the hints inserted where the server put them and each error after its line."""
    from pygments import lex
    from pygments.token import Token

    from archdsl.highlight import ArchLexer

    at: dict[tuple[int, int], list[str]] = {}
    for hint in hints:
        label = hint["label"] if isinstance(hint["label"], str) else "".join(p["value"] for p in hint["label"])
        at.setdefault((hint["position"]["line"], hint["position"]["character"]), []).append(label)
    errors: dict[int, str] = {}
    for d in diagnostics:
        errors.setdefault(d["range"]["start"]["line"], f"  ✗ {d['code']}: {d['message'].splitlines()[0]}")
    line, col = 0, 0
    for kind, value in lex(text, ArchLexer()):
        for ch in value:
            for label in at.pop((line, col), []):
                yield Token.Hint, f" {label} "
            if ch == "\n":
                if line in errors:
                    yield Token.Diagnostic, errors[line]
                line, col = line + 1, 0
            else:
                col += 1
            yield kind, ch


def render(text: str, hints: list[dict], diagnostics: list[dict], output: Path) -> None:
    from pygments.formatters.img import ImageFormatter
    from pygments.styles import get_style_by_name
    from pygments.token import Token

    base = get_style_by_name("friendly")

    class EditorStyle(base):
        background_color = "#fbfbfb"
        styles = {**base.styles, Token.Hint: "italic #8a8f98 bg:#eef0f3", Token.Diagnostic: "bold #d12f2f"}

    error_lines = sorted({d["range"]["start"]["line"] + 1 for d in diagnostics})
    formatter = ImageFormatter(style=EditorStyle, font_name="DejaVu Sans Mono", font_size=15, line_numbers=True,
                               line_number_bg="#f0f0f0", line_number_fg="#9a9a9a", line_pad=5, image_pad=14,
                               hl_lines=error_lines, hl_color="#fde8e8")
    with open(output, "wb") as f:
        formatter.format(tokens(text, hints, diagnostics), f)


def main() -> int:
    hints, diagnostics = server_view(EXAMPLE)
    render(EXAMPLE.read_text(), hints, diagnostics, OUTPUT)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(hints)} hints, {len(diagnostics)} diagnostics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
