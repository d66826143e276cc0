#!/usr/bin/env bash
# The capabilities tempusd keeps after start-up, read from /proc/PID/status of running daemons
# started as root with -u nobody:
#  A. WITHOUT -x (clock control on) and -F 1: CapPrm = CapEff = CapBnd = CAP_SYS_TIME only,
#     CapInh = CapAmb = 0, NoNewPrivs 1, Seccomp 2, Uid/Gid nobody's; the daemon really drove
#     the clock API (the frequency from its drift file was written) and exits 0 on SIGTERM.
#  B. -x with the NTP port below 1024 and no `allow` at start: only CAP_NET_BIND_SERVICE
#     (a run-time `allow` must open that port: done, and the port answers).
#  C. WITHOUT -x but with CAP_SYS_TIME outside the bounding set (a container): the daemon
#     falls back to -x and keeps no capability.
#
# THIS MACHINE'S CLOCK IS NEVER TOUCHED. A and C run tempusd under three independent nets:
#  1. an LD_PRELOAD interposer (fakeclock.c, built here) answers every clock_adjtime/adjtimex/
#     ntp_adjtime/clock_settime/settimeofday/stime call with a fake kernel state: nothing
#     reaches the kernel, reads included;
#  2. the daemon runs in a user namespace of its own (uids mapped 1:1): its CAP_SYS_TIME is
#     the namespace's, and the kernel checks CAP_SYS_TIME in the initial namespace for every
#     clock change, so a call that slipped past the interposer gets EPERM;
#  3. strace -f traces clock_adjtime, adjtimex, clock_settime and settimeofday and injects
#     EPERM into every one (an injected call never runs in the kernel); any such call in its
#     log means the interposer was bypassed, and the test fails.
# Needs root, a user nobody, strace, a C compiler and user namespaces (skipped otherwise).
. "$(dirname "$0")/../daemon/lib.sh"
need "$TEMPUSD" "$BUILD/tempusc"
TEMPUSC=$BUILD/tempusc
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (privilege drop)"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler for the interposer"; exit 77; }
if [ -n "${TEMPUS_VALGRIND:-}" ]; then
    echo "SKIP: under valgrind (strace and the seccomp filter would trace/police valgrind)"
    exit 77
fi
unshare --user true 2>/dev/null || { echo "SKIP: no user namespaces"; exit 77; }
SECCOMP=0
"$TEMPUSD" -v | grep -q '+SCFILTER' && SECCOMP=1
# The interposer comes before ASan's runtime in the library list; LeakSanitizer cannot run
# under strace (it ptraces its own threads) nor under the filter: leaks are checked elsewhere.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:verify_asan_link_order=0

NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
CAP_SYS_TIME_HEX=0000000002000000 # bit 25
CAP_NET_BIND_HEX=0000000000000400 # bit 10
chmod 711 "$WORK"
D=$WORK/d
mkdir "$D" && chown nobody "$D" && chmod 700 "$D"
SO=$WORK/fakeclock.so
"$CC" -shared -fPIC -O1 -o "$SO" "$SRC/tests/system/confine/fakeclock.c" 2>"$WORK/cc.out" ||
    fail "could not build the interposer: $(cat "$WORK/cc.out")"
SYSCALLS=clock_adjtime,adjtimex,clock_settime,settimeofday

status_field() {
    awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"
}

# expect_status NAME PID FIELD VALUE
expect_status() {
    local v
    v=$(status_field "$2" "$3")
    [ "$v" = "$4" ] || fail "$1: $3 is '$v', want '$4'"
}

check_caps() {
    local name=$1 pid=$2 want=$3 f
    expect_status "$name" "$pid" Uid "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
    expect_status "$name" "$pid" Gid "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
    expect_status "$name" "$pid" Groups ""
    for f in CapPrm CapEff CapBnd; do
        expect_status "$name" "$pid" $f "$want"
    done
    for f in CapInh CapAmb; do
        expect_status "$name" "$pid" $f 0000000000000000
    done
    expect_status "$name" "$pid" NoNewPrivs 1
    echo "$name (pid $pid): Uid/Gid nobody, CapPrm = CapEff = CapBnd = $want, CapInh = CapAmb = 0," \
        "NoNewPrivs 1, Seccomp $(status_field "$pid" Seccomp)"
}

