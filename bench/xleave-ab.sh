#!/usr/bin/env bash
# A/B of interleaved mode on a client: tempusd -x syncing on loopback from a tempusd -x server
# and from Debian's chronyd -x (both local stratum 2), polling every 1/16 s, once in basic mode
# (A: `server ... ` without xleave) and once interleaved (B: `xleave`); the same binary, T1 the
# kernel's TX stamp in both. Runs alternate A B A B ... per server so that the machine's load
# falls on both alike. Per run: the standard deviation and median of the offsets and delays of
# measurements.log (every good sample of the run after the first 5 s; the mode column says B
# or I), and sourcestats' Std Dev at the end.
#
#   bench/xleave-ab.sh [BUILDDIR]
# Environment: DUR_S (30 s a run), ROUNDS (2), WARM_S (5), SERVERS ("tempusd chronyd").
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
AB_DUR_S=30
ab_init xleave-ab "${1:-}"
SERVERS=${SERVERS:-tempusd chronyd}
PORT_T=$((30000 + $$ % 5000))
PORT_C=$((PORT_T + 1))
mkdir -m 700 "$WORK/srv"
"$TEMPUSD" -x -d -u root "local stratum 2" "port $PORT_T" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/srv/pid" "cmdport 0" "bindcmdaddress $WORK/srv/sock" \
    >"$WORK/tempusd.out" 2>&1 &
AB_PIDS+=($!)
ab_chronyd "$PORT_C"
sleep 1
ab_header "interleaved mode A/B: tempusd -x client, loopback, poll -4, kernel TX/RX stamps"
echo "| server | run | modes | samples | offset SD | offset median | delay median | delay SD | sourcestats Std Dev |"
echo "|---|---|---|---|---|---|---|---|---|"
for srv in $SERVERS; do
    port=$PORT_T
    [ "$srv" = chronyd ] && port=$PORT_C
    for k in $(seq 1 "$ROUNDS"); do
        for mode in A B; do
            opt=
            [ "$mode" = B ] && opt=" xleave"
            dir=$WORK/$srv-$mode-$k
            ab_client_run "$dir" "$TEMPUSD" "$port" "$opt"
            ab_summary "$dir" "$srv | $mode $k" 2
        done
    done
done
