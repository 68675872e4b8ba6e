"""Highlighting outside the language server: the Pygments lexer (entry point `archdsl`) and the TextMate
grammar of editors/vscode, checked by vscode-tmgrammar-test where node and npm are installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pygments import lex
from pygments.token import Error, Keyword, Name

from archdsl.highlight import KEYWORDS, ArchLexer
from archdsl.syntax.parser import keywords
from conftest import ROOT, all_specs

VSCODE = ROOT / "editors" / "vscode"
STDLIB = sorted((ROOT / "archdsl" / "stdlib").glob("*.arch"))
TMGRAMMAR_TEST = "vscode-tmgrammar-test@0.1.3"


@pytest.mark.parametrize("path", all_specs() + STDLIB, ids=lambda p: p.name)
def test_every_bundled_file_lexes_without_error_tokens(path):
    text = path.read_text()
    tokens = list(lex(text, ArchLexer()))
    assert not [v for t, v in tokens if t in Error]
    assert "".join(v for _, v in tokens) == text + ("" if text.endswith("\n") else "\n")


def test_tokens_of_a_line():
    tokens = [(t, v) for t, v in lex('stem: conv(32, 3, stride=2) add { relu | } make_divisible(c, 8) in.c', ArchLexer())
              if v.strip()]
    assert (Name.Label, "stem") in tokens and (Name.Builtin, "conv") in tokens
    assert (Name.Attribute, "stride") in tokens and (Keyword.Reserved, "add") in tokens
    assert (Name.Function.Magic, "make_divisible") in tokens and (Name.Builtin.Pseudo, "in") in tokens


def test_every_word_of_the_grammar_is_highlighted_as_a_keyword():
    assert keywords() <= KEYWORDS


def test_pygments_finds_the_lexer_by_name_and_by_file_name():
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename

    if importlib.util.find_spec("archdsl") is None or not _entry_point_installed():
        pytest.fail("archdsl is not installed with its entry points: pip install -e .")
    assert type(get_lexer_by_name("archdsl")).__name__ == "ArchLexer"
    assert type(get_lexer_for_filename("net.arch")).__name__ == "ArchLexer"


def test_pygmentize_highlights_a_spec():
    result = subprocess.run([sys.executable, "-m", "pygments", "-l", "archdsl", "-f", "html",
                             str(ROOT / "specs" / "resnet18.arch")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '<span class="nb">conv</span>' in result.stdout and '<span class="nl">layer1</span>' in result.stdout


def _entry_point_installed() -> bool:
    from importlib.metadata import entry_points

    return any(ep.name == "archdsl" for ep in entry_points(group="pygments.lexers"))


# --- the TextMate grammar and the extension -----------------------------------------------------------

def test_the_committed_grammar_is_what_make_grammar_writes():
    sys.path.insert(0, str(VSCODE))
    try:
        import make_grammar
    finally:
        sys.path.remove(str(VSCODE))
    committed = (VSCODE / "syntaxes" / "archdsl.tmLanguage.json").read_text()
    assert committed == make_grammar.text(), "regenerate it: python editors/vscode/make_grammar.py"


def test_the_extension_manifest_starts_the_language_server():
    manifest = json.loads((VSCODE / "package.json").read_text())
    (language,) = manifest["contributes"]["languages"]
    assert language["id"] == "archdsl" and language["extensions"] == [".arch"]
    assert (VSCODE / language["configuration"]).is_file()
    (grammar,) = manifest["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).is_file() and grammar["scopeName"] == "source.archdsl"
    setting = manifest["contributes"]["configuration"]["properties"]["archdsl.server.command"]
    assert setting["default"] == ["archdsl", "lsp"]
    assert 'getConfiguration("archdsl").get("server.command")' in (VSCODE / manifest["main"]).read_text()
    json.loads((VSCODE / "language-configuration.json").read_text())


@pytest.mark.slow
def test_the_textmate_grammar_passes_its_tests():
    """vscode-tmgrammar-test (npm) over editors/vscode/tests/*.test.arch; skipped without node and npm."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("node and npm are not installed")
    tools = Path(os.environ.get("ARCHDSL_NODE_TOOLS", Path(tempfile.gettempdir()) / "archdsl-node-tools"))
    binary = tools / "node_modules" / ".bin" / "vscode-tmgrammar-test"
    if not binary.exists():
        tools.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(tools),
                                    TMGRAMMAR_TEST], capture_output=True, text=True, timeout=300)
        if installed.returncode != 0 or not binary.exists():
            pytest.skip(f"could not install {TMGRAMMAR_TEST}: {installed.stderr.strip()[-300:]}")
    tests = sorted(str(p.relative_to(VSCODE)) for p in (VSCODE / "tests").glob("*.test.arch"))
    assert tests
    result = subprocess.run([str(binary), "-g", "syntaxes/archdsl.tmLanguage.json", *tests], cwd=VSCODE,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
