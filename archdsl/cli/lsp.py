"""`archdsl lsp`: the language server, over stdin/stdout (needs the `lsp` extra: pygls and lsprotocol)."""

from __future__ import annotations

import click

from .app import main


@main.command()
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default and only transport; editors pass it).")
def lsp(stdio: bool) -> None:
    """Run the archdsl language server for editors, over stdin/stdout.

    Diagnostics as you type (the codes of `archdsl check`), the output shape of every item as an inlay hint,
    hover with signatures, shapes, parameters and MACs, go to definition, references, completion, outline,
    formatting (`archdsl fmt`) and semantic highlighting. Needs `pip install 'archdsl[lsp]'`.

    \b
    Examples:
      archdsl lsp            # started by the editor (editors/vscode in the repository)
    """
    from ..extras import missing_extra

    try:
        from ..lsp.server import serve
    except ImportError as exc:
        hint = missing_extra(exc, "lsp")
        if hint is None:
            raise
        click.echo(f"error: {hint}", err=True)
        raise SystemExit(2) from None
    serve()
