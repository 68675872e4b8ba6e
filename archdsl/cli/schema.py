"""`archdsl schema`, and `archdsl build --emit ir`: the IR (and the AST) as JSON, for editors and other tools."""

from __future__ import annotations

import json
import sys

import click

from .. import __version__
from .app import guarded, main

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(kind: str) -> dict:
    """The JSON schema of `archdsl build --emit ir` output ("ir") or of a parsed file ("ast"), from pydantic."""
    if kind == "ir":
        from ..ir import Network as model
    else:
        from ..ast import Module as model
    schema = model.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, "$comment": f"archdsl {__version__}", **schema}


def emit_ir(network, deploy: bool = False) -> int:
    """Print an elaborated network as JSON (the deploy IR with `deploy`); torch is not imported."""
    if deploy:
        from ..pipeline import deploy as deploy_network

        network = deploy_network(network)
    sys.stdout.write(network.model_dump_json(indent=2) + "\n")
    return 0


@main.command()
@click.option("--of", "kind", type=click.Choice(["ir", "ast"]), default="ir", show_default=True,
              help="ir: what `archdsl build --emit ir` prints; ast: a parsed .arch file.")
@guarded
def schema(kind: str) -> int:
    """Print the JSON schema of archdsl's IR (or AST), generated from its pydantic models.

    \b
    Examples:
      archdsl schema > archdsl-ir.schema.json
      archdsl build specs/resnet18.arch --emit ir > resnet18.ir.json
      archdsl schema --of ast
    """
    sys.stdout.write(json.dumps(schema_of(kind), indent=2) + "\n")
    return 0
