"""`archdsl lsp` end to end: a real server process and a real client (pytest-lsp), one test per capability."""

from __future__ import annotations

import asyncio
import json

import pytest

from lsp_support import Document, client, hint_lines  # noqa: F401  (client is a fixture)
from lsprotocol import types

from conftest import ROOT, run_cli

pytestmark = pytest.mark.asyncio(loop_scope="function")

RESNET18 = ROOT / "specs" / "resnet18.arch"


async def test_a_bundled_spec_has_no_diagnostics_and_a_hint_per_shape(client):
    doc = Document(client, RESNET18)
    assert await doc.open() == []
    hints = hint_lines(doc, await doc.hints())
    line = doc.position("conv1: conv(64").line + 1
    # conv, bn and relu keep the shape: one hint after the last of them
    assert hints[line] == ["-> 64x112x112"]
    assert hints[doc.position("maxpool: maxpool").line + 1] == ["-> 64x56x56"]
    assert hints[doc.position("layer2:").line + 1] == ["-> 128x28x28 · 526k params"]
    assert hints[doc.position("fc: linear").line + 1] == ["-> 1000"]


async def test_diagnostics_carry_the_codes_spans_and_help_of_check(client, write):
    spec = write("bad.arch", "network n(input=[3, 32, 32]) {\n    conv(16, 3) bn relu\n    maxpool(2)\n"
                             "    conv(32, 3, groups=3)\n    gap flatten linear(10)\n}\n")
    doc = Document(client, spec)
    diagnostics = await doc.open()
    result = run_cli("check", str(spec), "--format", "json")
    expected = json.loads(result.stdout)["diagnostics"]
    assert [d.code for d in diagnostics] == [e["code"] for e in expected] == ["E0204"]
    (d,) = diagnostics
    span = expected[0]["span"]
    assert (d.range.start.line + 1, d.range.start.character + 1) == (span["line"], span["col"])
    assert (d.range.end.line + 1, d.range.end.character + 1) == (span["end_line"], span["end_col"])
    assert expected[0]["message"] in d.message and d.severity == types.DiagnosticSeverity.Error
    assert d.source == "archdsl"


async def test_every_network_reports_its_own_error_and_the_call_stack_is_related(client, write):
    spec = write("two.arch", "block pair(c) {\n    conv(c, 3, pad=1)\n    conv(c, 3, groups=5)\n}\n\n"
                             "network a(input=[3, 16, 16]) {\n    pair(8)\n}\n\n"
                             "network b(input=[3, 16, 16]) {\n    conv(4, 100)\n}\n")
    doc = Document(client, spec)
    diagnostics = await doc.open()
    assert sorted(d.code for d in diagnostics) == ["E0204", "E0205"]
    grouped = next(d for d in diagnostics if d.code == "E0204")
    assert grouped.range.start.line == 2  # inside the block, in this file
    related = [r.message for r in grouped.related_information or []]
    assert any("in `pair(c=8)` called here" in m for m in related)


async def test_errors_appear_and_disappear_as_the_text_changes(client, write):
    good = "network n(input=[3, 32, 32]) {\n    conv(16, 3) relu\n    gap flatten linear(10)\n}\n"
    doc = Document(client, write("edit.arch", good))
    assert await doc.open() == []
    broken = await doc.replace(good.replace("conv(16, 3)", "conv(16, 3, strid=2)"))
    assert [d.code for d in broken] == ["E0104"] and "did you mean `stride`?" in broken[0].message
    syntax = await doc.replace(good.replace("conv(16, 3)", "conv(16, 3"))
    assert [d.code for d in syntax] == ["E0001"]
    assert await doc.replace(good) == []


