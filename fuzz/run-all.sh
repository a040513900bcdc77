#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60), two at a time (PARALLEL=n to change), each in
# one process niced to 10, then prints per target: executions, coverage (edges), features,
# corpus size, and the crashes, timeouts, OOMs and leaks found (files in artifacts/TARGET/).
#
#   ./run-all.sh 900            # 15 minutes each
#   TARGETS="events_agree" ./run-all.sh 60
set -u
cd "$(dirname "$0")"
secs=${1:-60}
parallel=${PARALLEL:-2}
read -r -a targets <<< "${TARGETS:-policy_bytes policy_splice events_agree eval_rde repl_lines}"
mkdir -p logs
cargo +nightly fuzz build >/dev/null 2>&1 || { echo "cargo +nightly fuzz build failed" >&2; exit 1; }

# Per-target libFuzzer options: policy_splice's inputs are edit programs, useful from the
# first byte to a few hundred, and it runs too few inputs for libFuzzer to grow the length limit
# itself.
extra_flags() {
    case $1 in
        policy_splice) echo "-len_control=0 -max_len=512" ;;
        *) echo "" ;;
    esac
}

run_one() {
    local t=$1
    mkdir -p "corpus/$t" "artifacts/$t"
    # The first folder collects new inputs; seeds/ stays as committed.
    # shellcheck disable=SC2046
    nice -n 10 cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -dict=pal.dict -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 $(extra_flags "$t") >"logs/$t.log" 2>&1
    echo $? >"logs/$t.rc"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait

printf '%-15s %6s %12s %8s %8s %7s %8s %9s %5s %5s %5s\n' target secs execs exec/s cov ft corpus rc crash tmout oom
for t in "${targets[@]}"; do
    log="logs/$t.log"
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
    speed=$(grep -a 'stat::average_exec_per_sec' "$log" | tail -1 | awk '{print $2}')
    last=$(grep -a -E '^#[0-9]+' "$log" | grep -a 'cov:' | tail -1)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
    crash=$(find "artifacts/$t" -name 'crash-*' 2>/dev/null | wc -l)
    tmout=$(find "artifacts/$t" -name 'timeout-*' -o -name 'slow-unit-*' 2>/dev/null | wc -l)
    oom=$(find "artifacts/$t" -name 'oom-*' -o -name 'leak-*' 2>/dev/null | wc -l)
    printf '%-15s %6s %12s %8s %8s %7s %8s %9s %5s %5s %5s\n' "$t" "$secs" "${execs:-?}" "${speed:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$(cat "logs/$t.rc" 2>/dev/null)" "$crash" "$tmout" "$oom"
done
