#!/usr/bin/env bash
# tempusd -x syncs from Debian's chronyd (-x, local stratum 2) on 127.0.0.1: within a minute
# at short polls it shows stratum 3, reach 377 and a sane offset, writes chrony-format
# tracking/measurements/statistics logs, reopens them on `tempusc cyclelogs` (logrotate), and
# exits cleanly on SIGTERM writing its drift file.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD" "$CHRONYD"
P=$(port_for 0)
start_chronyd_server "$P"
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"

cat >"$WORK/tempusd.conf" <<CONF
server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2
pidfile $WORK/tempusd.pid
driftfile $WORK/tempusd.drift
logdir $WORK/log
log tracking measurements statistics
bindcmdaddress $WORK/tempusd.sock
cmdport 0
CONF
start_bg tempusd "$TEMPUSD" -x -d -u root -f "$WORK/tempusd.conf"
wait_for "$WORK/tempusd.out" 'Selected source 127\.0\.0\.1' 20 || fail "no source selected"
wait_for "$WORK/tempusd.out" 'source: \^\* 127\.0\.0\.1 stratum 2 poll -?[0-9]+ reach 377' 60 ||
    fail "reach 377 not seen within a minute"
line=$(grep -E 'tracking: ref 127\.0\.0\.1' "$WORK/tempusd.out" | tail -n 1)
echo "$line"
[[ $line =~ stratum\ 3\  ]] || fail "stratum is not 3: $line"
off=$(sed -E 's/.*last offset ([-+0-9.e]+) s.*/\1/' <<<"$line")
err=$(sed -E 's/.*system clock error ([-+0-9.e]+) s.*/\1/' <<<"$line")
# Same host clock on both sides: the offset is loopback noise, far below a millisecond.
abs_le "$off" "$LOOPBACK_OFF_S" || fail "offset $off not sane"
abs_le "$err" "$LOOPBACK_OFF_S" || fail "system clock error $err not sane"

# chrony's log formats: the tracking line names the source and stratum 3.
grep -Eq '^[0-9-]{10} [0-9:]{8} 127\.0\.0\.1 +3 ' "$WORK/log/tracking.log" ||
    fail "tracking.log has no stratum-3 line"
grep -Eq '^[0-9-]{10} [0-9:]{8} 127\.0\.0\.1 +N  2 111 111 1111 ' "$WORK/log/measurements.log" ||
    fail "measurements.log has no line with all tests passed"
grep -q "   Date (UTC) Time     IP Address    Std dev'n Est offset" "$WORK/log/statistics.log" ||
    fail "statistics.log has no banner"

# logrotate's postrotate: after the file is renamed, cyclelogs makes tempusd write a new one
# (with its banner) instead of appending to the renamed file.
mv "$WORK/log/tracking.log" "$WORK/log/tracking.log.1"
"$BUILD/tempusc" -h "$WORK/tempusd.sock" cyclelogs >"$WORK/cyclelogs.out" 2>&1 ||
    fail "tempusc cyclelogs: $(cat "$WORK/cyclelogs.out")"
grep -q '^200 OK' "$WORK/cyclelogs.out" || fail "cyclelogs answer: $(cat "$WORK/cyclelogs.out")"
n_old=$(wc -l <"$WORK/log/tracking.log.1")
wait_for "$WORK/log/tracking.log" '^[0-9-]{10} [0-9:]{8} 127\.0\.0\.1 +3 ' 10 ||
    fail "no new tracking.log after cyclelogs"
grep -q '^   Date (UTC) Time' "$WORK/log/tracking.log" || fail "new tracking.log has no banner"
[ "$(wc -l <"$WORK/log/tracking.log.1")" -eq "$n_old" ] || fail "still writing the rotated file"

# A second instance is refused while the first runs (pidfile).
"$TEMPUSD" -x -d -u root -f "$WORK/tempusd.conf" >"$WORK/second.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "second instance exit status $rc"
grep -q "Another tempusd may already be running (pid=$PID_tempusd)" "$WORK/second.out" ||
    fail "second instance message"

kill -TERM "$PID_tempusd"
wait "$PID_tempusd"
rc=$?
[ $rc -eq 0 ] || fail "exit status $rc after SIGTERM"
grep -Eq '^ +-?[0-9]+\.[0-9]{6} +[0-9]+\.[0-9]{6}$' "$WORK/tempusd.drift" || fail "drift file format"
[ ! -e "$WORK/tempusd.pid" ] || fail "pidfile not removed at exit"
echo "PASS: $line"
