"""The front end never imports torch: checking, summarizing, drawing, formatting, emitting the IR and the Python API
that does the same stay fast and work without it.

Each case runs in a fresh interpreter (another test may already have imported torch into this one) and reports
which `torch` modules were loaded at the end. A new torch-free command or entry point is one more row below.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from conftest import ROOT, all_specs


@dataclass(frozen=True)
class Case:
    program: str  # Python source; `{tmp}` is replaced by a scratch directory
    exit_code: int = 0
    stdout: str = ""  # a text the output must contain, to show the work was really done
    stderr: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (name, text) written into the scratch directory first


def cli(*args: str, **expected) -> Case:
    """`archdsl ARGS` run in-process by `archdsl.cli.main`, its exit code taken from `SystemExit`."""
    program = textwrap.dedent(f"""
        from archdsl.cli import main
        try:
            main({list(args)!r})
            code = 0
        except SystemExit as exit:
            code = exit.code
    """)
    return Case(program, **expected)


SPECS = [str(p.relative_to(ROOT)) for p in all_specs()]
BAD = ("bad.arch", "network n(input=[3, 8, 8]) { conv(4, 9) }\n")
HUGE = ("huge.arch", "network huge(input=[1000000]) { linear(1000000) }\n")  # 10^12 parameters

CASES = {
    "check-every-spec": cli("check", *SPECS, stdout="no errors"),
    "check-error-text": cli("check", "{tmp}/bad.arch", exit_code=1, stderr="E0205", files=(BAD,)),
    "check-error-json": cli("check", "{tmp}/bad.arch", "--format", "json", exit_code=1, stdout="E0205", files=(BAD,)),
    "check-error-github": cli("check", "{tmp}/bad.arch", "--format", "github", exit_code=1, stdout="::error",
                              files=(BAD,)),
    "summary-json": cli("summary", "specs/resnet18.arch", "--format", "json", stdout="layer1.0.conv1"),
    "summary-deploy": cli("summary", "specs/repvgg_a0.arch", "--deploy", stdout="8,309,384"),
    "draw-dot-deploy": cli("draw", "specs/repvgg_a0.arch", "-o", "{tmp}/repvgg.dot", "--depth", "2", "--deploy"),
    "draw-dot-expanded": cli("draw", "specs/resnet18.arch", "-o", "{tmp}/resnet18.dot", "--depth", "3",
                             "--expand-repeats"),
    "fmt-check": cli("fmt", "--check", "specs/resnet18.arch"),
    "build-emit-ir-deploy": cli("build", "specs/repvgg_a0.arch", "--emit", "ir", "--deploy",
                                stdout='"param_count": 8309384'),
    "build-refuses-over-max-params": cli("build", "{tmp}/huge.arch", exit_code=1, stderr="E0115", files=(HUGE,)),
    "schema-ir": cli("schema", stdout="json-schema.org"),
    "schema-ast": cli("schema", "--of", "ast", stdout="json-schema.org"),
    "help": cli("--help", stdout="Commands"),
    "api-check-deploy-draw": Case(textwrap.dedent("""
        import archdsl, archdsl.cli
        from archdsl.reparam import deploy_ir
        from archdsl.viz import to_dot
        net = archdsl.check("specs/repvgg_a0.arch")
        to_dot(net, depth=3, expand_repeats=True)
        to_dot(deploy_ir(net), depth=2, variant="deploy")
        print(deploy_ir(net).param_count)
        code = 0
    """), stdout="8309384"),
}

REPORT = textwrap.dedent("""
    import json, sys
    loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
    with open({report!r}, "w") as out:
        json.dump({{"exit_code": code, "torch": loaded[:5]}}, out)
""")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_never_imports_torch(case: Case, tmp_path):
    for name, text in case.files:
        (tmp_path / name).write_text(text)
    report = tmp_path / "report.json"
    program = case.program.replace("{tmp}", str(tmp_path)) + REPORT.format(report=str(report))
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and report.exists(), result.stdout + result.stderr
    outcome = json.loads(report.read_text())
    assert outcome["torch"] == [], "torch was imported"
    assert outcome["exit_code"] == case.exit_code, result.stdout + result.stderr
    assert case.stdout in result.stdout, result.stdout
    assert case.stderr in result.stderr, result.stderr
