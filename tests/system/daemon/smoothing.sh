#!/usr/bin/env bash
# smoothtime on the real daemon (docs/design/smoothing.md), everything -x on loopback:
#  - tempusd -x with `smoothtime 400 0.001`: `smoothtime activate` over the Unix socket, then
#    `add server` of a source (the test NTP server, 0.2 s ahead of the host): the daemon
#    slews its (virtual) clock by +0.2 s, and the smoothing takes the correction up: `smoothing` shows an offset of about -0.2 s, and an NTP client (python3
#    ntplib) of the smoothing server sees time near the host's (|offset| < 50 ms, not 0.2 s)
#    with refid 127.127.1.255;
#  - `smoothtime reset`: offset 0, the client sees the source's +0.2 s (the refid is not
#    checked there: the engine's next frequency correction starts a new smoothing at once);
#  - Debian's chronyc `smoothing` (text and -c) against tempusd prints the same lines, numbers
#    masked, as against chronyd -x with the same configuration, inactive and active;
#  - without `smoothtime`: "505 Facility not enabled in daemon" from both tempusc and chronyc.
# Bounds are 50 ms around a 200 ms effect: loopback on a loaded machine moves a reading by
# milliseconds, not tens of them. Every wait is polled (docs/design/testing.md).
. "$(dirname "$0")/lib.sh"
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$PY" "$CHRONYD" "$CHRONYC"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (-u root keeps the sockets reachable)"; exit 77; }
"$PY" -c 'import ntplib' 2>/dev/null || { echo "SKIP: python3-ntplib not installed"; exit 77; }
P_SRC=$(port_for 0) P_T=$(port_for 1) P_C=$(port_for 2) P_N=$(port_for 3)
OFFSET=0.2
start_bg ntpserver "$PY" "$NTPSERVER" "$P_SRC" --offset $OFFSET --pidfile "$WORK/ntpserver.pid"
wait_for "$WORK/ntpserver.pid" . 20 || fail "test server did not start"

mkdir -m 0700 "$WORK/t" "$WORK/c" "$WORK/n"
SOCK_T=$WORK/t/tempusd.sock SOCK_C=$WORK/c/chronyd.sock SOCK_N=$WORK/n/tempusd.sock
common() { # common PORT SOCKET DIR
    printf '%s\n' "port $1" "bindaddress 127.0.0.1" "allow 127.0.0.1" "cmdport 0" \
        "bindcmdaddress $2" "pidfile $3/pid" "smoothtime 400 0.001"
}
common "$P_T" "$SOCK_T" "$WORK/t" >"$WORK/t.conf"
common "$P_C" "$SOCK_C" "$WORK/c" >"$WORK/c.conf"
start_bg tempusd "$TEMPUSD" -x -d -u root -f "$WORK/t.conf"
start_bg chronyd "$CHRONYD" -x -d -u root -f "$WORK/c.conf"
start_bg plain "$TEMPUSD" -x -d -u root "port $P_N" "bindaddress 127.0.0.1" "cmdport 0" \
    "bindcmdaddress $SOCK_N" "pidfile $WORK/n/pid"
wait_for "$WORK/tempusd.out" 'Running with root privileges' 20 || fail "tempusd did not start"
wait_for "$WORK/plain.out" 'Running with root privileges' 20 || fail "plain tempusd did not start"
poll_until 20 test -S "$SOCK_C" || fail "chronyd did not start"

# the numbers of two daemons differ: mask them, keep everything else
mask() { sed -E 's/[-+]?[0-9]+(\.[0-9]+)?/N/g'; }
same_as_chronyd() { # LABEL ARGS...: chronyc ARGS against both, masked outputs equal
    local label=$1
    shift
    "$CHRONYC" -h "$SOCK_T" "$@" >"$WORK/got" 2>&1
    "$CHRONYC" -h "$SOCK_C" "$@" >"$WORK/want" 2>&1
    if ! diff <(mask <"$WORK/want") <(mask <"$WORK/got"); then
        echo "chronyd:"; cat "$WORK/want"; echo "tempusd:"; cat "$WORK/got"
        fail "$label: chronyc $* differs between chronyd and tempusd"
    fi
    echo "ok $label: chronyc $* (masked) as against chronyd"
}

