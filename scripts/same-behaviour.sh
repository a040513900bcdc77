#!/usr/bin/env bash
# Refactoring guard: runs the same observable commands with two `pal` binaries and fails on any
# byte of difference. Usage:
#   scripts/same-behaviour.sh REV            build REV in a temporary worktree and compare with HEAD's tree
#   scripts/same-behaviour.sh --bins OLD NEW compare two already-built binaries
# What is compared: `pal run` (JSONL, CSV, table, PTL, summary, stderr) on examples/ and on a
# seeded 50,000-pathway synthetic extract (whole and streaming), `pal check --format json
# policies/`, `pal test policies/`, and every REPL transcript in tests/repl/ piped into `pal repl`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=$(mktemp -d)
trap 'rm -rf "$work"; git -C "$top" worktree remove --force "$work/old" >/dev/null 2>&1 || true' EXIT

if [ "${1:-}" = "--bins" ]; then
  old=$2; new=$3
else
  rev=${1:?usage: same-behaviour.sh REV | --bins OLD NEW}
  git worktree add --detach "$work/old" "$rev" >/dev/null
  (cd "$work/old" && CARGO_TARGET_DIR="$top/target/same-behaviour" cargo build --release --locked --bin pal -q)
  old="$top/target/same-behaviour/release/pal"
  cargo build --release --locked --bin pal -q
  new="$top/target/release/pal"
fi

"$new" synth --pathways 50000 --seed 7 --out "$work/synth.csv" >/dev/null 2>&1
{ head -n1 "$work/synth.csv"; tail -n +2 "$work/synth.csv" | sort -t, -k1,1 -s; } > "$work/synth-sorted.csv"

observe() { # $1 binary, $2 output folder
  local pal=$1 out=$2 asat=2025-03-31 i=0
  mkdir -p "$out"
  run() { i=$((i+1)); (cd "$top" && "$pal" "$@" >"$out/$i.out" 2>"$out/$i.err" </dev/null; echo "exit $?" >>"$out/$i.err") || true; }
  for ev in examples/events.csv examples/events.jsonl "$work/synth.csv"; do
    for fmt in jsonl csv table; do run run policies/rde.pal --events "$ev" --as-at $asat --format $fmt; done
    run run policies/rde.pal --events "$ev" --as-at $asat --ptl "$out/ptl$i.csv" --summary
    run run policies/national.pal --events "$ev" --as-at $asat --trace
  done
  run run policies/rde.pal --events "$work/synth-sorted.csv" --as-at $asat --streaming --ptl "$out/ptl-stream.csv" --summary
  run check --format json policies/
  run check policies/
  run test policies/
  run test policies/ --coverage
  run explain policies/rde.pal --events examples/events.csv --pathway P001 --as-at $asat
  for t in tests/repl/*.txt; do
    for p in policies/national.pal policies/rde.pal; do
      i=$((i+1)); (cd "$top" && "$pal" repl "$p" <"$t" >"$out/$i.out" 2>"$out/$i.err"; echo "exit $?" >>"$out/$i.err") || true
    done
  done
}
observe "$old" "$work/a"
observe "$new" "$work/b"
# PTL files are written under each side's own folder; compare names relative to it.
if diff -r "$work/a" "$work/b" >"$work/diff.txt"; then
  echo "same behaviour: $(ls "$work/a" | wc -l) outputs identical"
else
  head -n 60 "$work/diff.txt"; echo "behaviour differs"; exit 1
fi
