#!/usr/bin/env bash
# selectdata's Score column, tempusd beside chronyd 4.3, on loopback.
#
# Three chronyd -x `local stratum 10` servers on 127.0.0.2, .3 and .4 (one port); a chronyd -x
# client and a tempusd -x client each poll all three at poll -2 with `reselectdist 0`, so the
# three sources' root distances differ only by loopback jitter and the reselection score
# moves. chronyc -c selectdata is read from both clients every 0.5 s (at most 60 readings,
# ending after 10 once tempusd has shown a score above 1); for tempusd:
#  - the selected source's (*) score is 1.0 at every reading (the score is "against the *
#    source": its own is reset to 1 and never grows);
#  - every score is within [1.0, 10.0] (floored at 1; above 10 the source is reselected at
#    once and every score is reset);
#  - at some reading a non-selected survivor shows a score above 1.0 (before session 8 it was
#    always 1.0).
# chronyd's readings are printed beside them (chronyd 4.3 shows the same: 1.0 for *, 4.5 or
# 5.0 for better sources at times, all 1.0 after a reselection) and checked for the first
# two rules as a check of the test itself.
# Daemons are stopped by PID on exit. Usage: select_score.sh TEMPUSD
set -u
TEMPUSD=$(readlink -f "$1")
CHRONYD=${CHRONYD:-/usr/sbin/chronyd}
CHRONYC=${CHRONYC:-/usr/bin/chronyc}
# shellcheck source=tests/system/lib/common.sh
. "$(dirname "$(readlink -f "$0")")/../lib/common.sh"
need_exec "$CHRONYD" "$CHRONYC" "$TEMPUSD"
[ "$(id -u)" = 0 ] || skip "needs root (chronyd -u root keeps its Unix socket reachable)"

work_dir selscore 700
DIR=$WORK
DIE_GLOBS=("*.log")
NTP=$((21000 + ($$ % 1500) * 4))

for i in 2 3 4; do
    cat >"$DIR/s$i.conf" <<CONF
port $NTP
bindaddress 127.0.0.$i
local stratum 10
allow 127.0.0.0/8
cmdport 0
pidfile $DIR/s$i.pid
CONF
done
mkdir -m 0770 "$DIR/c" "$DIR/t"
for who in c t; do
    {
        for i in 2 3 4; do echo "server 127.0.0.$i port $NTP iburst minpoll -2 maxpoll -2"; done
        cat <<CONF
reselectdist 0
port 0
cmdport 0
bindcmdaddress $DIR/$who/sock
pidfile $DIR/$who/pid
CONF
    } >"$DIR/$who.conf"
done

# -x: never touch this machine's clock. -d: foreground, so $! is the daemon.
for i in 2 3 4; do
    "$CHRONYD" -x -d -u root -f "$DIR/s$i.conf" >"$DIR/s$i.log" 2>&1 &
    PIDS+=($!)
done
"$CHRONYD" -x -d -u root -f "$DIR/c.conf" >"$DIR/c.log" 2>&1 &
PIDS+=($!)
"$TEMPUSD" -x -d -u root -f "$DIR/t.conf" >"$DIR/t.log" 2>&1 &
PIDS+=($!)

# check WHO CSV: the rules for one reading; prints "above" when a non-* score is above 1.
check() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
who, text = sys.argv[1], sys.argv[2]
rows = [l.split(",") for l in text.splitlines() if l.count(",") == 17]
bad = []
above = False
for r in rows:
    state, name, score = r[0], r[1], float(r[14])
    if state == "*" and score != 1.0:
        bad.append(f"{name} is * with score {score}")
    if not 1.0 <= score <= 10.0:
        bad.append(f"{name} ({state}) score {score} outside [1, 10]")
    if state in "+-D" and score > 1.0:
        above = True
for b in bad:
    print(f"bad {who}: {b}")
if above:
    print("above")
PY
}

t_above=0 c_above=0 readings=0 t_best='' t_switches=0
for _ in $(seq 1 60); do
    sleep 0.5
    t_out=$("$CHRONYC" -n -c -h "$DIR/t/sock" selectdata 2>&1) || continue
    c_out=$("$CHRONYC" -n -c -h "$DIR/c/sock" selectdata 2>&1) || continue
    grep -q '^\*,' <<<"$t_out" || continue # not selected yet
    readings=$((readings + 1))
    printf '%s\n' "-- tempusd" "$t_out" "-- chronyd" "$c_out" >>"$DIR/readings.log"
    t_res=$(check tempusd "$t_out")
    c_res=$(check chronyd "$c_out")
    if grep -q '^bad' <<<"$t_res"; then fail "$(grep '^bad' <<<"$t_res" | head -3)"; fi
    if grep -q '^bad' <<<"$c_res"; then fail "the test's rules do not hold for chronyd: $c_res"; fi
    grep -q '^above' <<<"$t_res" && t_above=$((t_above + 1))
    grep -q '^above' <<<"$c_res" && c_above=$((c_above + 1))
    best=$(sed -n 's/^\*,\([^,]*\),.*/\1/p' <<<"$t_out")
    [ -n "$t_best" ] && [ "$best" != "$t_best" ] && t_switches=$((t_switches + 1))
    t_best=$best
    [ "$t_above" -ge 1 ] && [ "$readings" -ge 10 ] && break
done
all_alive
[ "$readings" -ge 5 ] || die "tempusd selected a source in only $readings readings of 60"
echo "readings: $readings; a score above 1: tempusd $t_above, chronyd $c_above; tempusd reselections: $t_switches"
if [ "$t_above" -ge 1 ]; then ok "tempusd showed a score above 1.0 for a non-selected source"
else fail "tempusd's scores stayed 1.0 in $readings readings (chronyd above 1 in $c_above)"; fi
tail -8 "$DIR/readings.log"
finish
