#!/usr/bin/env bash
# Fails if clang-format (14, as on Debian 12) would change any C file of the project.
# With --fix, reformats them instead.
set -u
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format) || { echo "clang-format not found"; exit 1; }
# The project's C files: git's list in a checkout (untracked ones too), else every file below
# the source directories (an unpacked tarball).
list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard -- '*.c' '*.h'
    else
        find src sim tests bench -name '*.[ch]' 2>/dev/null
    fi
}
mapfile -t files < <(list_files | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ "${1:-}" = --fix ]; then
    "$cf" -i "${files[@]}"
    exit 0
fi
bad=0
for f in "${files[@]}"; do
    "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || { echo "format: $f (run scripts/check-format.sh --fix)"; bad=1; }
done
[ $bad -eq 0 ] && echo "format: ${#files[@]} files clean"
exit $bad
