#!/usr/bin/env bash
# The drift file survives a restart and a kill -9, and a tempusd that cannot control the
# clock (no CAP_SYS_TIME, as in a container) says so plainly and keeps running as with -x.
# Against the test NTP server running fast by a known 20 ppm.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD" "$PY"
P=$(port_for 1)
DRIFT=20
start_bg ntpserver "$PY" "$NTPSERVER" "$P" --offset 0.01 --drift-ppm $DRIFT \
    --pidfile "$WORK/ntpserver.pid"
wait_for "$WORK/ntpserver.pid" . 5 || fail "test server did not start"
DF=$WORK/tempusd.drift
conf=("server 127.0.0.1 port $P iburst minpoll -1 maxpoll 0" "driftfile $DF"
      "pidfile $WORK/tempusd.pid")

start_bg first "$TEMPUSD" -x -d -u root "${conf[@]}"
wait_for "$WORK/first.out" 'updates (2[5-9]|[3-9][0-9]|[1-9][0-9][0-9])' 120 || fail "no updates"
kill -TERM "$PID_first"
wait "$PID_first"
[ $? -eq 0 ] || fail "exit status after SIGTERM"
read -r f1 s1 <"$DF" || fail "no drift file"
echo "drift file after SIGTERM: $f1 $s1"
# Within 3 ppm, or three times the engine's own error bound when that is wider.
tol=$(awk -v s="$s1" 'BEGIN { t = 3 * s; print (t > 3 ? t : 3) }')
abs_le "$(awk -v f="$f1" -v d=$DRIFT 'BEGIN{print f+d}')" "$tol" ||
    fail "drift $f1 +/- $s1, want about -$DRIFT"
[ ! -e "$DF.tmp" ] || fail "temp file left"

# Restart: the frequency is read back and used from the first update on.
start_bg second "$TEMPUSD" -x -d -u root "${conf[@]}"
wait_for "$WORK/second.out" "Frequency $(printf '%.3f' "$f1") \+/- [0-9.]+ ppm read from $DF" 5 ||
    fail "drift file not read at restart"
wait_for "$WORK/second.out" 'updates [3-9]' 60 || fail "no updates after restart"
kill -9 "$PID_second"
wait "$PID_second" 2>/dev/null
read -r f2 s2 <"$DF" || fail "drift file unreadable after kill -9"
grep -Eq '^ +-?[0-9]+\.[0-9]{6} +[0-9]+\.[0-9]{6}$' "$DF" || fail "drift file torn after kill -9"
echo "drift file after kill -9: $f2 $s2"
rm -f "$WORK/tempusd.pid" # kill -9 leaves it behind; a stale pidfile must not block a start

# No CAP_SYS_TIME: the kernel refuses every clock write, so this run cannot touch the clock
# even without -x. Check that first, and skip if the capability cannot be dropped here.
command -v setpriv >/dev/null || { echo "SKIP: setpriv missing"; exit 77; }
DROP=(setpriv --bounding-set -sys_time --inh-caps -sys_time)
capeff=$("${DROP[@]}" awk '/^CapEff/ {print $2}' /proc/self/status)
if [ -z "$capeff" ] || (( (16#$capeff >> 25) & 1 )); then
    echo "SKIP: cannot drop CAP_SYS_TIME here"
    exit 77
fi
start_bg nocap "${DROP[@]}" "$TEMPUSD" -d -u root "${conf[@]}"
wait_for "$WORK/nocap.out" 'Could not control system clock \(no CAP_SYS_TIME\) : running as with -x' 5 ||
    fail "no plain message without CAP_SYS_TIME"
grep -q 'Another tempusd' "$WORK/nocap.out" && fail "stale pidfile blocked the start"
wait_for "$WORK/nocap.out" 'updates [1-9]' 60 || fail "not running on without CAP_SYS_TIME"
kill -0 "$PID_nocap" || fail "died without CAP_SYS_TIME"
echo "PASS: drift $f1 ppm kept across restart and kill -9; runs without CAP_SYS_TIME"
