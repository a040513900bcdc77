// The PAL extension: starts `pal lsp` (the `pal.path` setting) as the language server for
// `.pal` files. Everything else — diagnostics, hover, navigation, completion, formatting, code
// lenses that run tests — comes from the server.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('pal').get('path') || 'pal';
  // With the stdio transport the client adds `--stdio`; `pal lsp` accepts it.
  const serverOptions = { command, args: ['lsp'], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'pal' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.pal') },
  };
  client = new LanguageClient('pal', 'PAL language server', serverOptions, clientOptions);
  client.start().catch((e) => {
    vscode.window.showErrorMessage(
      `PAL: could not start \`${command} lsp\` (${e.message}). Set "pal.path" to the pal program.`
    );
  });
  context.subscriptions.push(
    vscode.commands.registerCommand('pal.restartServer', () => client && client.restart())
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
