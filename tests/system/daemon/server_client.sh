#!/usr/bin/env bash
# tempusd serves time: a tempusd server (-x, local stratum 2, allow 127.0.0.1) and a tempusd
# client (-x) on loopback: the client reaches stratum 3 / reach 377 with a sane offset;
# Debian's chronyd -Q -x accepts our replies; a deny rule silences the server.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD"
P=$(port_for 2)
start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/server.pid" "driftfile $WORK/server.drift"
# every socket is open when it says so (a fixed sleep 0.3 after the line before)
wait_for "$WORK/server.out" 'Running with root privileges' 20 || fail "server did not start"

start_bg client "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2" \
    "pidfile $WORK/client.pid"
wait_for "$WORK/client.out" 'source: \^\* 127\.0\.0\.1 stratum 2 poll -?[0-9]+ reach 377' 60 ||
    fail "client: reach 377 at stratum 2 not seen within a minute"
line=$(grep -E 'tracking: ref 127\.0\.0\.1' "$WORK/client.out" | tail -n 1)
[[ $line =~ stratum\ 3\  ]] || fail "client stratum is not 3: $line"
off=$(sed -E 's/.*last offset ([-+0-9.e]+) s.*/\1/' <<<"$line")
abs_le "$off" "$LOOPBACK_OFF_S" || fail "offset $off not sane"
echo "client: $line"

if [ -x "$CHRONYD" ]; then
    # chronyd -Q only prints; -x on top, as every real daemon here.
    "$CHRONYD" -Q -x "server 127.0.0.1 port $P iburst" "pidfile $WORK/cq.pid" >"$WORK/chronyd-q.out" 2>&1
    rc=$?
    cat "$WORK/chronyd-q.out"
    [ $rc -eq 0 ] || fail "chronyd -Q against tempusd: exit status $rc"
    x=$(sed -nE 's/.*System clock wrong by (-?[0-9.]+) seconds.*/\1/p' "$WORK/chronyd-q.out")
    abs_le "$x" "$LOOPBACK_OFF_S" || fail "chronyd -Q offset $x"
fi

# deny wins over a wider allow: the same request gets no answer.
P2=$(port_for 3)
start_bg denied "$TEMPUSD" -x -d -u root "local stratum 2" "port $P2" "bindaddress 127.0.0.1" \
    "allow" "deny 127.0.0.1" "pidfile $WORK/denied.pid"
# its socket open (else the silence below would prove nothing)
wait_for "$WORK/denied.out" 'Running with root privileges' 20 || fail "denied server did not start"
"$TEMPUSD" -Q "server 127.0.0.1 port $P2 iburst" >"$WORK/q-denied.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "-Q against a denying server: exit status $rc"
grep -q 'No suitable source for synchronisation' "$WORK/q-denied.out" || fail "deny: message"
# IPv6: a server bound to ::1 only, and -Q over IPv6 (skipped if the host has no ::1).
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    P6=$(port_for 4)
    start_bg server6 "$TEMPUSD" -x -d -u root "local stratum 4" "port $P6" "bindaddress ::1" \
        "allow ::1" "pidfile $WORK/server6.pid"
    # every socket is open when it says so (a fixed sleep 0.3 after the line before)
    wait_for "$WORK/server6.out" 'Running with root privileges' 20 || fail "::1 server"
    "$TEMPUSD" -Q "server ::1 port $P6 iburst" >"$WORK/q6.out" 2>&1 || fail "-Q over IPv6"
    x=$(sed -nE 's/.*System clock wrong by (-?[0-9.]+) seconds \(ignored\).*/\1/p' "$WORK/q6.out")
    [ -n "$x" ] && abs_le "$x" "$LOOPBACK_OFF_S" || fail "-Q over IPv6: offset '$x'"
    echo "IPv6: $(grep 'System clock wrong' "$WORK/q6.out")"
fi
echo "PASS"
