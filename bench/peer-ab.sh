#!/usr/bin/env bash
# A/B of symmetric peers on loopback, basic vs interleaved: tempusd -x (127.0.0.1) and Debian's
# chronyd -x (127.0.0.2, `local stratum 5`, so tempusd syncs to it) each the other's `peer`
# at poll 0, DUR_S seconds per run, basic (`peer ...`) then interleaved (`peer ... xleave`),
# ROUNDS rounds alternating. Per run, from both daemons' measurements.log (skipping the first
# 5 samples): samples, how many were interleaved (the mode column's I), offset mean and SD,
# delay mean. chronyd's samples of tempusd fail test D (tempusd is synchronised to it) but are
# logged with their offset and delay all the same.
#
#   bench/peer-ab.sh [BUILDDIR]        Environment: DUR_S (40), ROUNDS (2)
# (bench/lib.sh's ab_init: the work directory, and the EXIT trap that stops the daemons by PID)
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
AB_DUR_S=40
AB_ROUNDS=2
ab_init peer-ab "${1:-}"
P=$((30000 + $$ % 5000))
stats() { # LOG IP WHO RUN
    awk -v w="$3" -v ip="$2" -v m="$4" '$1 ~ /^20/ && $3 == ip { n++; o[n] = $12; d[n] = $13
            if ($(NF - 2) ~ /I/) il[n] = 1 }
        END { k = 0; s = 0; ss = 0; ds = 0; c = 0
            for (i = 6; i <= n; i++) { k++; s += o[i]; ss += o[i] * o[i]; ds += d[i]; c += il[i] }
            if (k == 0) { printf "| %s | %s | 0 | | | | |\n", m, w; exit }
            mu = s / k
            printf "| %s | %s | %d | %d | %+.2f | %.2f | %.1f |\n", m, w, k, c, mu * 1e6,
                sqrt(ss / k - mu * mu) * 1e6, ds / k * 1e6 }' "$1"
}
ab_header "symmetric peers A/B: tempusd -x and chronyd -x peers on loopback, poll 0, basic vs xleave"
echo "| run | measured by | samples | interleaved | offset mean (us) | offset SD (us) | delay mean (us) |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
    for mode in basic xleave; do
        XL=
        [ $mode = xleave ] && XL=xleave
        W=$WORK/$mode$round
        mkdir -m 700 "$W" "$W/log" "$W/clog"
        "$TEMPUSD" -x -d -u root "port $P" "bindaddress 127.0.0.1" \
            "peer 127.0.0.2 port $P minpoll 0 maxpoll 0 $XL" "pidfile $W/t.pid" "cmdport 0" \
            "bindcmdaddress $W/t.sock" "logdir $W/log" "log measurements" >"$W/t.out" 2>&1 &
        T=$!
        AB_PIDS+=("$T")
        printf '%s\n' "local stratum 5" "port $P" "bindaddress 127.0.0.2" \
            "peer 127.0.0.1 port $P minpoll 0 maxpoll 0 $XL" "cmdport 0" \
            "bindcmdaddress $W/c.sock" "pidfile $W/c.pid" "logdir $W/clog" \
            "log measurements" >"$W/c.conf"
        "$CHRONYD" -x -d -u root -f "$W/c.conf" >"$W/c.out" 2>&1 &
        C=$!
        AB_PIDS+=("$C")
        sleep "$DUR_S"
        kill "$T" "$C"
        wait "$T" "$C" 2>/dev/null
        stats "$W/log/measurements.log" 127.0.0.2 tempusd "$mode $round"
        stats "$W/clog/measurements.log" 127.0.0.1 chronyd "$mode $round"
    done
done
