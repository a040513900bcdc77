#!/usr/bin/env bash
# Node.js, npm and the VS Code extension's npm packages (editors/vscode: the language client,
# the TextMate grammar test tool `vscode-tmgrammar-test` and the packager `@vscode/vsce`, at
# the versions in its package-lock.json), for scripts/checks/editor.sh. Node.js comes from
# Debian's packages if it is missing (vsce needs Node.js 20 or later); the packages from the
# npm registry with `npm ci`, again whenever package-lock.json is newer than what is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    echo "editor-node: installed Node.js $(node --version) from Debian's packages"
fi

dir=editors/vscode
installed=$dir/node_modules/.package-lock.json
if [ -f "$installed" ] && [ ! "$dir/package-lock.json" -nt "$installed" ]; then
    echo "editor-node: Node.js $(node --version) and editors/vscode/node_modules present"
else
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "editor-node: npm ci in editors/vscode (Node.js $(node --version))"
fi
