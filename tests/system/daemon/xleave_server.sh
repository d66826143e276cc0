#!/usr/bin/env bash
# Interleaved mode with kernel transmit timestamps, tempusd as the server: Debian's chronyd -x
# with `xleave` as its client on loopback. chronyc ntpdata shows "Interleaved : Yes" with a
# sane offset and delay; tempusd's serverstats counts interleaved replies and kernel TX
# timestamps (each interleaved reply asks the kernel for its stamp, which the client's next
# interleaved reply carries). Without xleave (a basic client beside it) nothing asks for one.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD" "$CHRONYC"
P=$(port_for 0)
mkdir -m 700 "$WORK/s"
start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/server.pid" "cmdport 0" "bindcmdaddress $WORK/s/sock"
wait_for "$WORK/server.out" 'Disabled control of system clock' 5 || fail "server did not start"
start_chronyd_client "server 127.0.0.1 port $P iburst xleave minpoll -2 maxpoll -2"
# One reading with interleaved replies, 12 good samples and the last sample's offset and
# delay within 1 ms (one clock on both sides: loopback noise only), polled for: one sample
# delayed on a loaded machine says nothing about the server (docs/design/testing.md, rule 3);
# a server whose timestamps are wrong never shows such a reading.
interleaved_12() {
    local good
    "$CHRONYC" -n -h "$WORK/chronyd.sock" ntpdata 127.0.0.1 >"$WORK/chronyc.out" 2>&1 || return 1
    good=$(ntp_field "$WORK/chronyc.out" 'Total good RX')
    grep -q '^Interleaved *: Yes' "$WORK/chronyc.out" && [ "${good:-0}" -ge 12 ] &&
        abs_le "$(ntp_field "$WORK/chronyc.out" Offset)" 0.001 &&
        abs_le "$(ntp_field "$WORK/chronyc.out" 'Peer delay')" 0.001
}
poll_until 60 interleaved_12 ||
    fail "no interleaved reading with 12 good samples and offset, delay < 1 ms: $(cat "$WORK/chronyc.out")"
echo "reading after $POLLED_S s (limit 60 s):"
grep -E '^(Interleaved|Offset|Peer delay|TX timestamping|RX timestamping|Total good RX)' \
    "$WORK/chronyc.out"
"$CHRONYC" -n -h "$WORK/chronyd.sock" sourcestats >"$WORK/sourcestats.out" 2>&1
tail -n 1 "$WORK/sourcestats.out"

"$TEMPUSC" -n -h "$WORK/s/sock" serverstats >"$WORK/serverstats.out" 2>&1 ||
    fail "tempusc serverstats"
il=$(sed -nE 's/^Interleaved NTP packets *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
ktx=$(sed -nE 's/^NTP kernel TX timestamps *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
dtx=$(sed -nE 's/^NTP daemon TX timestamps *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
echo "serverstats: interleaved $il, kernel TX $ktx, daemon TX $dtx"
[ "${il:-0}" -ge 10 ] || fail "interleaved replies: $(cat "$WORK/serverstats.out")"
# every interleaved reply asked for its stamp; the last may not be counted yet
[ "${ktx:-0}" -ge $((il - 2)) ] || fail "kernel TX $ktx for $il interleaved replies"
echo "PASS"
