#!/usr/bin/env bash
# The test suite under valgrind memcheck: every tempus program a test runs (test binaries,
# tempus-sim, tempusd, tempusc started by scripts) is traced; system programs (bash, python3,
# chronyd, ...) are not. Any memcheck error or definite/indirect leak fails the test.
# Usage: scripts/check-valgrind.sh [BUILDDIR [SUITE...]]   (default: build-valgrind, unit sim fuzz)
# A plain (sanitizer-free) debug build: valgrind and ASan do not mix.
set -u
cd "$(dirname "$0")/.."
build=${1:-build-valgrind}
shift || true
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit sim fuzz)
if [ ! -d "$build" ]; then
    meson setup "$build" --buildtype=debug >"$build.setup.log" 2>&1 || { cat "$build.setup.log"; exit 1; }
fi
meson compile -C "$build" >"$build.compile.log" 2>&1 || { tail -n 40 "$build.compile.log"; exit 1; }
wrapper="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
--show-leak-kinds=definite,indirect --trace-children=yes --trace-children-skip=/usr/*,/bin/*,/sbin/* \
--suppressions=$(pwd)/scripts/valgrind.supp"
args=()
for s in "${suites[@]}"; do args+=(--suite "$s"); done
# Valgrind slows programs 20-50x: multiply every test's timeout. Tests that cannot run under
# valgrind (a seccomp filter would police valgrind's own system calls) skip on TEMPUS_VALGRIND.
export TEMPUS_VALGRIND=1
meson test -C "$build" --print-errorlogs --num-processes 2 -t 10 --wrapper "$wrapper" "${args[@]}"