# Not enabled without the directive.
for c in "$TEMPUSC" "$CHRONYC"; do
    out=$("$c" -h "$SOCK_N" smoothing 2>&1)
    [ "$out" = "505 Facility not enabled in daemon" ] || fail "$c smoothing without smoothtime: $out"
    out=$("$c" -h "$SOCK_N" smoothtime activate 2>&1)
    [ "$out" = "505 Facility not enabled in daemon" ] || fail "$c smoothtime without it: $out"
done
echo "ok not enabled without smoothtime"

same_as_chronyd inactive smoothing
grep -qx 'Active         : No ' "$WORK/got" || fail "not inactive at the start"
same_as_chronyd inactive-csv -c smoothing

for c in "$SOCK_T" "$SOCK_C"; do
    out=$("$CHRONYC" -h "$c" smoothtime activate 2>&1)
    [ "$out" = "200 OK" ] || fail "smoothtime activate on $c: $out"
done
wait_for "$WORK/tempusd.out" 'Time smoothing activated$' 20 || fail "no activation logged"
same_as_chronyd active smoothing
same_as_chronyd active-csv -c smoothing
"$TEMPUSC" -h "$SOCK_T" smoothing | grep -qx 'Active         : Yes ' || fail "not active"

# A source 0.2 s ahead: the clock is slewed by +0.2 s, the served time is not.
out=$("$TEMPUSC" -h "$SOCK_T" add server 127.0.0.1 port "$P_SRC" iburst minpoll -1 maxpoll 0 2>&1)
[ "$out" = "200 OK" ] || fail "add server: $out"
smooth_off() { "$TEMPUSC" -h "$SOCK_T" -c smoothing | cut -d, -f3; }
absorbed() {
    SM=$(smooth_off)
    awk -v x="$SM" 'BEGIN { exit !(x < -0.15 && x > -0.25) }'
}
poll_until ${ABSORB_S:-90} absorbed || fail "smoothing offset $SM, want about -$OFFSET"
echo "smoothing offset $SM s after ${POLLED_S} s"
"$TEMPUSC" -h "$SOCK_T" smoothing

# ntp_query: prints "REFID OFFSET" of one reply of the smoothing server (host clock vs served)
ntp_query() {
    "$PY" - "$P_T" <<'PY'
import sys, ntplib
r = ntplib.NTPClient().request("127.0.0.1", port=int(sys.argv[1]), version=4, timeout=5)
print("%08x %.6f" % (r.ref_id, r.offset))
PY
}
read -r refid off < <(ntp_query) || true
echo "client of the smoothing server: refid $refid offset $off"
[ "$refid" = 7f7f01ff ] || fail "refid $refid while smoothing, want 7f7f01ff (127.127.1.255)"
abs_le "$off" 0.05 || fail "client offset $off while smoothing: the slew was served"

out=$("$TEMPUSC" -h "$SOCK_T" smoothtime reset 2>&1)
[ "$out" = "200 OK" ] || fail "smoothtime reset: $out"
SM=$(smooth_off)
abs_le "$SM" 0.01 || fail "offset $SM after reset"
read -r refid off < <(ntp_query) || true
echo "after reset: refid $refid offset $off"
abs_le "$(awk -v o="$off" -v w=$OFFSET 'BEGIN { print o - w }')" 0.05 ||
    fail "client offset $off after reset, want about $OFFSET"
"$TEMPUSC" -h "$SOCK_T" smoothing | grep -qx 'Active         : Yes ' || fail "inactive after reset"
echo "PASS"