# start_netted NAME SETPRIV-ARGS -- TEMPUSD-ARGS...: tempusd under strace (EPERM injected into
# the clock calls), in a user namespace with uids/gids 0-65535 mapped to themselves, with the
# interposer preloaded. Sets PID_NAME to tempusd's PID (strace's is PID_NAME_strace).
start_netted() {
    local name=$1 pre=()
    shift
    while [ "$1" != -- ]; do pre+=("$1"); shift; done
    shift
    mkfifo "$WORK/$name.go"
    start_bg "${name}_strace" strace -f -qq -o "$WORK/$name.strace" -e trace=$SYSCALLS,setuid \
        -e inject=$SYSCALLS:error=EPERM \
        unshare --user -- bash -c 'echo $$ >"$1"; read -r _ <"$2"; shift 2; exec "$@"' _ \
        "$WORK/$name.inner" "$WORK/$name.go" \
        setpriv "${pre[@]}" -- \
        env LD_PRELOAD="$SO" FAKECLOCK_LOG="$WORK/$name.fakeclock" "$TEMPUSD" "$@"
    wait_for "$WORK/$name.inner" '^[0-9]+$' 5 || fail "$name: no user namespace"
    local pid
    pid=$(cat "$WORK/$name.inner")
    echo "0 0 65536" >"/proc/$pid/uid_map" || fail "$name: uid_map"
    echo "0 0 65536" >"/proc/$pid/gid_map" || fail "$name: gid_map"
    echo go >"$WORK/$name.go"
    PIDS=("$pid" "${PIDS[@]}") # the daemon first: killing strace alone would detach it
    eval "PID_$name=$pid"
}

# stop_netted NAME: SIGTERM, exit status 0, and strace saw no clock call (net 3).
stop_netted() {
    local name=$1 pid_var=PID_$1 strace_var=PID_$1_strace rc
    kill "${!pid_var}"
    wait "${!strace_var}"
    rc=$?
    [ $rc -eq 0 ] || fail "$name: exited with status $rc"
    grep -q 'setuid(' "$WORK/$name.strace" || fail "$name: strace did not follow the daemon"
    if grep -E "^[0-9]+ +($(tr , '|' <<<"$SYSCALLS"))\(" "$WORK/$name.strace"; then
        fail "$name: a clock system call bypassed the interposer (EPERM injected by strace)"
    fi
    echo "$name: strace saw no clock system call ($(grep -c . "$WORK/$name.strace") lines:" \
        "$(grep -o 'setuid([0-9]*)' "$WORK/$name.strace" | sort -u | tr '\n' ' '))"
}

# --- A: clock control on, -F 1 -------------------------------------------------------------
CPA=$(port_for 0)
echo "-12.5 0.5" >"$D/a.drift"
chown nobody "$D/a.drift"
cat >"$WORK/a.conf" <<EOF
port 0
cmdport $CPA
bindcmdaddress 127.0.0.1
bindcmdaddress $D/arun/tempusd.sock
cmdallow 127.0.0.1
pidfile $D/arun/tempusd.pid
driftfile $D/a.drift
EOF
FA=()
[ $SECCOMP = 1 ] && FA=(-F 1)
start_netted a -- -d -u nobody "${FA[@]}" -f "$WORK/a.conf"
wait_for "$WORK/a_strace.out" 'Frequency -12\.500 .* read from' 5 || fail "A: did not start"
# the tempusc loops: limits (20 s: a start under strace on a loaded machine), not timing checks
for _ in $(seq 200); do
    "$TEMPUSC" -h "$D/arun/tempusd.sock" tracking >"$WORK/a.tracking" 2>&1 && break
    sleep 0.1
done
grep -q '^Frequency' "$WORK/a.tracking" || fail "A: no tracking: $(cat "$WORK/a.tracking")"
! grep -Eq 'Disabled control|running as with -x' "$WORK/a_strace.out" ||
    fail "A: the daemon did not take control of the (fake) clock"
