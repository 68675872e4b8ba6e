"""The language server on a 2,000-line spec: answers stay fast, and a large analysis never blocks the others.

Run with `-s` to see the timings (the numbers in docs/editors.md come from here).
"""

from __future__ import annotations

import time

import pytest

from lsp_support import Document, client, hint_lines  # noqa: F401  (client is a fixture)
from lsprotocol import types

from conftest import ROOT

pytestmark = [pytest.mark.asyncio(loop_scope="function"), pytest.mark.slow]

BLOCK = """# residual block {i}
block res{i}(c, stride=1) {{
    add {{
        conv(c, 3, stride=stride, pad=1, bias=false) bn relu
        conv(c, 3, pad=1, bias=false) bn
      | if stride != 1 or in.c != c {{ conv(c, 1, stride=stride, bias=false) bn }}
    }}
    relu
}}
"""


def large_spec(lines: int = 2000, blocks: int = 60) -> str:
    """`blocks` residual blocks, then one network calling them (and ReLUs) until the file has `lines` lines."""
    head = "\n".join(BLOCK.format(i=i) for i in range(blocks))
    body = ["network big(classes=10, input=[3, 32, 32]) {", "    stem: conv(16, 3, pad=1, bias=false) bn relu"]
    used = head.count("\n") + len(body) + 4
    for j in range(lines - used):  # every other line one op: the network stays under the 10,000-op budget
        body.append(f"    layer{j}: res{j % blocks}({16 + 16 * (j // 400)})" if j % 2 == 0 else f"    layer{j}: relu")
    body += ["    gap flatten", "    fc: linear(classes)", "}"]
    return head + "\n" + "\n".join(body) + "\n"


async def timed(coroutine) -> tuple[float, object]:
    started = time.perf_counter()
    result = await coroutine
    return time.perf_counter() - started, result


async def test_a_2000_line_spec_answers_fast(client, write):
    text = large_spec()
    assert text.count("\n") == 2000
    doc = Document(client, write("large.arch", text))
    seconds_open, diagnostics = await timed(doc.open())
    assert diagnostics == []
    seconds_hints, hints = await timed(doc.hints())
    found = hint_lines(doc, hints)
    last = doc.position("fc: linear").line + 1
    assert found[last] == ["-> 10"] and len(hints) > 1500
    seconds_window, window = await timed(doc.hints(1000, 1060))
    assert window and all(1000 <= h.position.line <= 1060 for h in window)
    seconds_hover, hover = await timed(doc.hover(doc.position("layer1200: res", 12)))
    assert "block res0(c, stride=1)" in hover
    edited = text.replace("layer1200: res0(64)", "layer1200: res0(64, stride=3)")
    seconds_edit, after = await timed(doc.replace(edited))
    assert after == []
    report = {"open -> diagnostics": seconds_open, "inlay hints, whole file": seconds_hints,
              "inlay hints, 60 lines": seconds_window, "hover": seconds_hover, "edit -> diagnostics": seconds_edit}
    # the times are printed, not asserted: a unit test holds no wall-clock threshold (bench/ measures speed)
    print("\n" + "\n".join(f"  2,000 lines: {k:26} {v * 1000:7.0f} ms" for k, v in report.items()))


async def test_a_large_analysis_does_not_block_answers_on_other_documents(client, write):
    small = Document(client, ROOT / "specs" / "resnet18.arch")
    await small.open()
    large = Document(client, write("large.arch", large_spec()))
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=large.uri, language_id="archdsl", version=1, text=large.text)))
    seconds, hover = await timed(small.hover(small.position("layer3:", 9)))
    assert "basic_stage" in hover
    # answered while the large analysis was still running: its diagnostics come after (an order, not a time)
    assert not any(params.uri == large.uri for params in client.published)
    await large.diagnostics()
    print(f"\n  hover on resnet18 while a 2,000-line spec is analyzed: {seconds * 1000:.0f} ms")


@pytest.mark.parametrize("spec", ["resnet18", "googlenet", "efficientnet_b0", "densenet121", "mobilenet_v3_large"])
async def test_latency_on_bundled_specs(client, spec):
    doc = Document(client, ROOT / "specs" / f"{spec}.arch")
    seconds_open, diagnostics = await timed(doc.open())
    assert diagnostics == []
    seconds_hints, hints = await timed(doc.hints())
    assert hints
    network = doc.text.index("network ")
    seconds_hover, hover = await timed(doc.hover(doc.position(doc.text[network:].split("\n")[1].strip().split(":")[-1]
                                                             .strip()[:3])))
    print(f"\n  {spec:20} open -> diagnostics {seconds_open * 1000:5.0f} ms, hints {seconds_hints * 1000:4.0f} ms, "
          f"hover {seconds_hover * 1000:4.0f} ms")
    assert seconds_hover < 1.0 and seconds_hints < 1.0
