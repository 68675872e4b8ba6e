// Starts `archdsl lsp` (pip install 'archdsl[lsp]') for .arch files; the command is the
// `archdsl.server.command` setting, ["archdsl", "lsp"] by default.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const [command, ...args] = vscode.workspace.getConfiguration("archdsl").get("server.command");
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient("archdsl", "archdsl language server", server, {
    documentSelector: [{ language: "archdsl" }],
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