async def test_a_syntax_error_in_the_middle_keeps_the_hints_of_the_rest(client, write):
    text = ("block head(classes) {\n    gap flatten linear(classes)\n}\n\n"
            "block broken(c) {\n    conv(c, 3 relu\n}\n\n"
            "network n(input=[3, 32, 32]) {\n    conv(16, 3, pad=1) relu\n    maxpool(2)\n"
            "    conv(32, 3, pad=1 bn relu\n    head(10)\n}\n")
    doc = Document(client, write("middle.arch", text))
    diagnostics = await doc.open()
    assert [d.code for d in diagnostics] == ["E0001", "E0001"]
    assert [d.range.start.line for d in diagnostics] == [5, 11]
    hints = hint_lines(doc, await doc.hints())
    assert hints[10] == ["-> 16x32x32"] and hints[11] == ["-> 16x16x16"]
    assert hints[2] == ["-> 16x1x1", "-> 16", "-> 10"]  # inside `head`, called after the broken line
    assert 12 not in hints  # the broken line itself


async def test_hover_shows_signature_doc_shapes_params_and_macs(client):
    doc = Document(client, RESNET18)
    await doc.open()
    text = await doc.hover(doc.position("basic_stage(128", offset=2))
    assert "block basic_stage(c, n, stride=1)" in text
    assert "A stage of `n` residual blocks" in text  # the comment above the definition
    assert "| resnet18 | 64x56x56 | 128x28x28 | 525,568 |" in text
    primitive = await doc.hover(doc.position("conv(64", offset=1))
    assert "conv(out, kernel, stride=1, pad=0, dilation=1, groups=1, bias=true)" in primitive
    assert "| resnet18 | 3x224x224 | 64x112x112 | 9,408 | 118M |" in primitive


async def test_hover_on_a_name_shows_its_values(client, write):
    text = ("block widen(c, factor=2) {\n    let wide = c * factor\n    conv(wide, 1)\n}\n\n"
            "network n(input=[3, 8, 8]) {\n    widen(4)\n    widen(8, factor=3)\n}\n")
    doc = Document(client, write("values.arch", text))
    await doc.open()
    assert "let `wide` = `8`, `24`" in await doc.hover(doc.position("conv(wide", offset=6))
    assert "parameter `c` = `4`, `8`" in await doc.hover(doc.position("c * factor"))
    network = await doc.hover(doc.position("network n", offset=8))
    assert "3x8x8 -> 24x8x8" in network


async def test_definition_of_blocks_stdlib_imports_and_names(client, write):
    lib = write("lib/common.arch", "# two convolutions\nblock twice(c) {\n    conv(c, 3, pad=1) conv(c, 3, pad=1)\n}\n")
    text = ('import "lib/common.arch"\n\nblock mine(c) {\n    twice(c) relu\n}\n\n'
            "network n(input=[3, 8, 8]) {\n    mine(4)\n    basic(4)\n    let k = 3\n    conv(4, k)\n}\n")
    doc = Document(client, write("main.arch", text))
    assert await doc.open() == []

    async def target(needle, offset=1):
        found = await client.text_document_definition_async(types.DefinitionParams(
            text_document=doc.identifier(), position=doc.position(needle, offset)))
        return found[0] if found else None

    mine = await target("mine(4)")
    assert mine.uri == doc.uri and mine.range.start.line == 2
    imported = await target("twice(c)")
    assert imported.uri == lib.resolve().as_uri() and imported.range.start.line == 1
    stdlib = await target("basic(4)")
    assert stdlib.uri.endswith("archdsl/stdlib/resnet.arch")
    assert (await target('"lib/common.arch"', 3)).uri == lib.resolve().as_uri()
    assert (await target("conv(4, k)", 8)).range.start.line == 9  # the `let`
    primitive = await target("conv(4, k)")
    assert primitive.uri.endswith("archdsl/primitives/conv.py")


async def test_references_of_a_block_and_of_a_parameter(client, write):
    text = ("block b(c) {\n    conv(c, 1) conv(c, 3, pad=1)\n}\n\n"
            "network n(input=[3, 8, 8]) {\n    b(4) b(8)\n    b(16)\n}\n")
    doc = Document(client, write("refs.arch", text))
    await doc.open()

    async def references(needle, offset=0, declaration=True):
        found = await client.text_document_references_async(types.ReferenceParams(
            text_document=doc.identifier(), position=doc.position(needle, offset),
            context=types.ReferenceContext(include_declaration=declaration)))
        return sorted((r.range.start.line, r.range.start.character) for r in found)

    assert await references("b(4)") == [(0, 6), (5, 4), (5, 9), (6, 4)]
    assert await references("b(4)", declaration=False) == [(5, 4), (5, 9), (6, 4)]
    assert await references("c)", 0) == [(0, 8), (1, 9), (1, 20)]


