"""A label equal to an unlabelled item's position name is an error: two submodules with one name would make
the second silently replace the first (the forward then called one module twice)."""

from __future__ import annotations

import pytest

import archdsl
from archdsl import ArchError

CLASHES = {
    "label after": 'network n(input=[3, 8, 8]) {\n    relu\n    "0": conv(4, 1)\n}\n',
    "label before": 'network n(input=[3, 8, 8]) {\n    "1": conv(4, 1)\n    relu\n}\n',
}


@pytest.mark.parametrize("text", CLASHES.values(), ids=CLASHES.keys())
def test_a_label_that_is_a_position_name_is_refused(tmp_path, text):
    spec = tmp_path / "clash.arch"
    spec.write_text(text)
    with pytest.raises(ArchError) as caught:
        archdsl.check(spec)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E0110" and "position name" in diagnostic.message
    assert diagnostic.span.line == 2 if "1" in text.splitlines()[1] else diagnostic.span.line == 3


def test_numeric_labels_on_every_item_are_fine(tmp_path):
    spec = tmp_path / "ok.arch"
    spec.write_text('network n(input=[3, 8, 8]) {\n    "0": conv(4, 1)\n    "1": relu\n}\n')
    assert archdsl.check(spec).param_count == 16
