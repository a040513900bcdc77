#!/usr/bin/env bash
# Tier figures for the sources of issue 16 (BENCHMARKS.md, "Sources: CSV, Parquet,
# PostgreSQL"): one end-to-end run each of `pal run --streaming --ptl … --summary` from CSV,
# from Parquet (made by `pal convert`) and from a PostgreSQL table (COPY-loaded into a
# throwaway cluster on a free port), with wall time and peak RSS from /usr/bin/time.
#   scripts/bench-sources.sh L        # 1M pathways; XL = 7.5M
# Needs a release build (cargo build --release) and PostgreSQL's server binaries
# (scripts/components/postgresql.sh). Run as root, the cluster runs as the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-L}
case "$tier" in
    L) n=1000000 ;;
    XL) n=7500000 ;;
    M) n=200000 ;;
    S) n=10000 ;;
    *) echo "tier S, M, L or XL" >&2; exit 2 ;;
esac
pal=${PAL:-./target/release/pal}
data=target/bench-data
mkdir -p "$data"
csv="$data/synth-$n-seed2025.csv"
pq="$data/synth-$n-seed2025.parquet"
[ -f "$csv" ] || $pal synth --pathways "$n" --seed 2025 --out "$csv"
echo "== load: $(uptime)"
[ -f "$pq" ] || /usr/bin/time -f "convert: %e s wall, %M KiB peak RSS" $pal convert "$csv" "$pq"
ls -l "$csv" "$pq"

bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/pal-bench-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U pal --auth=trust -E UTF8 --no-sync --locale=C >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" start >/dev/null
trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null; rm -rf "$dir"' EXIT
url="postgres://pal@127.0.0.1:$port/postgres"
cols=$(head -1 "$csv" | tr -d '\r')
ddl=$(echo "$cols" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)
# `ord` keeps the extract's row order, so a sorted query gives each pathway's rows (and the
# ties among them) exactly as the CSV has them.
psql -q "$url" -c "CREATE TABLE events ($ddl, ord bigserial)"
collist=$(echo "$cols" | tr ',' '\n' | sed 's/.*/"&"/' | paste -sd, -)
/usr/bin/time -f "load into PostgreSQL (COPY): %e s wall" psql -q "$url" -c "\\copy events ($collist) FROM '$csv' WITH (FORMAT csv, HEADER true)"
psql -qAt "$url" -c "SELECT pg_size_pretty(pg_total_relation_size('events')), count(*) FROM events"

run() {
    local what=$1; shift
    echo "== $what"
    /usr/bin/time -f "$what: %e s wall, %M KiB peak RSS" \
        $pal run policies/rde.pal --as-at 2025-03-01 --streaming --ptl "$data/ptl-$what.csv" --summary --stats "$@" >/dev/null
}
[ -n "${ONLY_POSTGRES:-}" ] || run csv --events "$csv"
[ -n "${ONLY_POSTGRES:-}" ] || run parquet --events "$pq"
# A streaming run needs each pathway's rows together: the documented sorted query.
run postgres --events "$url?options=-c%20work_mem%3D256MB" --query "SELECT $collist FROM events ORDER BY pathway_id, ord"
cmp "$data/ptl-csv.csv" "$data/ptl-parquet.csv" && cmp "$data/ptl-csv.csv" "$data/ptl-postgres.csv" && echo "the three PTLs are identical"
echo "== load: $(uptime)"
