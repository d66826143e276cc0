#!/usr/bin/env bash
# Against the project's test NTP server, whose clock is ahead of the host's by a known 0.25 s
# and runs fast by a known 20 ppm:
#  - tempusd -Q prints "System clock wrong by X seconds (ignored)" with X within 1 ms of the
#    server's offset at that moment, exits 0, and touches nothing (no pidfile);
#  - tempusd -q -x prints it with "(step)", then "Could not step system clock" and exits 0,
#    as chronyd -q -x does (nothing is stepped);
#  - tempusd -x -d estimates the offset within 1 ms while running and the frequency within
#    2 ppm of -20 ppm (positive = our clock runs fast);
#  - an unreachable server makes -Q give up: "No suitable source", exit 1.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD" "$PY"
P=$(port_for 1)
OFFSET=0.25
DRIFT=20
start_bg ntpserver "$PY" "$NTPSERVER" "$P" --offset $OFFSET --drift-ppm $DRIFT \
    --pidfile "$WORK/ntpserver.pid"
wait_for "$WORK/ntpserver.pid" . 5 || fail "test server did not start"
t0=$(date +%s.%N)

# The server's offset at time t: OFFSET + DRIFT ppm * (t - t0).
expect_at() {
    awk -v o=$OFFSET -v d=$DRIFT -v t0="$t0" -v t="$1" 'BEGIN { printf "%.6f", o + d * 1e-6 * (t - t0) }'
}

cd "$WORK"
# -Q judged on the best of up to three runs (every run must exit 0 and print an offset):
# ntpserver.py (Python, basic mode) cannot correct the time between its transmit-time read
# and its send, and a loaded machine preempts it there now and then (docs/design/testing.md:
# xleave_client's ntpserver.py sample read 1.6 ms off at load 24). A wrong offset fails all.
runs=
for _ in 1 2 3; do
    "$TEMPUSD" -Q "server 127.0.0.1 port $P iburst" >"$WORK/q.out" 2>&1
    rc=$?
    cat "$WORK/q.out"
    [ $rc -eq 0 ] || fail "-Q exit status $rc"
    x=$(sed -nE 's/.*System clock wrong by (-?[0-9.]+) seconds \(ignored\)$/\1/p' "$WORK/q.out")
    [ -n "$x" ] || fail "-Q printed no offset"
    want=$(expect_at "$(date +%s.%N)")
    runs="$runs $x/$want"
    abs_le "$(awk -v a="$x" -v b="$want" 'BEGIN{print a-b}')" 0.001 && break
done
abs_le "$(awk -v a="$x" -v b="$want" 'BEGIN{print a-b}')" 0.001 || fail "-Q offset/want:$runs"
grep -q 'Disabled control of system clock' "$WORK/q.out" || fail "-Q did not say clock control is off"
tail -n 1 "$WORK/q.out" | grep -q 'tempusd exiting' || fail "-Q last line"
echo "-Q: $x (server $want)"

"$TEMPUSD" -q -x "server 127.0.0.1 port $P iburst" "pidfile $WORK/q.pid" >"$WORK/qx.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "-q -x exit status $rc"
grep -Eq 'System clock wrong by 0\.2[45][0-9]+ seconds \(step\)$' "$WORK/qx.out" || fail "-q -x output"
grep -q 'Could not step system clock' "$WORK/qx.out" || fail "-q -x: no 'Could not step'"

start_bg tempusd "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll -1 maxpoll 0" \
    "pidfile $WORK/tempusd.pid"
wait_for "$WORK/tempusd.out" 'reach 377' 60 || fail "reach 377 not seen"
# Let the frequency estimate settle: 40 clock updates (about 30 s at these polls).
wait_for "$WORK/tempusd.out" 'updates ([4-9][0-9]|[1-9][0-9][0-9])' 120 || fail "too few updates"
line=$(grep -E 'tracking: ref 127\.0\.0\.1' "$WORK/tempusd.out" | tail -n 1)
when=$(date +%s.%N)
echo "$line"
err=$(sed -E 's/.*system clock error ([-+0-9.e]+) s.*/\1/' <<<"$line")
freq=$(sed -E 's/.* freq ([-+0-9.e]+) ppm.*/\1/' <<<"$line")
skew=$(sed -E 's/.* skew ([-+0-9.e]+) ppm.*/\1/' <<<"$line")
want=$(expect_at "$when")
abs_le "$(awk -v a="$err" -v b="$want" 'BEGIN{print a-b}')" 0.001 ||
    fail "running estimate $err, server at $want"
# Within 2 ppm, or three times the engine's own error bound when that is wider.
tol=$(awk -v s="$skew" 'BEGIN { t = 3 * s; print (t > 2 ? t : 2) }')
abs_le "$(awk -v f="$freq" -v d=$DRIFT 'BEGIN{print f+d}')" "$tol" ||
    fail "frequency $freq +/- $skew, want -$DRIFT"
kill -TERM "$PID_tempusd"

"$TEMPUSD" -Q "server 127.0.0.1 port $(port_for 3) iburst" >"$WORK/unreach.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "-Q against nothing: exit status $rc"
grep -q 'No suitable source for synchronisation' "$WORK/unreach.out" || fail "-Q give-up message"
echo "PASS: -Q $x, running estimate $err (server $want), freq $freq ppm"
