#!/usr/bin/env bash
# Kernel receive timestamps on loopback, where Linux gives software RX stamps: a tempusd
# client (-x) of a tempusd server (-x) shows "RX timestamping : Kernel" in tempusc ntpdata
# (its per-request sockets with random source ports), and the server's serverstats counts
# its requests under "NTP kernel RX timestamps". With chronyd -x as the client too, chronyc
# ntpdata shows what chronyd 4.3 reports in the same setup (printed for comparison).
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
need "$TEMPUSD" "$TEMPUSC"
P=$(port_for 0)
mkdir -m 700 "$WORK/s" "$WORK/c"
start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/server.pid" "cmdport 0" "bindcmdaddress $WORK/s/sock"
# the warning would come with the NTP socket, before this line (the line before it came first)
wait_for "$WORK/server.out" 'Running with root privileges' 20 || fail "server did not start"
grep -q 'No kernel receive timestamps' "$WORK/server.out" && fail "server socket without stamps"
start_bg client "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2" \
    "pidfile $WORK/client.pid" "cmdport 0" "bindcmdaddress $WORK/c/sock"
wait_for "$WORK/client.out" 'reach 377' 60 || fail "client: reach 377 not seen"

"$TEMPUSC" -n -h "$WORK/c/sock" ntpdata 127.0.0.1 >"$WORK/ntpdata.out" 2>&1 ||
    fail "tempusc ntpdata"
grep -q '^RX timestamping : Kernel$' "$WORK/ntpdata.out" || fail "ntpdata: $(cat "$WORK/ntpdata.out")"
grep '^RX timestamping' "$WORK/ntpdata.out"
# Local address: the address the replies arrived on (IP_PKTINFO), as chronyd prints it
# (was 0.0.0.0).
grep -q '^Local address   : 127\.0\.0\.1 (7F000001)$' "$WORK/ntpdata.out" ||
    fail "ntpdata local address: $(grep '^Local' "$WORK/ntpdata.out")"

"$TEMPUSC" -n -h "$WORK/s/sock" serverstats >"$WORK/serverstats.out" 2>&1 ||
    fail "tempusc serverstats"
k=$(sed -nE 's/^NTP kernel RX timestamps *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
d=$(sed -nE 's/^NTP daemon RX timestamps *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
h=$(sed -nE 's/^NTP packets received *: ([0-9]+)$/\1/p' "$WORK/serverstats.out")
[ -n "$k" ] && [ "$k" -ge 8 ] || fail "serverstats kernel RX: $(cat "$WORK/serverstats.out")"
[ "$d" = 0 ] || fail "serverstats daemon RX $d (every loopback request has a kernel stamp)"
[ "$k" -le "$h" ] || fail "kernel RX $k > requests $h"
echo "serverstats: kernel RX $k daemon RX $d of $h requests"

if [ -x "$CHRONYD" ] && [ -x /usr/bin/chronyc ]; then
    start_chronyd_client "server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2"
    for _ in $(seq 1 100); do
        /usr/bin/chronyc -n -h "$WORK/chronyd.sock" ntpdata 127.0.0.1 >"$WORK/chronyc.out" 2>&1 &&
            grep -q '^Total good RX *: [1-9]' "$WORK/chronyc.out" && break
        sleep 0.2
    done
    echo "chronyd 4.3 -x, same setup: $(grep '^RX timestamping' "$WORK/chronyc.out");" \
        "$(grep '^Local address' "$WORK/chronyc.out")"
fi
echo "PASS"
