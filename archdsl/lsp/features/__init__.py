"""One module per capability of the language server; each turns an `Analysis` into protocol replies."""
