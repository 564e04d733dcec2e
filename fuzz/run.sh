#!/bin/bash
# Run the libFuzzer targets.   fuzz/run.sh SECONDS [TARGET...]
#
# Builds them first (fuzz/build.sh; set FUZZ_NO_BUILD=1 to skip), then runs
# each for SECONDS on a copy of fuzz/corpus/TARGET (the tracked seeds are
# never written), with fuzz/TARGET.dict when present.  Prints one summary
# line per target and exits non-zero if any target found a crash, leak or
# timeout; the reproducer's path is printed (crashes go to fuzz/crashes/).
#
# Environment: FUZZ_OUT  binaries (default fuzz/out)
#              FUZZ_WORK run directories (default fuzz/runs)
#              FUZZ_JOBS targets run at once (default 1)
#              FUZZ_NICE nice level (default 10)
set -u

here=$(cd "$(dirname "$0")" && pwd)
all="fcgi_decode fcgi_roundtrip fcgi_pairs store scgi router query json path schema multipart params cookie"

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 SECONDS [TARGET...]   (targets: $all)" >&2
    exit 2
fi
secs=$1; shift
targets=${*:-$all}
out=${FUZZ_OUT:-$here/out}
jobs=${FUZZ_JOBS:-1}
nicelvl=${FUZZ_NICE:-10}
run=${FUZZ_WORK:-$here/runs}/$(date +%Y%m%d-%H%M%S)
crashes=$here/crashes

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
    "$here/build.sh" "$out" >/dev/null || { echo "build failed" >&2; exit 1; }
fi

max_len() {
    case $1 in
        fcgi_*|params) echo 70000 ;;
        json) echo 65536 ;;
        schema) echo 8192 ;;
        scgi) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# One target: run it, then write its summary line and exit code.
one() {
    local t=$1 dir=$run/$1 dict=()
    mkdir -p "$dir/corpus" "$crashes/$t"
    if [ -d "$here/corpus/$t" ]; then
        cp -r "$here/corpus/$t/." "$dir/corpus/"
    fi
    [ -f "$here/$t.dict" ] && dict=(-dict="$here/$t.dict")
    nice -n "$nicelvl" "$out/fuzz_$t" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
        -artifact_prefix="$crashes/$t/" "${dict[@]}" "$dir/corpus" \
        >"$dir/log" 2>&1
    local rc=$?
    local stat execs eps cov ft files bytes
    stat() { sed -n "s/^stat::$1: *//p" "$dir/log" | tail -1; }
    execs=$(stat number_of_executed_units)
    eps=$(stat average_exec_per_sec)
    cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
    files=$(find "$dir/corpus" -type f | wc -l)
    bytes=$(du -sb "$dir/corpus" | cut -f1)
    {
        printf '%-15s %s execs=%s exec/s=%s cov=%s ft=%s corpus=%s files/%s bytes log=%s\n' \
            "$t" "$([ $rc -eq 0 ] && echo OK || echo "FAIL(rc=$rc)")" \
            "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$files" "$bytes" \
            "$dir/log"
        if [ $rc -ne 0 ]; then
            grep -E '^SUMMARY:|ERROR: libFuzzer|Test unit written to' "$dir/log" |
                sed 's/^/    /'
        fi
    } >"$dir/summary"
    echo $rc >"$dir/rc"
}

for t in $targets; do
    case " $all " in *" $t "*) ;; *) echo "unknown target: $t" >&2; exit 2 ;; esac
    [ -x "$out/fuzz_$t" ] || { echo "missing $out/fuzz_$t" >&2; exit 1; }
done

mkdir -p "$run"
echo "fuzzing ${secs}s per target, $jobs at a time; runs in $run"
for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    one "$t" &
done
wait

status=0
for t in $targets; do
    cat "$run/$t/summary"
    [ "$(cat "$run/$t/rc")" = 0 ] || status=1
done
exit $status
