#!/usr/bin/env bash
# The VS Code extension (editors/vscode): every keyword of the language's grammar has a colour,
# the TextMate grammar gives the fixtures' tokens the scopes their comments assert
# (vscode-tmgrammar-test), and the extension packages into a .vsix (vsce) holding the grammar,
# the client and its language-client dependency. Fails on any failure. Needs the packages that
# scripts/components/editor-node.sh installs.
set -euo pipefail
cd "$(dirname "$0")/../../editors/vscode"

if [ ! -x node_modules/.bin/vscode-tmgrammar-test ] || [ ! -x node_modules/.bin/vsce ]; then
    echo "editors/vscode/node_modules is missing: run scripts/test.sh (scripts/components/editor-node.sh installs it)" >&2
    exit 1
fi

node test/keywords.js
node_modules/.bin/vscode-tmgrammar-test -g syntaxes/pal.tmLanguage.json "test/*.test.pal"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! node_modules/.bin/vsce package --out "$out/pal.vsix" >"$out/log" 2>&1; then
    cat "$out/log" >&2
    echo "vsce package failed" >&2
    exit 1
fi
python3 - "$out/pal.vsix" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = ["extension/package.json", "extension/extension.js",
          "extension/language-configuration.json", "extension/syntaxes/pal.tmLanguage.json",
          "extension/node_modules/vscode-languageclient/package.json"]
missing = [w for w in wanted if w not in names]
if missing:
    sys.exit(f"the .vsix lacks {', '.join(missing)}")
test_files = [n for n in names if n.startswith("extension/test/")]
if test_files:
    sys.exit(f"the .vsix carries test files: {test_files[:3]}")
print(f"vsce: packaged pal.vsix ({len(names)} files: grammar, client, language client)")
PY
