#!/usr/bin/env bash
# Is tempusd's own clock discipline unaffected by serving a flood? tempusd -x synchronises from
# Debian's chronyd -x (local stratum 2, 127.0.0.1) at poll -2 (4 requests/s) while its own
# NTP port is idle for PHASE_S seconds, then while bench/ntpload floods it closed-loop for
# PHASE_S seconds (server on SERVER_CPU, load on LOAD_CPU, as the throughput bench). From
# tempusd's measurements log, per phase: samples, median and max |offset|, median and max
# round-trip delay; and the replies/s the flood got. The clock is never touched (-x).
#
#   bench/run-discipline-bench.sh [BUILDDIR]          (about 2 x PHASE_S + 20 s)
# Environment: PHASE_S (40, <= 120), SENDMSG (1: tempusd with nobatchreplies, one sendmsg
# per reply; default: sendmmsg).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
PHASE_S=${PHASE_S:-40}
awk "BEGIN {exit !($PHASE_S > 0 && $PHASE_S <= 120)}" || { echo "PHASE_S must be in (0, 120]" >&2; exit 1; }
echo "# Clock discipline under load"
bench_conditions

cport=$(bench_free_port)
cconf=$(bench_conf chronyd-upstream "$cport" "local stratum 2")
sed -i 's/^local stratum 10$//' "$cconf"
bench_start upstream "$CHRONYD" -x -d -u root -f "$cconf"
upid=$BENCH_PID
bench_wait_ready "$cport" "$upid" 5 || { echo "chronyd did not answer" >&2; exit 1; }

tport=$(bench_free_port)
mkdir -p "$BENCH_TMP/log"
extra=("server 127.0.0.1 port $cport iburst minpoll -2 maxpoll -2" "logdir $BENCH_TMP/log"
    "log measurements")
[ "${SENDMSG:-0}" = 1 ] && extra+=("nobatchreplies")
tconf=$(bench_conf tempusd-disc "$tport" "${extra[@]}")
bench_start tempusd "$TEMPUSD" -x -d -f "$tconf"
tpid=$BENCH_PID
bench_wait_ready "$tport" "$tpid" 5 || { echo "tempusd did not answer" >&2; exit 1; }
sleep 15 # iburst and a few updates before the first phase
mlog=$BENCH_TMP/log/measurements.log

# stats FROM TO: summary of the measurements log lines stamped in [FROM, TO) ("YYYY-MM-DD
# HH:MM:SS" compared as text; the log is buffered, so phases are split by time, not by line)
stats() {
    awk -v a="$1" -v b="$2" '$1 ~ /^[0-9]/ && $3 == "127.0.0.1" && ($1 " " $2) >= a && ($1 " " $2) < b {
        o = $12 + 0; if (o < 0) o = -o; d = $13 + 0; n++; off[n] = o; del[n] = d
        if (o > mo) mo = o; if (d > md) md = d }
        function med(v, n,   i, j, t) { for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
            return n ? (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) : 0 }
        END { printf "%d | %.1f | %.1f | %.1f | %.1f", n, med(off, n) * 1e6, mo * 1e6, med(del, n) * 1e6, md * 1e6 }' "$mlog"
}
now() { date -u '+%Y-%m-%d %H:%M:%S'; }
l0=$(now)
sleep "$PHASE_S"
l1=$(now)
row=$(bench_load -p "$tport" -r 0 -w 256 -b 64 -d "$PHASE_S" -t 1000 -a 1000 -P 4 -l flood)
l2=$(now)
sleep 1
bench_stop "$tpid" # flushes the log
echo
echo "| phase | samples | median abs offset (us) | max abs offset (us) | median delay (us) | max delay (us) | flood replies/s |"
echo "|---|---|---|---|---|---|---|"
echo "| idle | $(stats "$l0" "$l1") | — |"
echo "| flooded | $(stats "$l1" "$l2") | $(csv_field "$row" 7) |"