# It drove the clock through the interposer: PLL off (ADJ_STATUS 0x10) and the drift file's
# -12.5 ppm written (ADJ_FREQUENCY 0x2; freq in 2^-16 ppm, beyond +-500 ppm the tick takes
# the rest, so -12.5 ppm is freq -819200 with the nominal tick).
# has_write FILE BIT: a logged clock_adjtime call whose modes include BIT.
has_write() {
    local name modes rest
    while read -r name modes rest; do
        [ "$name" = clock_adjtime ] && (((${modes#modes=} & $2) != 0)) && return 0
    done <"$1"
    return 1
}
has_write "$WORK/a.fakeclock" 0x10 ||
    fail "A: no ADJ_STATUS write seen by the interposer: $(head "$WORK/a.fakeclock")"
has_write "$WORK/a.fakeclock" 0x2 && grep -Eq 'freq=-?819200 ' "$WORK/a.fakeclock" ||
    fail "A: the drift file's frequency was not written: $(tail -n 5 "$WORK/a.fakeclock")"
# shellcheck disable=SC2154
check_caps "A: no -x${FA[*]:+, -F 1}" "$PID_a" $CAP_SYS_TIME_HEX
[ $SECCOMP = 0 ] || expect_status A "$PID_a" Seccomp 2
stop_netted a
grep -Eq '^ *-12\.5[0-9]* +[0-9.]+$' "$D/a.drift" || fail "A: drift file after exit: $(cat "$D/a.drift")"
echo "A: $(grep -c . "$WORK/a.fakeclock") clock calls answered by the interposer, none reached the kernel"

# --- B: -x, NTP port below 1024 with nothing bound at start ---------------------------------
LOWPORT=1019
CPB=$(port_for 1)
cat >"$WORK/b.conf" <<EOF
port $LOWPORT
bindaddress 127.0.0.1
local stratum 4
cmdport $CPB
bindcmdaddress 127.0.0.1
bindcmdaddress $D/brun/tempusd.sock
cmdallow 127.0.0.1
pidfile $D/brun/tempusd.pid
EOF
start_bg b "$TEMPUSD" -x -d -u nobody -f "$WORK/b.conf"
wait_for "$WORK/b.out" 'Disabled control of system clock' 5 || fail "B: did not start"
for _ in $(seq 200); do
    "$TEMPUSC" -h "$D/brun/tempusd.sock" allow 127.0.0.1 >"$WORK/b.allow" 2>&1 && break
    sleep 0.1
done
grep -q '200 OK' "$WORK/b.allow" || fail "B: allow: $(cat "$WORK/b.allow")"
# shellcheck disable=SC2154
check_caps "B: -x, port $LOWPORT opened at run time" "$PID_b" $CAP_NET_BIND_HEX
"$TEMPUSD" -Q -x "server 127.0.0.1 port $LOWPORT iburst" "maxsamples 1" >"$WORK/bq.out" 2>&1 ||
    fail "B: port $LOWPORT opened after the drop does not answer: $(cat "$WORK/bq.out")"
echo "B: the run-time allow opened port $LOWPORT and it answers"
kill "$PID_b"
wait "$PID_b" || fail "B: exit status $?"

# --- C: no -x, but no CAP_SYS_TIME to be had ------------------------------------------------
CPC=$(port_for 2)
start_netted c --bounding-set=-sys_time --inh-caps=-all -- -d -u nobody "port 0" "cmdport $CPC" \
    "bindcmdaddress 127.0.0.1" "bindcmdaddress $D/crun/tempusd.sock" "pidfile $D/crun/tempusd.pid"
wait_for "$WORK/c_strace.out" 'Could not control system clock' 5 ||
    fail "C: no fallback to -x without CAP_SYS_TIME"
for _ in $(seq 200); do
    "$TEMPUSC" -h "$D/crun/tempusd.sock" tracking >"$WORK/c.tracking" 2>&1 && break
    sleep 0.1
done
grep -q '^Frequency' "$WORK/c.tracking" || fail "C: no tracking: $(cat "$WORK/c.tracking")"
# shellcheck disable=SC2154
check_caps "C: no -x, no CAP_SYS_TIME" "$PID_c" 0000000000000000
stop_netted c
[ ! -s "$WORK/c.fakeclock" ] || fail "C: clock calls without CAP_SYS_TIME: $(cat "$WORK/c.fakeclock")"
echo "PASS"
