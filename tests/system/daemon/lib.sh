# Shared helpers of tempusd's system tests (sourced). Every daemon runs with -x (never the
# host clock), on loopback, on ports derived from this shell's PID, and is killed by PID on
# exit, also when the test fails. Exit 77 = skipped (a needed program is missing).

set -u
BUILD=${TEMPUS_BUILD:?TEMPUS_BUILD not set (run through meson test)}
SRC=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
TEMPUSD=${TEMPUSD_BIN:-$BUILD/tempusd}
PY=/usr/bin/python3
NTPSERVER=$SRC/tests/system/daemon/ntpserver.py
CHRONYD=/usr/sbin/chronyd

WORK=$(mktemp -d /tmp/tempus-systest.XXXXXX)
chmod 700 "$WORK"
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        # give each a moment to exit in order, then make sure
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A port unlikely to collide with a parallel test: from the PID, plus an offset per use (0-7:
# attack/spoof.sh uses port_for 2 .. + 5). All below 32768, the start of Linux's ephemeral
# range: tempusd opens a fresh socket with a random port for every request (RFC 9109), so a
# port in that range can be taken by any daemon of a parallel test (attack_spoof's Python
# server once failed with EADDRINUSE when this reached 56000).
port_for() {
    echo $((20000 + ($$ % 1500) * 8 + ${1:-0}))
}

need() {
    local f
    for f in "$@"; do
        if [ ! -x "$f" ]; then
            echo "SKIP: $f not available"
            exit 77
        fi
    done
}

fail() {
    echo "FAIL: $*"
    for f in "$WORK"/*.out; do
        [ -f "$f" ] || continue
        echo "---- $f (last 30 lines)"
        tail -n 30 "$f"
    done
    exit 1
}

# wait_for FILE EXTENDED-REGEX SECONDS: 0 when a line of FILE matches within SECONDS, which
# is raised to WAIT_MIN_S (20) at least: a wait for something expected is a limit for a
# loaded machine (CI: two builds' tests beside a fleet test, ASan), never a timing check (a
# test that must bound a time measures it; docs/design/testing.md). Counted in 0.1 s sleeps,
# so a loaded machine only makes it longer.
WAIT_MIN_S=${WAIT_MIN_S:-20}
wait_for() {
    local file=$1 re=$2 secs=$3 i
    [ "$secs" -ge "$WAIT_MIN_S" ] || secs=$WAIT_MIN_S
    for ((i = 0; i < secs * 10; i++)); do
        if [ -f "$file" ] && grep -Eq -- "$re" "$file"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# start_bg NAME CMD...: runs CMD in the background, output to $WORK/NAME.out, PID recorded.
start_bg() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    eval "PID_$name=$!"
}

# start_chronyd_server PORT: Debian's chronyd as a local stratum 2 server, -x (clock never
# touched), its files in $WORK.
start_chronyd_server() {
    local port=$1
    cat >"$WORK/chronyd.conf" <<CONF
local stratum 2
port $port
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
driftfile $WORK/chronyd.drift
CONF
    start_bg chronyd "$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf"
}

# start_chronyd_client LINE...: Debian's chronyd -x (clock never touched) with the given
# chrony.conf lines (its sources), no NTP port, its command socket and files in $WORK.
start_chronyd_client() {
    {
        printf '%s\n' "$@"
        printf '%s\n' "port 0" "cmdport 0" "bindcmdaddress $WORK/chronyd.sock" \
            "pidfile $WORK/chronyd.pid"
    } >"$WORK/chronyd.conf"
    start_bg chronyd "$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf"
}

# LOOPBACK_OFF_S: the bound for an offset measured between two daemons on loopback, which
# share one clock: loopback noise is far below 1 ms. Under valgrind (TEMPUS_VALGRIND) each
# side's work between a clock read and its send or receive runs 20-50x slower and the
# exchange turns asymmetric by milliseconds (session 8's CI: -Q over IPv6 read -2.8 ms),
# so there the bound is 20 ms: that run checks memory, not accuracy.
LOOPBACK_OFF_S=0.001
[ -n "${TEMPUS_VALGRIND:-}" ] && LOOPBACK_OFF_S=0.02

# abs_le X LIMIT: true when X is a number and |X| <= LIMIT (floating point). An empty or
# unparsed X is false (awk reads it as 0, which passed every bound before).
abs_le() {
    awk -v x="$1" -v l="$2" 'BEGIN { if (x !~ /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1
        if (x < 0) x = -x; exit !(x <= l) }'
}

# reach_ok SOURCES-OUTPUT ADDRESS: in a `sources -n` listing, the source's reach register has
# at most one bit clear (symmetric peers poll on their own randomised schedules: now and then
# one polls twice between two of the other's packets).
reach_ok() {
    local r
    r=$(awk -v a="$2" '$2 == a { print $5 }' "$1")
    [ -n "$r" ] || return 1
    local z=$((~8#$r & 0377))
    [ $((z & (z - 1))) = 0 ]
}

# still_reaching LABEL CLIENT SOCKET ADDRESS OUT: CLIENT's (tempusc's or chronyc's) `sources
# -n` into OUT, its last line logged after LABEL; true when ADDRESS's reach is reach_ok.
still_reaching() {
    "$2" -n -h "$3" sources >"$5" 2>&1
    echo "$1: $(tail -n 1 "$5")"
    reach_ok "$5" "$4"
}

# poll_until SECONDS CMD...: runs CMD (a command or function) every 0.2 s until it succeeds
# (0) or SECONDS have passed (1). POLLED_S: whole seconds it took. For conditions that take a
# while under load: no fixed sleeps.
poll_until() {
    local secs=$1 i
    shift
    for ((i = 1; i <= secs * 5; i++)); do
        sleep 0.2
        if "$@"; then
            POLLED_S=$((i / 5))
            return 0
        fi
    done
    POLLED_S=$secs
    return 1
}

# ntp_field FILE NAME: the value after "NAME :" in `ntpdata` output (tempusc's or chronyc's):
# a number without its unit, or Yes/No.
ntp_field() {
    sed -nE "s/^$2 *: ([-+0-9.e]+|Yes|No)( seconds)?\$/\\1/p" "$1"
}

# ntp_summary FILE LABEL: the fields of an `ntpdata` output worth a log line, on one line.
ntp_summary() {
    grep -E '^(Mode|Stratum|Interleaved|Offset|Peer delay|NTP tests|TX timestamping|Total RX|Total valid RX|Total good)' \
        "$1" | tr -s ' ' | paste -sd' ' | sed "s/^/$2: /"
}
