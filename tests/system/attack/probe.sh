#!/usr/bin/env bash
# Malformed, oversized-reply and access probes against a real tempusd -x on loopback
# (probe.py): NTP replies never longer than requests, mode 6/7 and denied clients get nothing;
# the control protocol over UDP follows chronyd 4.3's validation order, privileged commands
# are refused (UNAUTH), addresses outside cmdallow get nothing; over the Unix socket no reply
# is longer than its request; the daemon survives and still answers.
. "$(dirname "$0")/../daemon/lib.sh"
need "$TEMPUSD" "$PY"
P=$(port_for 0)
C=$(port_for 1)
start_bg server "$TEMPUSD" -x -d -u root "local stratum 3" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "cmdport $C" "bindcmdaddress 127.0.0.1" \
    "bindcmdaddress $WORK/run/tempusd.sock" "pidfile $WORK/server.pid"
# every socket is open when it says so (a fixed sleep 0.3 after the line before)
wait_for "$WORK/server.out" 'Running with root privileges' 20 || fail "server did not start"
"$PY" "$SRC/tests/system/attack/probe.py" "$P" "$C" "$WORK/run/tempusd.sock" "$WORK" ||
    fail "probe.py"
# shellcheck disable=SC2154
kill -0 "$PID_server" || fail "tempusd died"
echo "PASS"
