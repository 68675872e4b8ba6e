"""Print a results JSON as the markdown table the README shows: `python -m bench.markdown [results.json]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import ROOT
from .report import _number


def machine_line(data: dict) -> str:
    m = data["machine"]
    refs = ", ".join(f"{k} {m[k]}" for k in ("torchvision", "timm", "torchinfo") if m.get(k))
    load = f", load average {m['load_average'][1]:.1f} at the end" if m.get("load_average") else ""
    return (f"{m['cpu']} ({m['cores']} cores, shared{load}), torch {m['torch']} with {m['threads']} thread(s), "
            f"Python {m['python']}; {refs}; {data['mode']} run ({_groups(data)}) of {data['when']}, "
            f"{data['seconds']:.0f} s")


def _groups(data: dict) -> str:
    """Which groups the run measured, in the order they ran (a run with --only has fewer)."""
    return ", ".join(dict.fromkeys(r["group"] for r in data["rows"]))


def markdown(data: dict) -> str:
    lines = ["| group | row | ours | reference | ratio | range | target | met | reference / note |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in data["rows"]:
        if r["status"] != "ok":
            cells = [r["group"], r["name"], "", "", "", "", r["target"] or "", "", r["status"]]
        else:
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.3f} {r['ratio_label']}"
            spread = "" if not r["spread"] else f"{r['spread'][0]:.2f}-{r['spread'][1]:.2f}"
            met = {True: "yes", False: "**no**", None: ""}[r["meets_target"]]
            note = r["reference_used"] + (f"; {r['note']}" if r["note"] else "")
            cells = [r["group"], r["name"], _number(r["ours"], r["unit"]), _number(r["reference"], r["unit"]), ratio,
                     spread, r["target"] or "", met, note]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results" / "latest.json"
    data = json.loads(path.read_text())
    print(f"Machine: {machine_line(data)}.\n")
    print(markdown(data))


if __name__ == "__main__":
    main()
