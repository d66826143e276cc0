#!/usr/bin/env bash
# Static analysis in CI: cppcheck (warning + portability) and clang-tidy (the curated
# bug-finding set in .clang-tidy) over every C file of a configured build directory.
# Usage: scripts/check-static.sh BUILDDIR   (BUILDDIR has compile_commands.json; meson makes it)
# Exit 0 when both are clean, 1 otherwise. False positives are suppressed by name and file in
# scripts/cppcheck-suppressions.txt and .clang-tidy, each with its reason.
set -u
cd "$(dirname "$0")/.."
build=${1:?usage: check-static.sh BUILDDIR}
db=$build/compile_commands.json
[ -f "$db" ] || { echo "check-static: no $db"; exit 1; }
rc=0

# clang-tidy looks at the product code (src/, sim/); cppcheck looks at everything, tests too,
# except the libFuzzer entry points.
files=$(python3 -c '
import json, sys, os
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f)
    if rel.startswith(("src/", "sim/")):
        print(f)' "$db" "$build" | sort -u)

cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
echo "== cppcheck"
if ! cppcheck --project="$db" --enable=warning,portability --inline-suppr -q -j2 \
    --cppcheck-build-dir="$cache" -i tests/fuzz \
    --suppressions-list=scripts/cppcheck-suppressions.txt --error-exitcode=1 \
    --template='{file}:{line}: {severity}: {id}: {message}'; then
    echo "cppcheck: findings above"
    rc=1
fi

echo "== clang-tidy ($(echo "$files" | wc -l) files)"
out=$cache/tidy.log
# shellcheck disable=SC2086
echo "$files" | xargs -P "$(nproc)" -n 6 clang-tidy -p "$build" --quiet >"$out" 2>&1
if grep -qE '(warning|error):' "$out"; then
    grep -E -A3 '(warning|error):' "$out" | head -n 200
    echo "clang-tidy: $(grep -cE '(warning|error):' "$out") findings"
    rc=1
fi
[ $rc -eq 0 ] && echo "static analysis: clean"
exit $rc
