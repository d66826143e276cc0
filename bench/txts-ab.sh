#!/usr/bin/env bash
# A/B of kernel transmit timestamps on a client: tempusd -x syncing from Debian's chronyd -x
# (local stratum 2) on loopback, polling every 1/16 s, once with a tempusd that takes T1 from
# the kernel's TX stamp (B, $TEMPUSD) and once with one that reads the clock before the send
# (A, $TEMPUSD_A: a build of a tree before the change). Runs alternate A B A B ... so that the
# machine's load falls on both alike. Per run: the standard deviation and median of the
# offsets and delays of measurements.log (every good sample of the run after the first 5 s),
# and sourcestats' Std Dev at the end.
#
#   TEMPUSD_A=/path/old/tempusd bench/txts-ab.sh [BUILDDIR]
# Environment: DUR_S (40 s a run), ROUNDS (2), WARM_S (5).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
A=${TEMPUSD_A:?TEMPUSD_A: a tempusd without kernel TX timestamps}
[ -x "$A" ] || { echo "missing $A" >&2; exit 1; }
AB_DUR_S=40
ab_init txts-ab "${1:-}"
PORT=$((30000 + $$ % 5000))
ab_chronyd "$PORT"
sleep 1
ab_header "kernel TX timestamps A/B: tempusd -x client of chronyd -x, loopback, poll -4"
echo "| run | TX stamps | samples | offset SD | offset median | delay median | delay SD | sourcestats Std Dev |"
echo "|---|---|---|---|---|---|---|---|"
for k in $(seq 1 "$ROUNDS"); do
    for name in A B; do
        bin=$TEMPUSD
        [ "$name" = A ] && bin=$A
        ab_client_run "$WORK/$name-$k" "$bin" "$PORT"
        ab_summary "$WORK/$name-$k" "$name $k" 1
    done
done
