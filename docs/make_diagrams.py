"""Regenerates the diagrams that the README shows, with archdsl itself: `python docs/make_diagrams.py`.

Needs graphviz's `dot`. Writes docs/<spec>.svg (the default view) for each spec below that exists, and
docs/<spec>_depth<N>.svg for the deeper views; a spec not written yet is skipped with a note.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import archdsl  # noqa: E402
from archdsl.cli.app import atomic_write  # noqa: E402
from archdsl.viz import render, to_dot  # noqa: E402

#: (spec, depth): depth 0 is the default view, one node per block call
DIAGRAMS = [
    ("resnet18", 0),
    ("googlenet", 0),
    ("densenet121", 0),
    ("mobilenet_v2", 0),
    ("efficientnet_b0", 0),
    ("resnet18", 2),
    ("unet", 0),  # graphs: skips drawn from where each tensor is made
    ("yolov8n", 0),
    ("fcn_resnet50", 0),
]


def main() -> int:
    docs = ROOT / "docs"
    for spec, depth in DIAGRAMS:
        path = ROOT / "specs" / f"{spec}.arch"
        if not path.exists():
            print(f"skipped {spec}: specs/{spec}.arch does not exist")
            continue
        svg = render(to_dot(archdsl.check(path), depth=depth), "svg")
        out = docs / (f"{spec}.svg" if depth == 0 else f"{spec}_depth{depth}.svg")
        atomic_write(out, lambda tmp: tmp.write_bytes(svg))
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
