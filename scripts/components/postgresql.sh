#!/usr/bin/env bash
# PostgreSQL's server binaries (initdb, pg_ctl, postgres) for tests/postgres.rs, which starts
# a throwaway cluster of its own on a free local port. Installs Debian's `postgresql` if no
# initdb is on PATH or under /usr/lib/postgresql/*/bin.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "postgresql: present"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq postgresql >/dev/null
echo "postgresql: installed (Debian package)"
