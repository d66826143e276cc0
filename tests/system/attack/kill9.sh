#!/usr/bin/env bash
# kill -9 at random moments, repeated (every daemon -x, loopback only).
#
# KILL9_CYCLES (50) times: start a tempusd -x client of the test NTP server (running 20 ppm
# fast) with a drift file and a pid file, let it run a random 0.1-0.8 s, then either
#  - kill -9 it (a crash while running: the pid file is left behind, stale), or
#  - SIGTERM it and kill -9 it a random 0-3 ms later (a shutdown cut short, as by a
#    supervisor's timeout: the kill often lands while the drift file is being written).
# Every restart must succeed despite the stale pid file (no "Another tempusd may already be
# running", the new PID in the pid file) and read the drift file back when it holds a value;
# after every kill the drift file must be absent (before the first write) or hold exactly
# one valid line, either the value before the cycle or a new one (never empty or torn).
# Reports how many kills landed at each stage and how often the value changed.
. "$(dirname "$0")/../daemon/lib.sh"
need "$TEMPUSD" "$PY"
CYCLES=${KILL9_CYCLES:-50}
P=$(port_for 0)
start_bg ntpserver "$PY" "$NTPSERVER" "$P" --offset 0.01 --drift-ppm 20 --pidfile "$WORK/ntpserver.pid"
wait_for "$WORK/ntpserver.pid" . 5 || fail "test server did not start"
DF=$WORK/tempusd.drift
PF=$WORK/tempusd.pid
RE='^ *-?[0-9]+\.[0-9]{6} +[0-9]+\.[0-9]{6}$'

prev=""
changed=0
stale=0
term_killed=0
term_clean=0
for ((i = 1; i <= CYCLES; i++)); do
    if [ -e "$PF" ]; then
        stale=$((stale + 1))
    fi
    out=$WORK/run$i.out
    "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll -4 maxpoll -4" \
        "driftfile $DF" "pidfile $PF" "cmdport 0" "port 0" >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    # the drift file is read after "Disabled control of system clock" and before this line:
    # the check below raced the daemon's start (audit, session 8)
    wait_for "$out" 'Running with root privileges' 20 || fail "cycle $i: no start"
    grep -q 'Another tempusd' "$out" && fail "cycle $i: the stale pid file blocked the start"
    if [ -n "$prev" ]; then
        want=$(awk '{ printf "%.3f", $1 }' <<<"$prev")
        grep -Eq "Frequency $want \+/- [0-9.]+ ppm read from" "$out" ||
            fail "cycle $i: drift file ($prev) not read back"
    fi
    # random run time 0.1-0.8 s
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.1 + 0.7 * r / 32768 }')"
    kill -0 "$pid" 2>/dev/null || fail "cycle $i: daemon died on its own"
    [ "$(cat "$PF" 2>/dev/null)" = "$pid" ] || fail "cycle $i: pid file does not hold $pid"
    if ((RANDOM % 2)); then
        kill -9 "$pid"
    else
        # 0 to ~3 ms between the two signals (a busy loop: sleep(1) alone takes ~1 ms)
        n=$((RANDOM % 1500))
        kill -TERM "$pid"
        for ((k = 0; k < n; k++)); do :; done
        if kill -9 "$pid" 2>/dev/null; then
            term_killed=$((term_killed + 1))
        else
            term_clean=$((term_clean + 1))
        fi
    fi
    wait "$pid" 2>/dev/null
    if [ -e "$DF" ]; then
        [ "$(wc -l <"$DF")" -eq 1 ] || fail "cycle $i: drift file has $(wc -l <"$DF") lines"
        grep -Eq "$RE" "$DF" || fail "cycle $i: drift file torn: '$(cat "$DF")'"
        cur=$(cat "$DF")
        [ "$cur" != "$prev" ] && changed=$((changed + 1))
        prev=$cur
    elif [ -n "$prev" ]; then
        fail "cycle $i: the drift file disappeared"
    fi
done
echo "$CYCLES kills: $((CYCLES - term_killed - term_clean)) while running (pid file left" \
    "stale), $term_killed during the SIGTERM exit, $term_clean after a clean exit;" \
    "$stale restarts over a stale pid file; the drift value changed $changed times; last: $prev"
((stale > 0)) || fail "no restart over a stale pid file was exercised"
((changed > 0)) || fail "the drift file was never written: the test exercised nothing"
echo "PASS"
