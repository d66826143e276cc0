#!/usr/bin/env bash
# Kernel transmit timestamps on loopback (Linux gives software TX stamps through the socket's
# error queue): tempusd -x syncing from Debian's chronyd -x shows "TX timestamping : Kernel"
# in tempusc ntpdata, and every good measurement's T1 is a kernel stamp ("Total kernel TX"
# close to "Total TX"); the measurements log's TX column says K.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD"
P=$(port_for 0)
mkdir -m 700 "$WORK/c" "$WORK/log"
start_chronyd_server "$P"
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"
start_bg client "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2" \
    "pidfile $WORK/client.pid" "cmdport 0" "bindcmdaddress $WORK/c/sock" \
    "logdir $WORK/log" "log measurements"
wait_for "$WORK/client.out" 'reach 377' 60 || fail "client: reach 377 not seen"

m=$WORK/log/measurements.log
# One reading (ntpdata and the measurements log's last line) judged: polled for up to 15 s
# until the last request shows its kernel stamp. The stamp comes from the error queue after
# the send; a reading in between (4 requests/s here; likely on a loaded machine) shows Daemon.
# The counts below cover every request of the run.
stamped() {
    "$TEMPUSC" -n -h "$WORK/c/sock" ntpdata 127.0.0.1 >"$WORK/ntpdata.out" 2>&1 &&
        grep -q '^TX timestamping : Kernel$' "$WORK/ntpdata.out" &&
        # chrony's measurements.log: ... TX RX-source columns near the end: "K K"
        tail -n 1 "$m" 2>/dev/null | grep -Eq ' K K( |$)'
}
poll_until 15 stamped
grep -E '^(TX|RX) timestamping|^Total (kernel )?TX' "$WORK/ntpdata.out"
grep -q '^TX timestamping : Kernel$' "$WORK/ntpdata.out" || fail "ntpdata: $(cat "$WORK/ntpdata.out")"
tx=$(sed -nE 's/^Total TX *: ([0-9]+)$/\1/p' "$WORK/ntpdata.out")
ktx=$(sed -nE 's/^Total kernel TX *: ([0-9]+)$/\1/p' "$WORK/ntpdata.out")
[ -n "$ktx" ] && [ "$ktx" -ge 8 ] && [ "$ktx" -le "$tx" ] || fail "kernel TX $ktx of $tx"
# the first request may leave before the error queue is read once; every later one has a stamp
[ $((tx - ktx)) -le 2 ] || fail "only $ktx of $tx requests had a kernel TX timestamp"
[ -f "$m" ] || fail "no measurements.log"
tail -n 2 "$m"
tail -n 1 "$m" | grep -Eq ' K K( |$)' || fail "measurements.log TX/RX columns: $(tail -n 1 "$m")"
echo "PASS"
