#!/usr/bin/env bash
# tempusc against Debian's chronyd on loopback: for every command of chronyc 4.3 that talks to
# the daemon (all monitoring commands, every state-changing one but shutdown, and privileged
# ones over UDP), chronyc and tempusc ask the same daemon at the same moment;
# their outputs must agree once changing numbers are masked, and so must their exit codes.
# Also: every report parses as JSON with tempusc -j, over the Unix socket and over UDP.
#
# Two chronyd -x (never touching the clock): A serves NTP on 127.0.0.1 (local stratum 10);
# C is A's client with a refclock that never gets samples, like shared/vectors/cmdmon/setup.
# Ports come from this shell's PID so that parallel runs do not collide.
# Usage: vs_chronyd.sh TEMPUSC [SECTION]   (SECTION: all, compare, json)
set -u
TEMPUSC=$(readlink -f "$1")
SECTION=${2:-all}
CHRONYD=${CHRONYD:-/usr/sbin/chronyd}
CHRONYC=${CHRONYC:-/usr/bin/chronyc}
PY=${PYTHON:-/usr/bin/python3} # not the pyenv shim on PATH: 3 s a start on a loaded machine

if [ ! -x "$CHRONYD" ] || [ ! -x "$CHRONYC" ]; then
    echo "SKIP: chronyd/chronyc not installed"; exit 77
fi
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (chronyd -u root keeps its Unix socket reachable)"; exit 77
fi

DIR=$(mktemp -d /tmp/tempusc-sys.XXXXXX)
BASE=$((20000 + ($$ % 2000) * 4))
NTP_A=$BASE CMD_A=$((BASE + 1)) CMD_C=$((BASE + 2)) NTP_X=$((BASE + 3))
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

mkdir -m 0770 -p "$DIR/a/sock" "$DIR/c/sock"
cat >"$DIR/a.conf" <<CONF
port $NTP_A
bindaddress 127.0.0.1
local stratum 10
allow 127.0.0.1
cmdport $CMD_A
bindcmdaddress 127.0.0.1
bindcmdaddress $DIR/a/sock/chronyd.sock
pidfile $DIR/a/chronyd.pid
driftfile $DIR/a/drift
CONF
cat >"$DIR/c.conf" <<CONF
server 127.0.0.1 port $NTP_A iburst minpoll 0 maxpoll 0
refclock SOCK $DIR/c/refclock.sock refid SOCK
port 0
bindacqaddress 127.0.0.1
cmdport $CMD_C
bindcmdaddress 127.0.0.1
bindcmdaddress $DIR/c/sock/chronyd.sock
cmdallow 127.0.0.1
pidfile $DIR/c/chronyd.pid
driftfile $DIR/c/drift
CONF
# -x: never touch this machine's clock. -d: stay in the foreground, so $! is the daemon.
"$CHRONYD" -x -d -u root -f "$DIR/a.conf" >"$DIR/a.log" 2>&1 &
PIDS+=($!)
"$CHRONYD" -x -d -u root -f "$DIR/c.conf" >"$DIR/c.log" 2>&1 &
PIDS+=($!)

SOCK_C=$DIR/c/sock/chronyd.sock
# Wait (at most 30 s) until C has selected A, so that every report has content.
for _ in $(seq 60); do
    if "$CHRONYC" -h "$SOCK_C" -n sources 2>/dev/null | grep -q '^\^\*'; then break; fi
    sleep 0.5
done
if ! "$CHRONYC" -h "$SOCK_C" -n sources 2>/dev/null | grep -q '^\^\*'; then
    echo "FAIL: chronyd C did not synchronise to A"; cat "$DIR/a.log" "$DIR/c.log"; exit 1
fi

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok $*"; }
notok() { fail=$((fail + 1)); echo "not ok $*"; }

# Numbers change between two runs: mask them (with their units) and the words that follow
# their sign, and drop blanks so that a wider number or unit does not count as a difference.
mask() {
    sed -E -e 's/(slow|fast)/DIR/g' \
        -e 's/[-+]?[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h|d|y)?/N/g' \
        -e 's/[[:space:]]+//g'
}

compare() { # compare "LABEL" HOSTARGS... -- CMD...
    local label=$1; shift
    local args=()
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    "$CHRONYC" "${args[@]}" "$@" >"$DIR/want" 2>"$DIR/want.err"; local rc_want=$?
    "$TEMPUSC" "${args[@]}" "$@" >"$DIR/got" 2>"$DIR/got.err"; local rc_got=$?
    if [ $rc_want != $rc_got ]; then
        notok "$label: exit $rc_got, chronyc $rc_want"; cat "$DIR/want" "$DIR/got"; return
    fi
    if ! diff <(mask <"$DIR/want") <(mask <"$DIR/got") >"$DIR/diff"; then
        notok "$label: output differs from chronyc's (masked)"
        diff "$DIR/want" "$DIR/got"
        return
    fi
    ok "$label"
}

UNIX=(-h "$SOCK_C")
UDP=(-h 127.0.0.1 -p "$CMD_C")

