"""The CLI as the rest of a toolchain meets it: --version, --help with examples, shell completion, colour and
progress only on a terminal, the IR as JSON and its schema."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from archdsl import __version__
from archdsl.cli import main
from archdsl.ir import Network

from conftest import ROOT, SPECS, run_cli

COMMANDS = sorted(main.commands)


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.decode().strip() == f"archdsl, version {__version__}"


def test_every_command_is_registered():
    """The list comes from the click group itself: every command that a module of archdsl/cli/ declares is
    registered when `archdsl.cli` is imported, in a fresh interpreter (a hand-written list once missed `draw`)."""
    import importlib
    import pkgutil

    import click

    import archdsl.cli

    declared = set()
    for module in pkgutil.iter_modules(archdsl.cli.__path__):
        values = vars(importlib.import_module(f"archdsl.cli.{module.name}")).values()
        declared |= {v.name for v in values if isinstance(v, click.Command) and v is not main}
    code = "from archdsl.cli import main; print(' '.join(sorted(main.commands)))"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert set(fresh.stdout.split()) == declared == set(COMMANDS), fresh.stderr
    assert {"build", "check", "draw", "export", "fmt", "schema", "summary"} <= declared


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_examples(command):
    result = run_cli(*([command] if command else []), "--help")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Examples:" in out
    examples = out.split("Examples:", 1)[1]
    assert f"archdsl {command or ''}".strip() in examples


def _complete(env: dict) -> str:
    """Run the installed `archdsl` script as a shell's completion function does."""
    script = Path(sys.executable).with_name("archdsl")  # the console script pip installed beside python
    result = subprocess.run([str(script)], capture_output=True, timeout=60, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_bash_completion_script_and_completions():
    script = _complete({"_ARCHDSL_COMPLETE": "bash_source"})  # what the README tells users to eval
    assert "_archdsl_completion()" in script and "complete -o nosort -F _archdsl_completion archdsl" in script
    commands = _complete({"_ARCHDSL_COMPLETE": "bash_complete", "COMP_WORDS": "archdsl su", "COMP_CWORD": "1"})
    assert "plain,summary" in commands.split()
    options = _complete({"_ARCHDSL_COMPLETE": "bash_complete", "COMP_WORDS": "archdsl fmt --ch", "COMP_CWORD": "2"})
    assert "plain,--check" in options.split()
    assert "_archdsl_completion" in _complete({"_ARCHDSL_COMPLETE": "zsh_source"})


def test_readme_documents_completion_and_scale():
    readme = (ROOT / "README.md").read_text()
    assert "_ARCHDSL_COMPLETE=bash_source archdsl" in readme
    assert "## Training at scale" in readme and "fully_shard" in readme and "DistributedDataParallel" in readme


# --- colour and progress on a terminal only -------------------------------------------------------------------


def _run_in_terminal(*args: str, env: dict | None = None) -> bytes:
    """Run archdsl with stdout and stderr on a pseudo-terminal; returns everything it printed."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "archdsl", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=terminal, stderr=terminal,
                               env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", **(env or {})})
    os.close(terminal)
    output = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=120)
    os.close(controller)
    assert process.returncode == 0, output.decode(errors="replace")
    return output


def test_summary_is_coloured_on_a_terminal_only():
    cyan = b"\x1b[36m"  # the input row
    assert cyan in _run_in_terminal("summary", str(SPECS / "resnet18.arch"), "--depth", "0")
    assert cyan not in _run_in_terminal("summary", str(SPECS / "resnet18.arch"), "--depth", "0", env={"NO_COLOR": "1"})
    assert b"\x1b[" not in run_cli("summary", str(SPECS / "resnet18.arch"), "--depth", "0").stdout


def test_build_shows_progress_on_a_terminal_only():
    hide_cursor = b"\x1b[?25l"  # what rich's spinner writes first
    assert hide_cursor in _run_in_terminal("build", str(SPECS / "resnet18.arch"), "--set", "input=[3,32,32]")
    piped = run_cli("build", str(SPECS / "resnet18.arch"), "--set", "input=[3,32,32]")
    assert piped.returncode == 0 and b"\x1b[" not in piped.stdout + piped.stderr


# --- the IR as JSON, and its schema -------------------------------------------------------------------------


def _validate(value, schema: dict, defs: dict, where: str = "$") -> None:
    """A JSON-schema check for the subset pydantic emits here: $ref, anyOf/oneOf, objects, arrays, scalars."""
    if "$ref" in schema:
        return _validate(value, defs[schema["$ref"].split("/")[-1]], defs, where)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema["anyOf"]
        if "discriminator" in schema:
            target = schema["discriminator"]["mapping"][value[schema["discriminator"]["propertyName"]]]
            return _validate(value, {"$ref": target}, defs, where)
        errors = []
        for option in options:
            try:
                return _validate(value, option, defs, where)
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches none of {errors}")
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), f"{where}: expected an object"
        missing = set(schema.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {missing}"
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(properties), f"{where}: unexpected {set(value) - set(properties)}"
        for key, item in value.items():
            if key in properties:
                _validate(item, properties[key], defs, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), f"{where}: expected an array"
        if "prefixItems" in schema:
            for i, (item, sub) in enumerate(zip(value, schema["prefixItems"])):
                _validate(item, sub, defs, f"{where}[{i}]")
        elif "items" in schema:
            for i, item in enumerate(value):
                _validate(item, schema["items"], defs, f"{where}[{i}]")
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: expected an integer"
    elif kind == "string":
        assert isinstance(value, str), f"{where}: expected a string"
    elif kind == "null":
        assert value is None, f"{where}: expected null"
    elif "const" in schema:
        assert value == schema["const"], f"{where}: expected {schema['const']!r}"


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "book/densenet"])
def test_emitted_ir_matches_its_schema_and_round_trips(name):
    path = SPECS / f"{name}.arch"
    result = run_cli("build", str(path), "--emit", "ir")
    assert result.returncode == 0, result.stderr.decode()
    ir = json.loads(result.stdout)
    schema = json.loads(run_cli("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    _validate(ir, schema, schema["$defs"])
    assert Network.model_validate_json(result.stdout).model_dump(mode="json") == ir
    import archdsl

    assert ir["param_count"] == archdsl.check(path).param_count


def test_ast_schema():
    schema = json.loads(run_cli("schema", "--of", "ast").stdout)
    assert schema["title"] == "Module" and {"Call", "BlockDef", "NetworkDef"} <= set(schema["$defs"])
