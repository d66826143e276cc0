#!/usr/bin/env bash
# The test command (README, "Quick start"): installs what is missing, builds, runs every test.
#   1. a --werror build (build-check/) and its whole test suite but the 'asanonly' tests;
#   2. the same suite under ASan+UBSan in its own build directory (build-asan/), but the
#      'noasan' tests (every test runs at least once; the lists: tests/system/meson.build);
#      build-asan/ compiles (niced) while the --werror tests run;
#   3. once: static analysis (cppcheck, clang-tidy), the unit and fuzz suites and a set of
#      system tests (tempusd, tempusc) under valgrind memcheck, the install layout, the
#      Debian package and RPM spec, the Ansible fleet rollout;
#   4. clang-format and the layering check (with its self-test).
# Every step prints its wall time ("== NAME: ... (N s)"), and a table of them at the end.
# The Ansible fleet test runs in the background beside the other once-only checks (its log is
# printed whole when it ends).
# Ends with one line "N passed, N failed[, N skipped]" and exits non-zero on any failure.
# TEMPUS_SUITES="unit sim" limits the meson suites (default: all of them).
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/deps.sh test || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
failures=()
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); failures+=("$1"); }
T_CHECK=$SECONDS
timings=() # "SECONDS NAME" per step, printed at the end
timed() { timings+=("$(printf '%5d s  %s' "$1" "$2")"); }

suite_args=()
for s in ${TEMPUS_SUITES:-}; do suite_args+=(--suite "$s"); done

# build_meson DIR SETUP-ARGS...: configure and build; exit 0, or 1 (setup) or 2 (build) after
# printing the log's end.
build_meson() {
    local dir=$1
    shift
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1 || rm -rf "$dir"
    fi
    if [ ! -d "$dir" ] && ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
        cat "$dir.setup.log"; return 1
    fi
    if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
        tail -n 60 "$dir.compile.log"; return 2
    fi
}

# built NAME RC SECONDS: counts build_meson's result; 0 when the tests can run.
built() {
    case $2 in
    0) ok; timed "$3" "$1: setup and build"; echo "== $1: built in $3 s" ;;
    1) ko "$1: meson setup" ;;
    *) ko "$1: build" ;;
    esac
    return "$2"
}

# test_meson DIR NAME SKIP-SUITE: runs the suites (but the tests of suite SKIP-SUITE); counts
# each test's result.
test_meson() {
    local dir=$1 name=$2 skip_suite=$3 t0=$SECONDS
    echo "== $name: running tests"
    meson test -C "$dir" --print-errorlogs --num-processes 2 "${suite_args[@]}" \
        --no-suite "$skip_suite" 2>&1 |
        grep -vE '^ *[0-9]+/[0-9]+ .* (OK|SKIP) ' | tail -n 200
    local counts
    counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0; names = []
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r["result"] in ("OK", "EXPECTEDFAIL"): p += 1
        elif r["result"] == "SKIP": s += 1
        else: f += 1; names.append(r["name"])
except FileNotFoundError:
    f = 1; names.append("no test log")
print(p, f, s, " ".join(names))
PY
)
    read -r p f s names <<<"$counts"
    passed=$((passed + p)); skipped=$((skipped + s)); failed=$((failed + f))
    [ "$f" -gt 0 ] && failures+=("$name: $names")
    timed $((SECONDS - t0)) "$name: tests"
    echo "== $name: $p passed, $f failed, $s skipped ($((SECONDS - t0)) s)"
}

# Tests that need one run only (docs/design/hardening.md, "CI time"): suite 'asanonly' runs in
# the ASan build only, suite 'noasan' in the --werror build only.
t0=$SECONDS
build_meson build-check --werror
built werror $? $((SECONDS - t0)) && werror_ok=1 || werror_ok=0
# The ASan build compiles (niced, its output in a log) while the --werror tests run: they
# spend much of their time waiting for daemons to synchronise.
asan_log=$(mktemp /tmp/tempus-check-asan.XXXXXX)
asan_t0=$SECONDS
(
    renice -n 10 -p "$BASHPID" >/dev/null
    export CC=${ASAN_CC:-gcc}
    build_meson build-asan -Db_sanitize=address,undefined -Db_lundef=false
) >"$asan_log" 2>&1 &
asan_pid=$!
[ "$werror_ok" = 1 ] && test_meson build-check werror asanonly
wait "$asan_pid"
asan_rc=$?
cat "$asan_log"
rm -f "$asan_log"
built asan "$asan_rc" $((SECONDS - asan_t0)) && test_meson build-asan asan noasan

# count NAME RC SECONDS: a once-only check's result (exit 77 = skip).
count() {
    case $2 in
    0) ok; echo "== $1: passed ($3 s)" ;;
    77) skipped=$((skipped + 1)); echo "== $1: skipped ($3 s)" ;;
    *) ko "$1"; echo "== $1: FAILED, exit $2 ($3 s)" ;;
    esac
    timed "$3" "$1"
}
# run_once NAME CMD...: a check that runs once, outside the two meson builds.
run_once() {
    local name=$1 t0=$SECONDS rc
    shift
    echo "== $name"
    "$@"
    rc=$?
    count "$name" "$rc" $((SECONDS - t0))
}
# run_bg NAME CMD... / wait_bg: the same, in the background with its output in a log that
# wait_bg prints whole (one background check at a time).
run_bg() {
    bg_name=$1 bg_t0=$SECONDS bg_log=$(mktemp /tmp/tempus-check-bg.XXXXXX)
    shift
    echo "== $bg_name: started in the background"
    "$@" >"$bg_log" 2>&1 &
    bg_pid=$!
}
wait_bg() {
    local rc
    wait "$bg_pid"
    rc=$?
    echo "== $bg_name (background) output:"
    cat "$bg_log"
    rm -f "$bg_log"
    count "$bg_name" "$rc" $((SECONDS - bg_t0))
}
if [ -z "${TEMPUS_SUITES:-}" ]; then
    # The fleet test's wall time is mostly waiting (SSH round trips, four hosts' Python
    # start-ups, waitsync), so it overlaps the CPU-bound checks below; valgrind's system
    # tests have timeouts and wait for it.
    run_bg "ansible fleet" tests/deploy/fleet.sh
    run_once "static analysis" scripts/check-static.sh build-check
    run_once "valgrind" scripts/check-valgrind.sh build-valgrind unit fuzz
    run_once "install layout" tests/install/layout.sh
    run_once "debian package" tests/package/deb.sh
    run_once "rpm spec" tests/package/rpm.sh
    wait_bg
    run_once "valgrind system" scripts/check-valgrind.sh build-valgrind system
fi

if scripts/check-format.sh; then ok; else ko "clang-format"; fi
if [ -d build-check ] && scripts/check-layering.sh build-check; then ok; else ko "layering"; fi
if scripts/check-layering.sh --self-test; then ok; else ko "layering self-test"; fi

echo "== wall time per step (total $((SECONDS - T_CHECK)) s):"
printf '  %s\n' "${timings[@]}"

if [ ${#failures[@]} -gt 0 ]; then
    echo "Failures:"
    printf '  %s\n' "${failures[@]}"
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
