#!/usr/bin/env bash
# Dump files of a source without samples, tempusd -x against Debian's chronyd -x side by side
# (chronyd 4.3, measured): `dump` and the exit write no file for an unreachable source, and
# remove a file already there under its name (another address's file is left alone).
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD" "$CHRONYC"
DEAD=$(port_for 0) # nothing listens there
mkdir -m 700 "$WORK/t" "$WORK/dt" "$WORK/dc"
start_bg tempusd "$TEMPUSD" -x -d -u root "server 127.0.0.2 port $DEAD minpoll 0 maxpoll 0" \
    "dumpdir $WORK/dt" "pidfile $WORK/tempusd.pid" "cmdport 0" "bindcmdaddress $WORK/t/sock"
start_chronyd_client "server 127.0.0.2 port $DEAD minpoll 0 maxpoll 0" "dumpdir $WORK/dc"
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"
# its control socket open (the line after every socket)
wait_for "$WORK/tempusd.out" 'Running with root privileges' 20 || fail "tempusd did not start"
sleep 1.5 # a few unanswered requests
state() { # DIR: the files after `dump`, then after the exit
    echo "$(cd "$1" && ls | tr '\n' ' ')"
}
for d in dt dc; do
    echo junk >"$WORK/$d/127.0.0.2.dat"
    echo junk >"$WORK/$d/127.0.0.7.dat"
done
r=$("$TEMPUSC" -n -h "$WORK/t/sock" dump 2>&1)
[ "$r" = "200 OK" ] || fail "tempusc dump: $r"
r=$("$CHRONYC" -n -h "$WORK/chronyd.sock" dump 2>&1)
[ "$r" = "200 OK" ] || fail "chronyc dump: $r"
t=$(state "$WORK/dt") c=$(state "$WORK/dc")
echo "after dump: tempusd [$t] chronyd [$c]"
[ "$t" = "$c" ] || fail "after dump: tempusd [$t] chronyd [$c]"
[ "$t" = "127.0.0.7.dat " ] || fail "after dump: $t"
for d in dt dc; do echo junk >"$WORK/$d/127.0.0.2.dat"; done
kill "$PID_tempusd" "$PID_chronyd"
# Until both have exited (their exit dumps done), however long a loaded machine takes.
wait "$PID_tempusd" "$PID_chronyd"
t=$(state "$WORK/dt") c=$(state "$WORK/dc")
echo "after exit: tempusd [$t] chronyd [$c]"
[ "$t" = "$c" ] || fail "after exit: tempusd [$t] chronyd [$c]"
echo "PASS"
