"""`archdsl lsp`: a language server for `.arch` files (the `lsp` extra: pygls + lsprotocol).

    text of a document --(analysis.py: parse with recovery, resolve, elaborate every network, recording the
                          shapes of every item)--> Analysis --(features/*: one file per capability)--> LSP replies

`analysis.py` and `recovery.py` know nothing of the protocol (and are tested without it); `server.py` wires the
features into pygls, debounces changes and runs each analysis off the event loop.
"""
