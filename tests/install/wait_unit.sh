#!/usr/bin/env bash
# tempus-wait.service's command, taken from the unit file, against tempusd as the unit would
# find it: in a network namespace of this test's own (so UDP 323 on 127.0.0.1/::1 is free),
# a tempusd -x client with the default command port. First a client whose server does not
# answer: the same command with 3 tries instead of 0 exits 1 (waitsync really waits for
# synchronisation); then a client of a local tempusd -x server (stratum 2): the unit's exact
# command exits 0 within a minute.
# Needs root and ip netns (exit 77 otherwise).
set -u
BUILD=${TEMPUS_BUILD:?TEMPUS_BUILD not set (run through meson test)}
SRC=${TEMPUS_SRC:?TEMPUS_SRC not set}
TEMPUSD=${TEMPUSD_BIN:-$BUILD/tempusd}
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}

# shellcheck source=tests/system/lib/common.sh
. "$SRC/tests/system/lib/common.sh"
need_root_netns
need_exec "$TEMPUSD" "$TEMPUSC"
work_dir wait 700
DIE_GLOBS=("*.log")
NS=twt$$

# The unit's ExecStart, with the build's tempusc for @BINDIR@/tempusc.
line=$(sed -n 's/^ExecStart=//p' "$SRC/dist/systemd/tempus-wait.service.in")
[[ $line == @BINDIR@/tempusc\ * ]] || { echo "FAIL: unexpected ExecStart: $line"; exit 1; }
read -ra WAIT <<<"${line#@BINDIR@/tempusc }"
echo "unit command: tempusc ${WAIT[*]}"

netns_new "$NS"

# start NAME DIRECTIVE...: tempusd -x -d in the namespace; waits for its control socket.
start() {
    local name=$1
    shift
    ip netns exec "$NS" "$TEMPUSD" -x -d -u root "pidfile $WORK/$name.pid" \
        "bindcmdaddress $WORK/$name.sock" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 50); do [ -S "$WORK/$name.sock" ] && return 0; sleep 0.1; done
    die "$name did not start"
}

# Negative control: nothing answers on 127.0.0.1:11124.
start lonely "server 127.0.0.1 port 11124 iburst minpoll -2 maxpoll -2"
neg=("${WAIT[@]}")
for i in "${!neg[@]}"; do [ "${neg[$i]}" = waitsync ] && neg[i + 1]=3; done
if timeout 30 ip netns exec "$NS" "$TEMPUSC" "${neg[@]}" >"$WORK/neg.out" 2>&1; then
    fail "waitsync with 3 tries succeeded without a reachable source: $(cat "$WORK/neg.out")"
else
    ok "not synchronised: tempusc ${neg[*]} exits 1"
fi
stop_pids "${PIDS[0]}"

start server "local stratum 2" "port 11123" "bindaddress 127.0.0.1" "allow 127.0.0.1" "cmdport 0"
start client "server 127.0.0.1 port 11123 iburst minpoll -2 maxpoll -2"
t0=$(date +%s)
if timeout 60 ip netns exec "$NS" "$TEMPUSC" "${WAIT[@]}" >"$WORK/wait.out" 2>&1; then
    ok "the unit's command exits 0 after $(($(date +%s) - t0)) s"
    ip netns exec "$NS" "$TEMPUSC" -h 127.0.0.1 tracking | grep -E '^(Reference ID|Stratum)'
else
    fail "the unit's command did not succeed within 60 s: $(tail -3 "$WORK/wait.out")"
    tail -5 "$WORK/client.log"
fi

finish
