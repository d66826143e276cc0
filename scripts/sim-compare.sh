#!/usr/bin/env bash
# Compares two builds of tempus-sim (e.g. before and after an engine change) on every
# tests/sim scenario: median over seeds 1..N of RMS error, max error, RMS frequency error
# and packets, side by side, with the change of the RMS error in percent.
#   scripts/sim-compare.sh BUILD_A BUILD_B [NSEEDS]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD_A BUILD_B [NSEEDS]" >&2; exit 2; }
a=$1/tempus-sim
b=$2/tempus-sim
n=${3:-11}
for s in "$a" "$b"; do
    [ -x "$s" ] || { echo "no $s" >&2; exit 1; }
done
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
printf "%-12s %12s %12s %8s | %10s %10s | %9s %9s | %7s %7s\n" scenario "rms_us A" "rms_us B" "change" \
    "max A" "max B" "freq A" "freq B" "pkts A" "pkts B"
for f in "$here"/tests/sim/*.scn; do
    name=$(basename "$f" .scn)
    la=$("$a" "$f" --seeds "$n" | grep '^summary median')
    lb=$("$b" "$f" --seeds "$n" | grep '^summary median')
    ra=$(get "$la" rms_us)
    rb=$(get "$lb" rms_us)
    ch=$(awk -v a="$ra" -v b="$rb" 'BEGIN { if (a > 0) printf "%+.0f%%", 100 * (b - a) / a; else print "-" }')
    printf "%-12s %12s %12s %8s | %10s %10s | %9s %9s | %7s %7s\n" "$name" "$ra" "$rb" "$ch" \
        "$(get "$la" max_us)" "$(get "$lb" max_us)" "$(get "$la" rms_freq_ppm)" \
        "$(get "$lb" rms_freq_ppm)" "$(get "$la" packets)" "$(get "$lb" packets)"
done