async def test_completion_offers_primitives_blocks_keywords_and_names(client, write):
    text = "network n(classes=10, input=[3, 8, 8]) {\n    let width = 16\n    conv(width, 3, \n}\n"
    doc = Document(client, write("complete.arch", text))
    await doc.open()

    async def labels(position):
        result = await client.text_document_completion_async(types.CompletionParams(
            text_document=doc.identifier(), position=position))
        return {item.label: item for item in result.items}

    inside = await labels(doc.position("conv(width, 3, ", offset=len("conv(width, 3, ")))
    assert {"stride=", "pad=", "groups=", "bias="} <= set(inside) and "out=" in inside
    assert inside["stride="].detail == "default 1"
    assert {"width", "classes"} <= set(inside) and "make_divisible" in inside
    outside = await labels(types.Position(line=2, character=4))
    assert {"conv", "relu", "bn", "maxpool"} <= set(outside)  # primitives
    assert {"basic", "bottleneck", "inverted_residual"} <= set(outside)  # standard-library blocks
    assert {"repeat", "for", "concat", "add", "let"} <= set(outside)
    assert outside["basic"].detail == "block basic(c, stride=1)"


async def test_document_symbols_outline_blocks_networks_and_labels(client):
    doc = Document(client, RESNET18)
    await doc.open()
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=doc.identifier()))
    (network,) = symbols
    assert network.name == "resnet18" and network.kind == types.SymbolKind.Class
    assert "3x224x224 -> 1000, 11,689,512 params" == network.detail
    assert [c.name for c in network.children][:4] == ["conv1", "bn1", "maxpool", "layer1"]


async def test_formatting_goes_through_fmt(client, write):
    doc = Document(client, write("messy.arch", "network n(input=[3,8,8]){conv( 4,3 ,pad=1) relu}\n"))
    await doc.open()
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc.identifier(), options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert [e.new_text for e in edits] == [run_cli("fmt", "-", input=doc.text.encode()).stdout.decode()]


async def test_semantic_tokens_tell_blocks_from_primitives(client):
    from archdsl.lsp.features.tokens import TOKEN_MODIFIERS, TOKEN_TYPES

    doc = Document(client, RESNET18)
    await doc.open()
    tokens = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(
        text_document=doc.identifier()))
    decoded, line, start = {}, 0, 0
    data = tokens.data
    for i in range(0, len(data), 5):
        line += data[i]
        start = data[i + 1] if data[i] else start + data[i + 1]
        text = doc.text.split("\n")[line][start:start + data[i + 2]]
        modifiers = {m for b, m in enumerate(TOKEN_MODIFIERS) if data[i + 4] >> b & 1}
        decoded.setdefault(text, (TOKEN_TYPES[data[i + 3]], modifiers))
    assert decoded["resnet18"] == ("class", {"declaration"})
    assert decoded["basic_stage"] == ("function", set())
    assert decoded["conv"] == ("function", {"defaultLibrary"})
    assert decoded["layer1"] == ("property", {"declaration"})
    assert decoded["classes"][0] == "parameter"


