#!/usr/bin/env bash
# `serverworkers 2` on loopback (every daemon -x): NTP clients answered by two worker threads
# with SO_REUSEPORT sockets steered by client address.
#  1. 1000 source addresses x 4 source ports (bench/ntpload, closed loop, 20000 requests): every
#     reply passes ntpload's checks (mode 4, version, origin = the request's transmit
#     timestamp, on the socket it was sent from), none lost, none with stratum 0;
#     serverstats counts exactly the requests sent; `clients` has each address once (one
#     worker per address, whatever its source port) and its hits add up to what was sent.
#  2. run-time allow/deny: `tempusc deny 127.1.2.0/24` (254 of the 1000 addresses): exactly
#     their requests go unanswered; `tempusc allow 127.1.2.0/24`: all answered again.
#  3. SIGTERM: the daemon exits 0 (within 20 s: a limit for a loaded machine, not a timing
#     check; a hung worker never exits), and its per-worker counts (logged at exit) show
#     that both workers answered and add up to the requests sent.
#  4. the same under -F 1 (seccomp allow-list; when tempusd has it): threads, futexes and the
#     batch path pass the filter.
. "$(dirname "$0")/../daemon/lib.sh"
TEMPUSC=$BUILD/tempusc
NTPLOAD=$BUILD/bench/ntpload
need "$TEMPUSD" "$TEMPUSC" "$NTPLOAD"

N_ADDR=1000
# under valgrind (scripts/check-valgrind.sh sets TEMPUS_VALGRIND) start-up is slower
START_S=10
STOP_S=20
[ -n "${TEMPUS_VALGRIND:-}" ] && START_S=60 STOP_S=60

# start NAME PORT [TEMPUSD OPTIONS...] -- [DIRECTIVES...]
start() {
    local name=$1 p=$2 opts=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    start_bg "$name" "$TEMPUSD" -x -d -u root "${opts[@]}" "local stratum 3" "port $p" \
        "bindaddress 127.0.0.1" "allow 127.0.0.0/8" "cmdport 0" "serverworkers 2" \
        "bindcmdaddress $WORK/$name.sock" "pidfile $WORK/$name.pid" "$@"
    wait_for "$WORK/$name.out" 'NTP server: 2 worker threads' "$START_S" ||
        fail "$name did not start its workers"
    # every socket is open when it says so (a fixed sleep 0.3 before)
    wait_for "$WORK/$name.out" 'Running with root privileges' "$START_S" || fail "$name did not start"
}

# num LINE KEY: the number after "KEY " in ntpload's result line
num() { sed -nE "s/.* $2 ([0-9.]+).*/\1/p" <<<"$1"; }
ss_field() { sed -nE "s/^$2 *: *([0-9]+).*/\1/p" <<<"$1"; }

