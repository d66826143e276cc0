#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz and runs each for a given time,
# one after the other (one core each; the machine is shared).
#
#   scripts/fuzz.sh [-t SECONDS] [--keep-going] [--merge] [TARGET...]
#
#   -t SECONDS  time per target (default 60)
#   --keep-going  run in libFuzzer's fork mode and carry on after a crash (collecting every
#               crash input), for a target with a known, not yet fixed crash
#   --merge     afterwards, merge inputs that add coverage into tests/fuzz/corpus/<target>/
#               (only inputs with new edges: -merge=1 -use_counters=0, which keeps it small;
#               without --merge the committed corpus is never touched)
#   TARGET      default: every target
#
# New inputs found while running go to build-fuzz/fuzz-work/<target>/ (a scratch corpus that
# starts from the committed one); crashes to build-fuzz/fuzz-crashes/<target>/. A summary
# line per target (time, executions, coverage, crashes) goes to build-fuzz/fuzz-summary.txt,
# the figures docs/SECURITY.md records.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build="${FUZZ_BUILD_DIR:-$src/build-fuzz}"
secs=60
merge=0
keep=""
targets=""
while [ $# -gt 0 ]; do
    case "$1" in
    -t) secs="$2"; shift 2 ;;
    --merge) merge=1; shift ;;
    --keep-going) keep="-fork=1 -ignore_crashes=1"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) targets="$targets $1"; shift ;;
    esac
done
all="fuzz_ntp_parse fuzz_server fuzz_engine_reply fuzz_cmdmon_request fuzz_cmdmon_reply fuzz_conf fuzz_cmdsrv"
[ -n "$targets" ] || targets="$all"

if [ ! -f "$build/build.ninja" ]; then
    # The libraries get coverage instrumentation too (fuzzer-no-link); the ASan runtime
    # provides the coverage callbacks for the other executables of the build.
    CC=clang meson setup "$build" "$src" -Dfuzz=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' \
        -Dc_link_args='-fsanitize=fuzzer-no-link' >/dev/null
fi
ninja -C "$build" build.ninja >/dev/null # regenerate first, so that new targets are known
# shellcheck disable=SC2086
meson compile -C "$build" $targets >/dev/null || { echo "build failed" >&2; exit 2; }

summary="$build/fuzz-summary.txt"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in $targets; do
    work="$build/fuzz-work/$t"
    crashes="$build/fuzz-crashes/$t"
    mkdir -p "$work" "$crashes"
    log="$build/fuzz-$t.log"
    stamp="$build/fuzz-$t.stamp"
    touch "$stamp"
    extra=""
    [ "$t" = fuzz_conf ] && extra="-dict=$src/tests/fuzz/conf.dict"
    echo "== $t: ${secs}s"
    rc=0
    # shellcheck disable=SC2086
    "$build/tests/fuzz/$t" -max_total_time="$secs"\
        -print_final_stats=1 -max_len=4096 -rss_limit_mb=1024 -timeout=10 \
        -artifact_prefix="$crashes/" $keep $extra "$work" "$src/tests/fuzz/corpus/$t" \
        >"$log" 2>&1 || rc=$?
    execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
    if [ "$execs" = 0 ]; then # fork mode prints no final stats: the last status line counts
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    cov=$(grep -ho 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    ncrash=$(find "$crashes" -type f -newer "$stamp" | wc -l) # this run's only
    line="$(date -u +%FT%TZ) $t seconds=$secs execs=$execs cov=${cov:-?} rc=$rc crashes=$ncrash"
    echo "$line" | tee -a "$summary"
    [ "$rc" -eq 0 ] && [ "$ncrash" -eq 0 ] || status=1
    if [ "$merge" -eq 1 ]; then
        "$build/tests/fuzz/$t" -merge=1 -use_counters=0 -max_len=4096 "$src/tests/fuzz/corpus/$t" "$work" \
            >>"$log" 2>&1
    fi
done
exit $status
