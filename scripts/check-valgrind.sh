#!/usr/bin/env bash
# The test suite under valgrind memcheck. Any memcheck error or definite/indirect leak fails.
# Usage: scripts/check-valgrind.sh [BUILDDIR [SUITE...]]   (default: build-valgrind, unit sim fuzz)
#   unit, sim, fuzz: every tempus program a test runs (test binaries, tempus-sim, tempusd,
#     tempusc started by scripts) is traced; system programs (bash, python3, chronyd, ...) not.
#   system: the system tests in VALGRIND_SYSTEM_TESTS (default: the list below) with the real
#     tempusd and tempusc: for that run the build's tempusd and tempusc are wrappers that start
#     the binaries under memcheck, each process logging to BUILDDIR/valgrind-logs/; every log
#     must end with "ERROR SUMMARY: 0 errors" (a test may kill a daemon without looking at its
#     exit status, so the logs are read, not only exit codes). The binaries are put back after.
# A plain (sanitizer-free) debug build: valgrind and ASan do not mix.
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-valgrind}
shift || true
suites=()
system=0
for s in "$@"; do
    if [ "$s" = system ]; then system=1; else suites+=("$s"); fi
done
[ $# -eq 0 ] && suites=(unit sim fuzz)
# The system tests that run under valgrind (the rest and why: docs/design/hardening.md).
# Chosen to fit CI (about 3 min on 2 shared cores): the daemon as server and client, its
# control server under tempusc and the probe sweep, rate limiting, tempusc's transport.
default_system_tests="daemon_cli daemon_sync_chronyd daemon_server_client daemon_rx_timestamps
daemon_local_options ratelimit tempusc_transport attack_probe"
read -r -a system_tests <<<"$(echo ${VALGRIND_SYSTEM_TESTS:-$default_system_tests})"

# A run killed before its clean-up left the memcheck wrappers in place: put the binaries back
# before ninja looks at them.
for b in tempusd tempusc; do
    [ -f "$build/$b.real" ] && mv -f "$build/$b.real" "$build/$b"
done
if [ ! -d "$build" ]; then
    meson setup "$build" --buildtype=debug >"$build.setup.log" 2>&1 || { cat "$build.setup.log"; exit 1; }
fi
meson compile -C "$build" >"$build.compile.log" 2>&1 || { tail -n 40 "$build.compile.log"; exit 1; }
vg_opts="-q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --suppressions=$root/scripts/valgrind.supp"
# Valgrind slows programs 20-50x: multiply every test's timeout. Tests that cannot run under
# valgrind (a seccomp filter would police valgrind's own system calls) skip on TEMPUS_VALGRIND.
export TEMPUS_VALGRIND=1
rc=0
if [ ${#suites[@]} -gt 0 ]; then
    args=()
    for s in "${suites[@]}"; do args+=(--suite "$s"); done
    meson test -C "$build" --print-errorlogs --num-processes 2 -t 10 \
        --wrapper "valgrind $vg_opts --trace-children=yes --trace-children-skip=/usr/*,/bin/*,/sbin/*" \
        "${args[@]}" || rc=1
fi
[ $system = 0 ] && exit $rc

# --- system tests: tempusd and tempusc replaced by memcheck wrappers for the run
logs=$(cd "$build" && pwd)/valgrind-logs
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs" # daemons that dropped to another user still write their fork's log here
restore() {
    local b
    for b in tempusd tempusc; do
        [ -f "$build/$b.real" ] && mv -f "$build/$b.real" "$build/$b"
    done
}
trap restore EXIT
for b in tempusd tempusc; do
    mv "$build/$b" "$build/$b.real" || exit 1
    # --log-file: memcheck's report goes to a file of its own per process (%p), not into the
    # output the test parses.
    cat >"$build/$b" <<EOF
#!/bin/sh
exec valgrind $vg_opts --log-file=$logs/$b.%p.log "$(cd "$build" && pwd)/$b.real" "\$@"
EOF
    chmod 755 "$build/$b"
done
start=$(date +%s)
meson test -C "$build" --no-rebuild --print-errorlogs --num-processes 2 -t 10 "${system_tests[@]}" || rc=1
restore
n=0 bad=0
for f in "$logs"/*.log; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    # -q: a clean run logs nothing; anything else is a memcheck report (or valgrind's warning).
    if [ -s "$f" ]; then
        bad=$((bad + 1))
        echo "---- $f"
        head -n 60 "$f"
    fi
done
echo "valgrind system: ${#system_tests[@]} tests, $n processes traced, $bad with a report," \
    "$(($(date +%s) - start)) s"
[ "$n" -gt 0 ] || { echo "no process ran under valgrind"; rc=1; }
[ $bad -eq 0 ] || rc=1
exit $rc