# stop NAME: SIGTERM, exit 0 within STOP_S (2 s before: ASan's exit on a loaded machine took
# longer)
stop() {
    local name=$1 pid
    pid=$(eval echo "\$PID_$name")
    kill -TERM "$pid"
    for _ in $(seq $((STOP_S * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && fail "$name still running $STOP_S s after SIGTERM"
    wait "$pid"
    local rc=$?
    ((rc == 0)) || fail "$name exited $rc after SIGTERM"
}

# worker_requests NAME I: requests worker I logged at exit
worker_field() {
    sed -nE "s/.*NTP server worker $2: ([0-9]+) requests, ([0-9]+) replies, ([0-9]+) denied.*/\\$3/p" \
        "$WORK/$1.out"
}

P=$(port_for 0)
start w "$P" --
out=$("$NTPLOAD" -p "$P" -a $N_ADDR -P 4 -r 0 -w 64 -n 20000 -d 20 -t 2000 -q) ||
    fail "ntpload: a reply failed a check or setup failed ($out)"
echo "load: $out"
sent=$(num "$out" sent)
((sent == 20000)) || fail "ntpload sent $sent, not 20000"
(($(num "$out" replies) == sent)) || fail "not every request answered: $out"
(($(num "$out" kod) == 0)) || fail "stratum-0 replies: $out"

ss=$("$TEMPUSC" -h "$WORK/w.sock" serverstats) || fail "tempusc serverstats failed"
echo "$ss"
(($(ss_field "$ss" 'NTP packets received') == sent)) ||
    fail "serverstats: received $(ss_field "$ss" 'NTP packets received'), sent $sent"
(($(ss_field "$ss" 'NTP packets dropped') == 0)) || fail "serverstats: drops"

cl=$("$TEMPUSC" -n -h "$WORK/w.sock" clients) || fail "tempusc clients failed"
rows=$(grep -cE '^127\.1\.' <<<"$cl")
uniq=$(grep -E '^127\.1\.' <<<"$cl" | awk '{print $1}' | sort -u | wc -l)
hits=$(grep -E '^127\.1\.' <<<"$cl" | awk '{s += $2} END {print s + 0}')
echo "clients: $rows rows, $uniq addresses, $hits NTP hits"
((uniq == N_ADDR)) || fail "clients: $uniq distinct addresses, expected $N_ADDR"
((rows == N_ADDR)) || fail "clients: $rows rows for $N_ADDR addresses (an address on two workers)"
((hits == sent)) || fail "clients: $hits hits, sent $sent"

# run-time deny of 127.1.2.0/24: ntpload's addresses 127.1.2.1-254 are 254 of the 1000
"$TEMPUSC" -h "$WORK/w.sock" deny 127.1.2.0/24 >/dev/null || fail "tempusc deny failed"
out=$("$NTPLOAD" -p "$P" -a $N_ADDR -P 4 -r 5000 -n 5000 -d 2 -t 1000 -q)
rc=$?
((rc == 0 || rc == 3)) || fail "ntpload after deny: exit $rc ($out)"
echo "after deny: $out"
((5000 - $(num "$out" replies) == 254 * 5)) ||
    fail "after deny: $(num "$out" replies) replies, expected $((5000 - 254 * 5))"
"$TEMPUSC" -h "$WORK/w.sock" allow 127.1.2.0/24 >/dev/null || fail "tempusc allow failed"
out=$("$NTPLOAD" -p "$P" -a $N_ADDR -P 4 -r 5000 -n 5000 -d 2 -t 1000 -q) ||
    fail "ntpload after allow: ($out)"
echo "after allow: $out"
(($(num "$out" replies) == 5000)) || fail "after allow: not every request answered: $out"

stop w
total=0
for i in 0 1; do
    req=$(worker_field w $i 1)
    den=$(worker_field w $i 3)
    echo "worker $i: ${req:-?} requests, ${den:-?} denied"
    [ -n "$req" ] && ((req > 0)) || fail "worker $i answered nothing"
    total=$((total + req))
    denied=$((${denied:-0} + den))
done
((total == 20000 + 5000 + 5000)) || fail "workers counted $total requests, sent 30000"
((denied == 254 * 5)) || fail "workers denied $denied, expected $((254 * 5))"

# -F 1: the allow-list seccomp filter with workers
if [ -n "${TEMPUS_VALGRIND:-}" ]; then
    echo "under valgrind: -F 1 part skipped (the filter would police valgrind's own calls)"
elif "$TEMPUSD" -v | grep -q '+SCFILTER'; then
    # LeakSanitizer's exit-time thread is a clone without CLONE_THREAD, which the filter kills
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    P2=$(port_for 2)
    start f "$P2" -F 1 --
    out=$("$NTPLOAD" -p "$P2" -a 200 -P 2 -r 0 -w 32 -n 4000 -d 20 -t 2000 -q) ||
        fail "ntpload under -F 1: ($out)"
    echo "-F 1: $out"
    (($(num "$out" replies) == 4000)) || fail "-F 1: not every request answered: $out"
    "$TEMPUSC" -h "$WORK/f.sock" serverstats >/dev/null || fail "-F 1: serverstats failed"
    grep -q '^Seccomp:[[:space:]]*2' "/proc/$PID_f/status" || fail "-F 1: no seccomp filter"
    stop f
    for i in 0 1; do
        req=$(worker_field f $i 1)
        [ -n "$req" ] && ((req > 0)) || fail "-F 1: worker $i answered nothing"
    done
else
    echo "tempusd without libseccomp: -F 1 part skipped"
fi
echo PASS
