"""The smallest client that can drive `archdsl lsp` over stdio, with no dependency at all.

Used where pygls is not at hand or not wanted: the test of the light install, and docs/make_lsp_screenshot.py,
which renders what the server answers into a picture.

    with StdioClient(["archdsl", "lsp"]) as client:
        client.open(uri, text)
        diagnostics = client.wait_for("textDocument/publishDiagnostics")
        hints = client.request("textDocument/inlayHint", {...})
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


class StdioClient:
    def __init__(self, command: list[str], cwd: str | Path | None = None, env: dict | None = None):
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.next_id = 0
        self.pending: list[dict] = []

    def __enter__(self) -> "StdioClient":
        self.initialize()
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.process.poll() is None and exc[0] is None:
                self.shutdown()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()

    # --- the session
    def initialize(self, root: Path | None = None) -> dict:
        result = self.request("initialize", {"processId": None, "rootUri": root.as_uri() if root else None,
                                             "capabilities": {}})
        self.notify("initialized", {})
        return result

    def shutdown(self) -> int:
        self.request("shutdown", None)
        self.notify("exit", None)
        return self.process.wait(timeout=30)

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "archdsl",
                                                              "version": version, "text": text}})

    # --- messages
    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self._receive()
            if message.get("id") == self.next_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")
            self._keep(message)

    def wait_for(self, method: str) -> Any:
        """The params of the next notification `method` (one that came earlier is taken first)."""
        for i, message in enumerate(self.pending):
            if message.get("method") == method:
                return self.pending.pop(i)["params"]
        while True:
            message = self._receive()
            if message.get("method") == method:
                return message["params"]
            self._keep(message)

    def _keep(self, message: dict) -> None:
        if "id" in message and "method" in message:  # a request of the server's (a refresh): answer it
            self._send({"id": message["id"], "result": None})
        else:
            self.pending.append(message)

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _receive(self) -> dict:
        length = None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise EOFError("the server exited: " + self.process.stderr.read().decode(errors="replace")[-2000:])
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return json.loads(self.process.stdout.read(length))
