"""The documentation site builds with `mkdocs build --strict`, and what archdsl generates for it is there: a
gallery page for every bundled spec (diagram, summary, highlighted source), the reference of every command,
the Python API, and the picture of the language server's hints."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, all_specs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [m for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
               if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    if shutil.which("dot") is None:
        pytest.skip("the gallery needs graphviz's `dot`")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return out


@pytest.mark.parametrize("spec", all_specs(), ids=lambda p: str(p.relative_to(ROOT / "specs")))
def test_every_bundled_spec_has_a_gallery_page(site, spec):
    name = "-".join(spec.relative_to(ROOT / "specs").with_suffix("").parts)
    page = (site / "gallery" / name / "index.html").read_text()
    assert (site / "gallery" / f"{name}.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert f'src="../{name}.svg"' in page
    assert "parameters" in page and "MACs" in page  # the summary
    # the source, highlighted by archdsl's lexer: its definitions (`network`, `block`), and its primitives where
    # the file calls any (a family file of variants, convnext.arch, calls none itself)
    assert '<span class="kd">' in page
    if any(f" {name}(" in spec.read_text() or f" {name}\n" in spec.read_text() for name in ("conv", "relu", "bn")):
        assert '<span class="nb">' in page


def test_the_command_line_reference_has_every_command(site):
    from archdsl.cli import main

    page = (site / "cli" / "index.html").read_text()
    for name in main.commands:
        assert f"archdsl {name}" in page


def test_the_api_reference_comes_from_the_docstrings(site):
    page = (site / "api" / "index.html").read_text()
    for name in ("check", "load", "build", "reparameterize"):
        assert f'id="archdsl.{name}"' in page
    assert "Elaborate a spec statically" in page


def test_the_editor_page_shows_the_servers_hints(site):
    page = (site / "editors" / "index.html").read_text()
    assert 'src="../lsp-hints.png"' in page
    assert (site / "lsp-hints.png").read_bytes().startswith(b"\x89PNG")
    assert (site / "benchmarks" / "index.html").read_text().count("<tr>") > 10


def test_the_screenshot_is_drawn_from_what_the_server_answers(tmp_path):
    pytest.importorskip("PIL", reason="drawing the picture needs Pillow (the docs extra)")
    pytest.importorskip("pygls", reason="the language server needs the lsp extra")
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_lsp_screenshot as screenshot
    finally:
        sys.path.remove(str(ROOT / "docs"))
    hints, diagnostics = screenshot.server_view(screenshot.EXAMPLE)
    labels = [h["label"] for h in hints]
    assert "-> 32x32x32 · 18.6k params" in labels and "-> 10" in labels
    assert [d["code"] for d in diagnostics] == ["E0204"]
    try:
        screenshot.render(screenshot.EXAMPLE.read_text(), hints, diagnostics, tmp_path / "hints.png")
    except OSError as exc:  # no DejaVu Sans Mono here
        pytest.skip(f"no font to draw with: {exc}")
    assert (tmp_path / "hints.png").read_bytes().startswith(b"\x89PNG")
