#!/usr/bin/env bash
# The test command (README, "Quick start"): installs what is missing, builds, runs every test.
#   1. a --werror build (build-check/) and its whole test suite but the 'asanonly' tests;
#   2. the same suite under ASan+UBSan in its own build directory (build-asan/), but the
#      'noasan' tests (every test runs at least once; the lists: tests/system/meson.build);
#   3. once: static analysis (cppcheck, clang-tidy), the unit and fuzz suites and a set of
#      system tests (tempusd, tempusc) under valgrind memcheck, the install layout, the
#      Debian package and RPM spec, the Ansible fleet rollout;
#   4. clang-format and the layering check (with its self-test).
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

suite_args=()
for s in ${TEMPUS_SUITES:-}; do suite_args+=(--suite "$s"); done

# run_meson DIR NAME SKIP-SUITE SETUP-ARGS...: configure, build, test (but the tests of suite
# SKIP-SUITE); counts each test's result.
run_meson() {
    local dir=$1 name=$2 skip_suite=$3
    shift 3
    if [ -d "$dir" ]; then
        meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1 || rm -rf "$dir"
    fi
    if [ ! -d "$dir" ] && ! meson setup "$dir" "$@" >"$dir.setup.log" 2>&1; then
        cat "$dir.setup.log"; ko "$name: meson setup"; return
    fi
    if ! meson compile -C "$dir" >"$dir.compile.log" 2>&1; then
        tail -n 60 "$dir.compile.log"; ko "$name: build"; return
    fi
    ok
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
    echo "== $name: $p passed, $f failed, $s skipped"
}

# Tests that need one run only (docs/design/hardening.md, "CI time"): suite 'asanonly' runs in
# the ASan build only, suite 'noasan' in the --werror build only.
run_meson build-check werror asanonly --werror
CC=${ASAN_CC:-gcc} run_meson build-asan asan noasan -Db_sanitize=address,undefined -Db_lundef=false

# run_once NAME CMD...: a check that runs once, outside the two meson builds; exit 77 = skip.
run_once() {
    local name=$1
    shift
    echo "== $name"
    "$@"
    case $? in
    0) ok ;;
    77) skipped=$((skipped + 1)); echo "== $name: skipped" ;;
    *) ko "$name" ;;
    esac
}
if [ -z "${TEMPUS_SUITES:-}" ]; then
    run_once "static analysis" scripts/check-static.sh build-check
    run_once "valgrind" scripts/check-valgrind.sh build-valgrind unit fuzz
    run_once "valgrind system" scripts/check-valgrind.sh build-valgrind system
    run_once "install layout" tests/install/layout.sh
    run_once "debian package" tests/package/deb.sh
    run_once "rpm spec" tests/package/rpm.sh
    run_once "ansible fleet" tests/deploy/fleet.sh
fi

if scripts/check-format.sh; then ok; else ko "clang-format"; fi
if [ -d build-check ] && scripts/check-layering.sh build-check; then ok; else ko "layering"; fi
if scripts/check-layering.sh --self-test; then ok; else ko "layering self-test"; fi

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
