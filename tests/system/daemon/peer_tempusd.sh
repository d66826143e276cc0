#!/usr/bin/env bash
# Symmetric peers, two tempusd -x on loopback (127.0.0.1 with `local stratum 5`, 127.0.0.2
# without), each the other's `peer`: both reach 377, the second syncs to the first (stratum
# 6, `=*`), the first refuses the second's samples by test D (it is synchronised to us) as
# chronyd does. Then symmetric packets from hosts that are no peer: issue 5 asks for symmetric
# requests only from configured peers, so a mode 1 packet from an allowed host gets nothing
# (chronyd 4.3 answers it with mode 2; docs/COMPATIBILITY.md), while a mode 3 request from
# the same host is answered; from a host outside `allow` nothing; a mode 2 packet nothing.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
need "$TEMPUSD" "$TEMPUSC"
P=$(port_for 0)
mkdir -m 700 "$WORK/a" "$WORK/b"
start_bg a "$TEMPUSD" -x -d -u root "local stratum 5" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.3" "peer 127.0.0.2 port $P minpoll 0 maxpoll 0" "pidfile $WORK/a/pid" \
    "cmdport 0" "bindcmdaddress $WORK/a/sock"
start_bg b "$TEMPUSD" -x -d -u root "port $P" "bindaddress 127.0.0.2" \
    "peer 127.0.0.1 port $P minpoll 0 maxpoll 0" "pidfile $WORK/b/pid" "cmdport 0" \
    "bindcmdaddress $WORK/b/sock"
synced() {
    "$TEMPUSC" -n -h "$WORK/a/sock" sources >"$WORK/as.out" 2>&1 &&
        "$TEMPUSC" -n -h "$WORK/b/sock" sources >"$WORK/bs.out" 2>&1 &&
        grep -Eq '^=. 127.0.0.2 +[0-9]+ +-?[0-9]+ +377 ' "$WORK/as.out" &&
        grep -Eq '^=\* 127.0.0.1 +5 +-?[0-9]+ +377 ' "$WORK/bs.out"
}
poll_until 30 synced
ok=$?
echo "after $POLLED_S s"
echo "a: $(tail -n 1 "$WORK/as.out")"
echo "b: $(tail -n 1 "$WORK/bs.out")"
[ $ok = 0 ] || fail "peers did not reach 377 / sync"
# and stays there: 9 more polls each, at most one unanswered
sleep 9
still_reaching "9 s later: a" "$TEMPUSC" "$WORK/a/sock" 127.0.0.2 "$WORK/as.out" ||
    fail "a's reach fell"
still_reaching "9 s later: b" "$TEMPUSC" "$WORK/b/sock" 127.0.0.1 "$WORK/bs.out" ||
    fail "b's reach fell"
grep -q '^=\* 127.0.0.1' "$WORK/bs.out" || fail "b no longer synchronised to a"
# The last packet's tests: a's fail D only (b syncs to a), b's pass, offsets within 1 ms
# (one clock). One packet delayed by load fails test C now and then (seen at load average
# 12), or lies a millisecond off: the next one decides; judged on one reading of both,
# polled for up to 20 s (was 5 s, and without the offsets).
tests_as_expected() {
    "$TEMPUSC" -n -h "$WORK/a/sock" ntpdata 127.0.0.2 >"$WORK/a.nd" 2>&1 &&
        "$TEMPUSC" -n -h "$WORK/b/sock" ntpdata 127.0.0.1 >"$WORK/b.nd" 2>&1 &&
        grep -q '^NTP tests *: 111 111 1110' "$WORK/a.nd" &&
        grep -q '^NTP tests *: 111 111 1111' "$WORK/b.nd" &&
        abs_le "$(ntp_field "$WORK/a.nd" Offset)" 0.001 &&
        abs_le "$(ntp_field "$WORK/b.nd" Offset)" 0.001
}
poll_until 20 tests_as_expected
for f in a b; do
    ntp_summary "$WORK/$f.nd" "$f ntpdata"
    grep -q '^Mode *: Symmetric active' "$WORK/$f.nd" || fail "$f: mode"
    off=$(ntp_field "$WORK/$f.nd" Offset)
    abs_le "$off" 0.001 || fail "$f: offset $off"
done
grep -q '^Stratum *: 6' "$WORK/a.nd" || fail "a: b's stratum"
grep -q '^NTP tests *: 111 111 1110' "$WORK/a.nd" || fail "a: test D should fail (b syncs to a)"
grep -q '^NTP tests *: 111 111 1111' "$WORK/b.nd" || fail "b: tests"

# symmetric packets from hosts that are no peer
ask() { # SRC-ADDR MODE -> prints the reply's mode and whether its origin is our transmit
    "$PY" - "$1" "$2" "$P" <<'PYEOF'
import socket, struct, sys
src, mode, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(1.0)
xmt = struct.pack('!II', 0xeeb27c5e, 0x12345678)
s.sendto(bytes([4 << 3 | mode, 2, 6, 0xec]) + bytes(36) + xmt, ('127.0.0.1', port))
try:
    d = s.recv(1024)
    print('mode %d stratum %d origin %s' % (d[0] & 7, d[1], 'ok' if d[24:32] == xmt else 'bad'))
except socket.timeout:
    print('none')
PYEOF
}
r=$(ask 127.0.0.3 3)
echo "mode 3 from an allowed host: $r"
[ "$r" = "mode 4 stratum 5 origin ok" ] || fail "mode 3 from an allowed host: $r"
r=$(ask 127.0.0.3 1)
echo "mode 1 from an allowed host: $r"
[ "$r" = none ] || fail "mode 1 from an allowed non-peer: $r"
r=$(ask 127.0.0.4 1)
echo "mode 1 from a host not allowed: $r"
[ "$r" = none ] || fail "mode 1 from a denied host: $r"
r=$(ask 127.0.0.3 2)
echo "mode 2 from an allowed host: $r"
[ "$r" = none ] || fail "mode 2 from a non-peer: $r"
echo "PASS"