async def test_imports_across_files_definitions_errors_and_edits(client, write):
    lib = write("blocks/lib.arch", "# conv, then a grouped conv\nblock pair(c, g=1) {\n    conv(c, 3, pad=1)\n"
                                   "    conv(c, 3, pad=1, groups=g)\n}\n")
    text = 'import "blocks/lib.arch"\n\nnetwork n(input=[3, 16, 16]) {\n    pair(8)\n    pair(12, g=5)\n}\n'
    doc = Document(client, write("uses.arch", text))
    (problem,) = await doc.open()
    # the fault is in the imported file; it is shown on the call that leads there, and points there
    assert problem.code == "E0204" and problem.range.start.line == 4
    related = {(r.location.uri, r.location.range.start.line) for r in problem.related_information}
    assert (lib.resolve().as_uri(), 3) in related
    hints = hint_lines(doc, await doc.hints())
    assert hints[4] == ["-> 8x16x16 · 808 params"]
    hover = await doc.hover(doc.position("pair(8)", 1))
    assert "block pair(c, g=1)" in hover and "conv, then a grouped conv" in hover
    # a missing import is reported on the import; the rest of the file is still analyzed
    missing = await doc.replace(text.replace("blocks/lib.arch", "blocks/nope.arch"))
    assert [d.code for d in missing][:1] == ["E0112"] and missing[0].range.start.line == 0
    assert await doc.replace(text.replace("g=5", "g=4")) == []


async def test_an_untitled_buffer_and_a_file_that_is_not_utf8_text(client, tmp_path):
    doc = Document(client, tmp_path / "never-saved.arch", "network n(input=[1, 4, 4]) { flatten linear(2) }\n")
    doc.uri = "untitled:Untitled-1"
    assert await doc.open() == []
    assert hint_lines(doc, await doc.hints())[1] == ["-> 16", "-> 2"]
    binary = Document(client, tmp_path / "nul.arch", "network n(input=[1, 4, 4]) {\x00}\n")
    assert [d.code for d in await binary.open()] == ["E0002"]


async def test_a_broken_imported_file_is_reported_on_its_import_and_the_rest_still_checks(client, write):
    write("parts/bad.arch", "block bad(c) {\n    conv(c, 3\n}\n")
    text = ('import "parts/bad.arch"\n\nnetwork n(input=[3, 8, 8]) {\n    conv(4, 3)\n    flatten linear(2)\n}\n')
    doc = Document(client, write("importer.arch", text))
    (problem,) = await doc.open()
    assert problem.code == "E0001" and problem.range.start.line == 0
    assert problem.related_information[0].location.uri.endswith("parts/bad.arch")
    hints = hint_lines(doc, await doc.hints())
    assert hints[4] == ["-> 4x6x6"] and hints[5] == ["-> 144", "-> 2"]


async def test_saving_an_imported_file_updates_the_documents_that_import_it(client, write):
    lib = write("saved/lib.arch", "block widen(c) {\n    conv(c, 1)\n}\n")
    text = 'import "saved/lib.arch"\n\nnetwork n(input=[3, 8, 8]) {\n    widen(4)\n}\n'
    user = Document(client, write("user.arch", text))
    assert await user.open() == []
    library = Document(client, lib)
    await library.open()
    broken = "block widen(c) {\n    conv(c, 1, groups=5)\n}\n"
    lib.write_text(broken)
    await library.replace(broken)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=library.identifier()))
    # the importing document is analyzed again, and now sees the saved block
    for _ in range(200):
        latest = [p for p in client.published if p.uri == user.uri]
        if latest and latest[-1].diagnostics:
            break
        await asyncio.sleep(0.05)
    assert [d.code for d in latest[-1].diagnostics] == ["E0204"]


async def test_waiting_for_a_replaced_analysis_is_no_error_but_a_cancelled_request_stops():
    import asyncio
    import sys

    from archdsl.lsp.server import _settle

    analysis = asyncio.ensure_future(asyncio.sleep(10))
    asyncio.get_running_loop().call_later(0.01, analysis.cancel)  # a newer edit replaces it
    await _settle(analysis)  # returns: the caller takes the latest analysis
    assert analysis.cancelled()
    if sys.version_info < (3, 11):
        return  # Task.cancelling() tells the two apart from 3.11 on
    analysis = asyncio.ensure_future(asyncio.sleep(10))
    request = asyncio.ensure_future(_settle(analysis))
    await asyncio.sleep(0.01)
    request.cancel()  # $/cancelRequest
    with pytest.raises(asyncio.CancelledError):
        await request
    assert not analysis.cancelled()  # shielded: the analysis itself goes on for the next request
    analysis.cancel()
