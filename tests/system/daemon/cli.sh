#!/usr/bin/env bash
# tempusd's command line as chronyd's: -v, bad options, "Not superuser", -t (exit status by
# sync state, local counts), -l FILE, detaching (the foreground process exits 0 once the
# daemon runs, or prints its fatal error and exits 1), and SIGTERM removing the pidfile.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD"

"$TEMPUSD" -v | grep -Eq '^tempusd \(tempus\) version [0-9.]+ \(.*\+NTP.*\)$' || fail "-v"
"$TEMPUSD" -z >"$WORK/badopt.out" 2>&1 && fail "-z accepted"
grep -q "invalid option -- 'z'" "$WORK/badopt.out" || fail "-z message"
grep -q '^Usage: tempusd \[OPTION\]... \[DIRECTIVE\]...' "$WORK/badopt.out" || fail "usage"

if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
        "$TEMPUSD" -x -d "pidfile $WORK/np.pid" >"$WORK/nonroot.out" 2>&1 && fail "non-root started"
    grep -q 'Fatal error : Not superuser' "$WORK/nonroot.out" || fail "Not superuser message"
fi

P=$(port_for 0)
# -t with a local reference: synchronised, exit 0.
"$TEMPUSD" -x -d -u root -t 2 "local stratum 5" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/t1.pid" >"$WORK/t1.out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "-t with local: exit status $rc"
grep -q 'Timeout reached' "$WORK/t1.out" || fail "-t message"
# -t with an unreachable server: not synchronised, exit 1.
"$TEMPUSD" -x -d -u root -t 2 "server 127.0.0.1 port $(port_for 1)" "pidfile $WORK/t2.pid" \
    >"$WORK/t2.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "-t unsynchronised: exit status $rc"

# -s without an RTC: a drift file written later than now would set the clock to that time;
# with -x, as chronyd -x 4.3 (measured), only "Could not step system clock"; an older drift
# file: nothing.
echo "1.000 0.100" >"$WORK/s.drift"
touch -d '+1 hour' "$WORK/s.drift"
"$TEMPUSD" -x -s -d -u root -t 1 "driftfile $WORK/s.drift" "server 127.0.0.1 port $(port_for 1)" \
    "pidfile $WORK/s.pid" >"$WORK/s1.out" 2>&1
grep -q 'Could not step system clock' "$WORK/s1.out" || fail "-s with a newer drift file"
touch -d '-1 hour' "$WORK/s.drift"
"$TEMPUSD" -x -s -d -u root -t 1 "driftfile $WORK/s.drift" "server 127.0.0.1 port $(port_for 1)" \
    "pidfile $WORK/s.pid" >"$WORK/s2.out" 2>&1
grep -q 'Could not step system clock' "$WORK/s2.out" && fail "-s with an older drift file stepped"
grep -q 'not supported' "$WORK/s2.out" && fail "-s said not supported"

# leapsectz: a zone with leap seconds is used (chronyd's line), one without them, or a
# missing one, is ignored with chronyd's warning; the daemon runs on either way.
if [ -f /usr/share/zoneinfo/right/UTC ]; then
    for tz in right/UTC /usr/share/zoneinfo/right/UTC UTC /nonexistent/zone; do
        "$TEMPUSD" -x -d -u root -t 1 "leapsectz $tz" "server 127.0.0.1 port $(port_for 1)" \
            "pidfile $WORK/tz.pid" >"$WORK/tz.out" 2>&1
        case $tz in
        *right/UTC) want="Using $tz timezone to obtain leap second data" ;;
        *) want="Timezone $tz failed leap second check, ignoring" ;;
        esac
        grep -q "$want" "$WORK/tz.out" || fail "leapsectz $tz: $(cat "$WORK/tz.out")"
        grep -q 'Timeout reached' "$WORK/tz.out" || fail "leapsectz $tz: did not run"
    done
else
    echo "no /usr/share/zoneinfo/right/UTC (tzdata): leapsectz not checked"
fi

# -l FILE and detaching: the foreground returns 0, the daemon keeps running and logging.
"$TEMPUSD" -x -u root -l "$WORK/daemon.log" "local stratum 5" "port $P" \
    "bindaddress 127.0.0.1" "allow 127.0.0.1" "pidfile $WORK/bg.pid"
rc=$?
[ $rc -eq 0 ] || fail "detached start: exit status $rc"
wait_for "$WORK/bg.pid" . 5 || fail "no pidfile"
bgpid=$(cat "$WORK/bg.pid")
PIDS+=("$bgpid")
kill -0 "$bgpid" || fail "daemon not running"
wait_for "$WORK/daemon.log" 'tempusd version .* starting' 5 || fail "-l file not written"
# A second one: the foreground process prints the daemon's fatal error, exits 1.
"$TEMPUSD" -x -u root "pidfile $WORK/bg.pid" >"$WORK/second.out" 2>&1 && fail "second started"
grep -q "^Fatal error : Another tempusd may already be running (pid=$bgpid), check $WORK/bg.pid" \
    "$WORK/second.out" || fail "second instance message: $(cat "$WORK/second.out")"
kill -TERM "$bgpid"
# Not our child (it detached): polled. 20 s catches a daemon that ignores SIGTERM; an exit under
# valgrind (leak check) or ASan on a loaded machine takes seconds (was 3 s).
gone() { ! kill -0 "$bgpid" 2>/dev/null; }
poll_until 20 gone || fail "daemon ignored SIGTERM"
[ ! -e "$WORK/bg.pid" ] || fail "pidfile left after SIGTERM"
grep -q 'tempusd exiting' "$WORK/daemon.log" || fail "no exit message in the log file"
echo PASS