if [ "$SECTION" = all ] || [ "$SECTION" = compare ]; then
    for cmd in "tracking" "sources" "sources -v" "sources -a" "sourcestats" "sourcestats -v" \
        "selectdata" "selectdata -v" "ntpdata" "ntpdata 127.0.0.1" "activity" "serverstats" \
        "clients" "clients -k" "authdata" "authdata -v" "smoothing" "rtcdata" "manual list" \
        "sourcename 127.0.0.1" "waitsync 1" "accheck 127.0.0.1" "cmdaccheck 192.0.2.1" \
        "delete 192.0.2.1" "minpoll 127.0.0.1 0" "maxdelay 127.0.0.1 3" "reselect" \
        "burst 2/4 127.0.0.1" "smoothtime reset" "manual delete 5" "ntpdata 192.0.2.1"; do
        # shellcheck disable=SC2086
        compare "unix -n $cmd" "${UNIX[@]}" -n -- $cmd
        # shellcheck disable=SC2086
        compare "unix -c $cmd" "${UNIX[@]}" -c -- $cmd
    done
    compare "unix -N sources" "${UNIX[@]}" -n -N -- sources
    compare "unix dns tracking" "${UNIX[@]}" -- tracking
    compare "unix dns sources" "${UNIX[@]}" -- sources
    compare "unix dns clients" -h "$DIR/a/sock/chronyd.sock" -- clients
    for cmd in "tracking" "sources" "sourcestats" "activity" "manual list" "smoothing" \
        "rtcdata" "serverstats" "ntpdata 127.0.0.1" "selectdata" "clients" "makestep" \
        "sourcename 127.0.0.1"; do
        # shellcheck disable=SC2086
        compare "udp -n $cmd" "${UDP[@]}" -n -- $cmd
    done
    compare "udp6/udp4 list tracking" -h "::1,127.0.0.1" -p "$CMD_C" -n -- tracking
    compare "server A tracking" -h 127.0.0.1 -p "$CMD_A" -n -- tracking
    compare "server A serverstats" -h "$DIR/a/sock/chronyd.sock" -n -- serverstats
    compare "-m" "${UNIX[@]}" -n -m -- tracking activity
    compare "nothing listens" -h 127.0.0.1 -p "$NTP_X" -n -- tracking
    # -E: the explanation block follows the unchanged table; SOCK never has samples.
    for cmd in sources selectdata; do
        "$TEMPUSC" "${UNIX[@]}" -n -E $cmd >"$DIR/e" 2>&1
        "$TEMPUSC" "${UNIX[@]}" -n $cmd >"$DIR/plain" 2>&1
        n=$(wc -l <"$DIR/plain")
        if grep -q '^Why sources are not selected:$' "$DIR/e" && grep -q '^  SOCK: ' "$DIR/e" &&
            diff <(head -n "$n" "$DIR/e" | mask) <(mask <"$DIR/plain") >/dev/null; then
            ok "-E $cmd: $(grep '^  SOCK: ' "$DIR/e")"
        else
            notok "-E $cmd"; cat "$DIR/e"
        fi
    done
    # A real add and delete: chronyd 4.3 accepts tempusc's ADD_SOURCE (with max_unreach).
    for client in "$TEMPUSC" "$CHRONYC"; do
        out=$("$client" "${UNIX[@]}" -n add server 127.0.0.2 port "$NTP_X" minpoll 4 2>&1)
        if [ "$out" = "200 OK" ]; then ok "$(basename "$client") add server"; else notok "$(basename "$client") add server: $out"; fi
        out=$("$client" "${UNIX[@]}" -n delete 127.0.0.2 2>&1)
        if [ "$out" = "200 OK" ]; then ok "$(basename "$client") delete"; else notok "$(basename "$client") delete: $out"; fi
    done
    # The remaining commands of chronyc 4.3, each sent by both clients to chronyd C over the
    # Unix socket: the same status line (or error) from both. chronyd runs with -x, so dfreq,
    # doffset and makestep cannot touch this machine's clock; 'reset sources' comes last.
    for cmd in "online" "offline 192.0.2.1" "onoffline" "online 127.0.0.1" \
        "local stratum 10 distance 1.0" "local off" "allow 192.0.2.0/24" "deny 192.0.2.0/24" \
        "allow all 198.51.100.0/24" "deny all 198.51.100.0/24" "cmdallow 192.0.2.1" \
        "cmddeny 192.0.2.1" "dfreq 0.0" "doffset 0.0" "makestep 1 -1" "maxupdateskew 100" \
        "maxpoll 127.0.0.1 0" "polltarget 127.0.0.1 8" "minstratum 127.0.0.1 0" \
        "maxdelayratio 127.0.0.1 0" "maxdelaydevratio 127.0.0.1 10" "reselectdist 0.0001" \
        "cyclelogs" "dump" "refresh" "reload sources" "rekey" "writertc" "trimrtc" \
        "settime 12:00:00" "manual off" "smoothtime activate" "reset sources"; do
        # shellcheck disable=SC2086
        compare "unix -n $cmd" "${UNIX[@]}" -n -- $cmd
    done
    # Privileged commands over UDP: refused by chronyd (501) as tempusc reports it.
    for cmd in "online" "dfreq 0.0" "local off" "allow 192.0.2.0/24"; do
        # shellcheck disable=SC2086
        compare "udp -n $cmd" "${UDP[@]}" -n -- $cmd
    done
fi

if [ "$SECTION" = all ] || [ "$SECTION" = json ]; then
    for cmd in "tracking" "sources" "sourcestats" "selectdata" "ntpdata" "activity" \
        "serverstats" "clients" "authdata" "smoothing" "rtcdata" "manual list" \
        "sourcename 127.0.0.1" "waitsync 1" "burst 1/2" "delete 192.0.2.1"; do
        # shellcheck disable=SC2086
        "$TEMPUSC" "${UNIX[@]}" -j $cmd >"$DIR/j" 2>"$DIR/j.err"
        rc=$?
        if "$PY" -c 'import json,sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(docs) == 1, "one document per command"
d = docs[0]
assert d["command"] == sys.argv[2].split()[0]
assert d["exit_status"] == int(sys.argv[3])' "$DIR/j" "$cmd" "$rc" 2>"$DIR/j.py"; then
            ok "json $cmd"
        else
            notok "json $cmd: $(cat "$DIR/j.py" | tail -1)"; cat "$DIR/j"
        fi
    done
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
