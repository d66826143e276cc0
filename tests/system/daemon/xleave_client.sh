#!/usr/bin/env bash
# Interleaved mode, tempusd as the client (`server ... xleave`), all -x on loopback, in
# parallel:
#  A. a tempusd -x server: tempusc ntpdata "Interleaved : Yes", offset and delay sane, the
#     measurements log's mode column 4I, the server counts interleaved replies;
#  B. Debian's chronyd -x server: the same, and a chronyd -x xleave client beside it shows
#     "Interleaved : Yes" in chronyc ntpdata too (what tempusd is compared with);
#  C. a basic-only server (ntpserver.py): tempusd falls back to basic mode ("Interleaved :
#     No", 12 good samples; that every basic reply is used is core_xleave's test).
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD" "$CHRONYC" "$PY"
PA=$(port_for 0)
PB=$(port_for 1)
PC=$(port_for 2)
mkdir -m 700 "$WORK/s" "$WORK/a" "$WORK/b" "$WORK/c" "$WORK/loga"
start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $PA" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/server.pid" "cmdport 0" "bindcmdaddress $WORK/s/sock"
start_chronyd_server "$PB"
start_bg ntpserver "$PY" "$NTPSERVER" "$PC"
wait_for "$WORK/server.out" 'Disabled control of system clock' 5 || fail "server did not start"
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"
client() { # NAME PORT [directives]
    local name=$1 port=$2
    shift 2
    start_bg "$name" "$TEMPUSD" -x -d -u root \
        "server 127.0.0.1 port $port iburst xleave minpoll -2 maxpoll -2" \
        "pidfile $WORK/$name.pid" "cmdport 0" "bindcmdaddress $WORK/$name/sock" "$@"
}
client a "$PA" "logdir $WORK/loga" "log measurements"
client b "$PB"
client c "$PC"
cat >"$WORK/chronyc.conf" <<CONF
server 127.0.0.1 port $PB iburst xleave minpoll -2 maxpoll -2
port 0
cmdport 0
bindcmdaddress $WORK/chronyc.sock
pidfile $WORK/chronyc.pid
CONF
start_bg chronyclient "$CHRONYD" -x -d -u root -f "$WORK/chronyc.conf"

# ready FILE [basic|any-offset]: interleaved (or, with "basic", not), at least 12 good replies
# and (but for chronyd's client, "any-offset") the last sample's offset and delay within 1 ms:
# one clock on every side, loopback noise only. Judged on one reading, polled for: a single
# sample can be late by milliseconds on a loaded machine (ntpserver.py, Python, read its
# transmit time and was preempted before the send: offset -1.6 ms, delay 3.2 ms, at load 24),
# which says nothing about the client; a client whose offsets are wrong never shows a reading.
ready() {
    local good off delay
    good=$(ntp_field "$1" 'Total good RX')
    [ "${good:-0}" -ge 12 ] || return 1
    if [ "${2:-}" != any-offset ]; then
        off=$(ntp_field "$1" Offset)
        delay=$(ntp_field "$1" 'Peer delay')
        abs_le "${off:-x}" 0.001 && abs_le "${delay:-x}" 0.001 || return 1
    fi
    if [ "${2:-}" = basic ]; then
        grep -q '^Interleaved *: No' "$1"
    else
        grep -q '^Interleaved *: Yes' "$1"
    fi
}
done_a=0 done_b=0 done_c=0 done_chr=0
all_ready() {
    [ $done_a = 1 ] || { "$TEMPUSC" -n -h "$WORK/a/sock" ntpdata 127.0.0.1 >"$WORK/a.ntpdata" 2>&1 &&
        ready "$WORK/a.ntpdata" && done_a=1; }
    [ $done_b = 1 ] || { "$TEMPUSC" -n -h "$WORK/b/sock" ntpdata 127.0.0.1 >"$WORK/b.ntpdata" 2>&1 &&
        ready "$WORK/b.ntpdata" && done_b=1; }
    [ $done_c = 1 ] || { "$TEMPUSC" -n -h "$WORK/c/sock" ntpdata 127.0.0.1 >"$WORK/c.ntpdata" 2>&1 &&
        ready "$WORK/c.ntpdata" basic && done_c=1; }
    [ $done_chr = 1 ] || { "$CHRONYC" -n -h "$WORK/chronyc.sock" ntpdata 127.0.0.1 >"$WORK/chr.ntpdata" 2>&1 &&
        ready "$WORK/chr.ntpdata" any-offset && done_chr=1; }
    [ $((done_a + done_b + done_c + done_chr)) = 4 ]
}
poll_until 60 all_ready
echo "ready after $POLLED_S s (limit 60 s)"
for n in a b c chr; do
    ntp_summary "$WORK/$n.ntpdata" "-- $n"
done
[ $done_a = 1 ] || fail "A (tempusd server): $(cat "$WORK/a.ntpdata")"
[ $done_b = 1 ] || fail "B (chronyd server): $(cat "$WORK/b.ntpdata")"
[ $done_chr = 1 ] || fail "B (chronyd client of chronyd): $(cat "$WORK/chr.ntpdata")"
[ $done_c = 1 ] || fail "C (basic-only server): $(cat "$WORK/c.ntpdata")"
# the readings ready() accepted (a failure above shows the last one)
for n in a b c; do
    off=$(ntp_field "$WORK/$n.ntpdata" Offset)
    delay=$(ntp_field "$WORK/$n.ntpdata" 'Peer delay')
    abs_le "$off" 0.001 || fail "$n: offset $off"
    abs_le "$delay" 0.001 || fail "$n: peer delay $delay"
done
# A: the measurements log says interleaved (4I), the server counted interleaved replies
tail -n 1 "$WORK/loga/measurements.log"
tail -n 1 "$WORK/loga/measurements.log" | grep -Eq ' 4I [KD] [KD]$' ||
    fail "measurements.log: $(tail -n 3 "$WORK/loga/measurements.log")"
"$TEMPUSC" -n -h "$WORK/s/sock" serverstats >"$WORK/serverstats.out" 2>&1 || fail "serverstats"
il=$(sed -nE 's/^Interleaved NTP packets *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
echo "tempusd server: interleaved replies $il"
[ "${il:-0}" -ge 10 ] || fail "interleaved replies: $(cat "$WORK/serverstats.out")"
echo "PASS"
