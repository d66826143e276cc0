# shellcheck shell=bash
# Shared boilerplate of the standalone system tests that count their failures and run in
# network namespaces of their own (interop, auth/ntpdig, seed/topology, deploy/fleet,
# install/firewall, install/wait_unit). Sourced after `set -u`; bash only.
#   skip, need_root_netns, need_exec    exit 77 with the reason
#   stop_pids PID...                    TERM, a moment, KILL
#   work_dir PREFIX MODE                $WORK, and the EXIT/INT/TERM traps that clean up
#   ok, fail, die, finish               "ok: ..."; "FAIL: ..." counted in FAILS; fatal; the end
#   all_alive                           fail for each daemon of PIDS that exited
#   abs_le, netns_new, bridge_new, plug, inns, unpriv, fetch_ntpsec
# What the test fills in (all optional):
#   PIDS          daemons it started: stopped by PID on exit, checked by all_alive
#   EXTRA_PIDS    helpers it started: stopped by PID on exit
#   ALL_NS        namespaces (netns_new adds to it): every process inside is one this test
#                 started, so on exit each is stopped by PID, then the namespace deleted
#   STOP_TENTHS   how long each process may take to exit after TERM before KILL (20 = 2 s)
#   DIE_GLOBS     files under $WORK whose last DIE_TAIL (20) lines die() shows (*.out)
#   cleanup_hook  a function the exit trap runs first (processes outside PIDS, say)
#   NS            the namespace inns and unpriv run in
# Ground rules kept here: processes are stopped only by the PIDs this test knows, and traffic
# stays in the test's namespaces (never the host's network).

PIDS=()
EXTRA_PIDS=()
ALL_NS=()
STOP_TENTHS=20
DIE_GLOBS=("*.out")
DIE_TAIL=20
FAILS=0
WORK=

skip() {
    echo "SKIP: $*"
    exit 77
}

need_root_netns() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    ip netns list >/dev/null 2>&1 || skip "ip netns unavailable"
}

# need_exec FILE...: skip unless each is an executable file.
need_exec() {
    local f
    for f in "$@"; do
        [ -x "$f" ] || skip "$f not available"
    done
}

# stop_pids PID...: TERM to all, then each gets STOP_TENTHS tenths of a second to exit before
# KILL.
stop_pids() {
    local p i
    for p in "$@"; do kill "$p" 2>/dev/null; done
    for p in "$@"; do
        for ((i = 0; i < STOP_TENTHS; i++)); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$p" 2>/dev/null
    done
}

# The exit trap: every process this test started (PIDS, EXTRA_PIDS, anything inside ALL_NS)
# stopped, the namespaces deleted, $WORK removed (KEEP_WORK=1 keeps it).
# shellcheck disable=SC2317 # (called by the trap)
common_cleanup() {
    local p n all=()
    if declare -F cleanup_hook >/dev/null; then cleanup_hook; fi
    for n in "${ALL_NS[@]}"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do all+=("$p"); done
    done
    stop_pids "${all[@]}" "${PIDS[@]}" "${EXTRA_PIDS[@]}"
    for n in "${ALL_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
    if [ -n "$WORK" ]; then
        if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
    fi
}

# work_dir PREFIX MODE: WORK=/tmp/tempus-PREFIX.XXXXXX with MODE (755 where nobody must enter
# it, else 700); cleaned up on exit, also on INT/TERM.
work_dir() {
    WORK=$(mktemp -d "/tmp/tempus-$1.XXXXXX") || {
        echo "FAIL: mktemp"
        exit 1
    }
    chmod "$2" "$WORK"
    trap common_cleanup EXIT
    trap "exit 130" INT
    trap "exit 143" TERM
}

ok() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

# die MESSAGE: fatal; shows the tail of the logs named by DIE_GLOBS.
die() {
    local g f
    echo "FAIL: $*"
    for g in "${DIE_GLOBS[@]}"; do
        for f in "$WORK"/$g; do
            [ -f "$f" ] || continue
            echo "---- $f (last $DIE_TAIL lines)"
            tail -n "$DIE_TAIL" "$f"
        done
    done
    exit 1
}

# finish: exit 1 (through die) if any check failed, else print PASS.
finish() {
    [ "$FAILS" = 0 ] || die "$FAILS check(s) failed"
    echo PASS
}

# all_alive: every daemon of PIDS still runs (none crashed during the checks).
all_alive() {
    local p
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || fail "daemon $p exited"; done
}

# abs_le X LIMIT: true when X is a number and |X| <= LIMIT.
abs_le() {
    awk -v x="$1" -v l="$2" 'BEGIN { if (x == "" || x !~ /^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/) exit 1; if (x < 0) x = -x; exit !(x <= l) }'
}

# netns_new NS...: new namespaces with lo up, added to ALL_NS (deleted on exit).
netns_new() {
    local n
    for n in "$@"; do
        ALL_NS+=("$n")
        ip netns add "$n" || die "ip netns add $n"
        ip -n "$n" link set lo up || die "lo up in $n"
    done
}

# bridge_new NS: a bridge br0 (up) in NS, for plug.
bridge_new() {
    ip -n "$1" link add br0 type bridge || die "bridge in $1"
    ip -n "$1" link set br0 up
}

# plug BRIDGE_NS NS ADDR/LEN: a veth from NS (eth0, ADDR) to BRIDGE_NS's br0, created in the
# namespaces directly, so no interface ever appears in the host's namespace.
PLUG_N=0
plug() {
    local br=$1 ns=$2 cidr=$3 port=p$PLUG_N
    PLUG_N=$((PLUG_N + 1))
    ip -n "$br" link add "$port" type veth peer name eth0 netns "$ns" || die "veth for $ns"
    ip -n "$br" link set "$port" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$cidr" dev eth0
    ip -n "$ns" link set eth0 up
}

inns() { ip netns exec "$NS" "$@"; }

# unpriv CMD...: in $NS as nobody, without any capability (so not CAP_SYS_TIME): a query-only
# client that misbehaved still could not set the clock.
unpriv() {
    inns setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
        --bounding-set=-all "$@"
}

# fetch_ntpsec: ntpsec's ntpdig and ntpdate unpacked (never installed) under
# INTEROP_NTPSEC_DIR or $BUILD/interop-ntpsec by interop/fetch-ntpsec.sh. Sets NTPSEC_ROOT
# and NTPSEC_ENV (env PATH=... PYTHONPATH=... HOME=/nonexistent, a prefix for their commands);
# dies when the packages cannot be fetched.
fetch_ntpsec() {
    local dir=${INTEROP_NTPSEC_DIR:-$BUILD/interop-ntpsec}
    NTPSEC_ROOT=$("$SRC/tests/system/interop/fetch-ntpsec.sh" "$dir" 2>"$WORK/fetch.out" | tail -n 1)
    if [ ! -x "$NTPSEC_ROOT/usr/bin/ntpdig" ]; then
        cat "$WORK/fetch.out"
        die "could not fetch ntpsec's ntpdig/ntpdate (apt-get update done? see scripts/deps.sh)"
    fi
    chmod -R a+rX "$dir"
    # shellcheck disable=SC2034 # used by the sourcing test
    NTPSEC_ENV=(env "PATH=$NTPSEC_ROOT/usr/bin:/usr/bin:/bin"
        "PYTHONPATH=$NTPSEC_ROOT/usr/lib/python3/dist-packages" HOME=/nonexistent)
}
