"""MkDocs hooks: the pages that archdsl writes about itself, generated at every build (mkdocs.yml `hooks:`).

- `gallery/<spec>.md` for every bundled spec: its diagram (`archdsl draw`, SVG; needs graphviz's `dot`), its
  summary (`archdsl summary`) and its source, highlighted by archdsl's own Pygments lexer;
- `cli.md`: the help of every command, as `archdsl COMMAND --help` prints it;
- `benchmarks.md`: the tables of `bench/results/latest.json`, as `python -m bench.markdown` prints them.

The commands run in-process through click's test runner, so the pages show exactly what a user sees.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"


def specs() -> list[Path]:
    return sorted(SPECS.rglob("*.arch"))


def page_name(spec: Path) -> str:
    """specs/resnet18.arch -> resnet18, specs/book/resnet18.arch -> book-resnet18."""
    return "-".join(spec.relative_to(SPECS).with_suffix("").parts)


def network_args(spec: Path) -> list[str]:
    """`--network NAME` for a file of several networks (a family and its variants): its first network with a body,
    else its first variant; nothing for a file of one network."""
    from archdsl.passes.resolve import load_file

    networks = load_file(spec).module.networks
    if len(networks) < 2:
        return []
    return ["--network", next((n.name for n in networks if n.base is None), networks[0].name)]


def run_cli(*args: str) -> str:
    from click.testing import CliRunner

    from archdsl.cli import main

    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise PluginError(f"`archdsl {' '.join(args)}` failed ({result.exit_code}): {result.output.strip()}")
    return result.output


def on_config(config):
    """The gallery's pages go into the navigation, one per bundled spec, in the order of `specs/`."""
    if shutil.which("dot") is None:
        raise PluginError("the gallery needs graphviz's `dot` to draw the specs: apt-get install graphviz")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for `bench`
    for entry in config["nav"]:
        if isinstance(entry, dict) and "Gallery" in entry:
            entry["Gallery"] = ["gallery/index.md"] + [f"gallery/{page_name(s)}.md" for s in specs()]
    return config


def on_files(files, config):
    for path, content in generated_pages():
        files.append(File.generated(config, path, content=content))
    return files


def generated_pages():
    yield "cli.md", cli_reference()
    yield "benchmarks.md", benchmarks()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs():
            name = page_name(spec)
            svg = Path(tmp) / f"{name}.svg"
            run_cli("draw", str(spec), *network_args(spec), "-o", str(svg))
            yield f"gallery/{name}.svg", svg.read_bytes()
            yield f"gallery/{name}.md", gallery_page(spec, name)
            rows.append(f"| [{name}]({name}.md) | {_first_comment(spec)} |")
    yield "gallery/index.md", ("# Gallery\n\nEvery spec bundled in `specs/`, drawn and summarized by archdsl itself "
                               "when this site was built (`archdsl draw`, `archdsl summary`).\n\n"
                               "| spec | what it is |\n|---|---|\n" + "\n".join(rows) + "\n")


def gallery_page(spec: Path, name: str) -> str:
    relative = spec.relative_to(ROOT)
    chosen = network_args(spec)
    summary = run_cli("summary", str(spec), *chosen)
    networks = f"## Networks\n\n```text\n{run_cli('check', str(spec)).rstrip()}\n```\n\n" if chosen else ""
    return (f"# {name}\n\n{_first_comment(spec)}\n\n`{relative}`: `archdsl check {relative}`, "
            f"`archdsl draw {' '.join([str(relative), *chosen])} -o {name}.svg`\n\n"
            f"![{name}: the diagram archdsl draws]({name}.svg)\n\n" + networks +
            f"## Summary\n\n```text\n{summary.rstrip()}\n```\n\n"
            f"## Source\n\n```archdsl\n{spec.read_text().rstrip()}\n```\n")


def _first_comment(spec: Path) -> str:
    for line in spec.read_text().splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip().replace("|", "/")
    return ""


def cli_reference() -> str:
    import click

    from archdsl.cli import main

    parts = ["# Command line\n", "Every command, as `archdsl COMMAND --help` prints it (generated from the click "
             "commands when this site was built).\n"]
    root = click.Context(main, info_name="archdsl")
    parts.append(f"```text\n{main.get_help(root)}\n```\n")
    for name in sorted(main.commands):
        command = main.commands[name]
        context = click.Context(command, info_name=name, parent=root)
        parts.append(f"## archdsl {name}\n\n```text\n{command.get_help(context)}\n```\n")
    return "\n".join(parts)


def benchmarks() -> str:
    import json

    from bench.markdown import machine_line, markdown

    latest = ROOT / "bench" / "results" / "latest.json"
    data = json.loads(latest.read_text())
    return ("# Benchmarks\n\n`python -m bench` measures archdsl side by side with torchvision/timm in one process, "
            "interleaved, median of rounds; ratios are ours / reference, lower is better (see `bench/README.md`). "
            f"This is the latest full run (`bench/results/latest.json`).\n\nMachine: {machine_line(data)}.\n\n"
            f"{markdown(data)}\n")
