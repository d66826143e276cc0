#!/usr/bin/env bash
# Functional test of the load generator against the bare echo (suite 'system', not a benchmark):
#   1. 1000 requests at 10000/s from 64 addresses x 4 ports: every reply passes the origin
#      check, none is lost, exit 0;
#   1b. the same against the echo in tempusd's shape (-K -c 16 -P: receive timestamps and
#      pktinfo, replies with pktinfo in sendmmsg chunks of 16, poll() wake-ups);
#   2. the echo spoils every 10th origin: ntpload must count them and exit 2;
#   3. nobody listens: 100 % loss, ntpload must exit 3 with -L 0.
# Usage: test-ntpload.sh NTPLOAD UDPECHO
set -u
ntpload=$1 udpecho=$2
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Starts the echo on a free port with extra args; sets port and pid.
start_echo() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 30000))
        "$udpecho" -s 127.0.0.1 -p "$port" -T 30 "$@" 2>/dev/null &
        pid=$!
        sleep 0.1
        if kill -0 "$pid" 2>/dev/null; then return 0; fi
        wait "$pid" 2>/dev/null; pid=
    done
    fail "could not start udpecho"
}

start_echo
out=$("$ntpload" -s 127.0.0.1 -p "$port" -n 1000 -r 10000 -d 5 -t 3000 -a 64 -P 4 -L 0 -l echo) ||
    fail "ntpload against the echo exited $?: $out"
echo "$out"
[[ $out == *"sent 1000 "* && $out == *"replies 1000 "* && $out == *"bad-origin 0 "* ]] ||
    fail "unexpected summary: $out"
cleanup

start_echo -K -c 16 -P
out=$("$ntpload" -s 127.0.0.1 -p "$port" -n 1000 -r 10000 -d 5 -t 3000 -a 64 -P 4 -L 0 -l echo-tempus) ||
    fail "ntpload against the echo -K -c 16 -P exited $?: $out"
echo "$out"
[[ $out == *"replies 1000 "* && $out == *"bad-origin 0 "* ]] || fail "unexpected summary: $out"
cleanup

start_echo -C 10
out=$("$ntpload" -s 127.0.0.1 -p "$port" -n 1000 -r 10000 -d 5 -t 3000 -a 64 -P 4 -q -l spoiled)
rc=$?
echo "$out"
[ "$rc" = 2 ] || fail "spoiled origins: exit $rc, want 2"
[[ $out == *"bad-origin 100 "* && $out == *"replies 900 "* ]] || fail "spoiled origins not counted: $out"
cleanup

# Nothing listens on this port (the echo just exited from it).
out=$("$ntpload" -s 127.0.0.1 -p "$port" -n 50 -r 1000 -d 1 -t 100 -L 0 -q -l nobody)
rc=$?
echo "$out"
[ "$rc" = 3 ] || fail "no server: exit $rc, want 3"
[[ $out == *"replies 0 "* ]] || fail "no server: $out"

# Addresses outside 127/8 are refused.
"$ntpload" -s 192.0.2.1 -n 1 -d 0.1 -q 2>/dev/null && fail "accepted a non-loopback server"
echo "PASS"
