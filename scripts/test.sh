#!/usr/bin/env bash
# The README's test command. Installs the real components some tests drive (each
# `scripts/components/*.sh` installs one from Debian's packages or the npm registry if it is
# missing, and does nothing when it is there), then runs the whole workspace's tests, then the
# checks that are not cargo tests (`scripts/checks/*.sh`). Tests start and stop the servers they
# use themselves (on a free local port, in a temporary directory); a test whose component is
# absent fails, it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

for component in scripts/components/*.sh; do
    [ -e "$component" ] || continue
    bash "$component"
done

cargo test --locked "$@"

for check in scripts/checks/*.sh; do
    [ -e "$check" ] || continue
    echo "== $check"
    bash "$check"
done
