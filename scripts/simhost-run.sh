#!/bin/bash
# Runs a real time daemon (tempusd or Debian's chronyd) for one tempus-sim scenario in the
# syscall-level simulator (tests/simhost, docs/design/simhost.md) and prints its summary line.
#
# usage: scripts/simhost-run.sh SCENARIO DAEMON SEED [OUTDIR]
#   SCENARIO  a tests/sim/*.scn file
#   DAEMON    tempusd | chronyd | a path to either
#   SEED      the world's seed (the same oscillator and link streams as tempus-sim --seed)
#   OUTDIR    keep chrony.conf, the daemon's log, the CSV and the simulator's log there
# Environment: SIMHOST_BUILD (build dir with tempusd and the library; default ./build),
#   SIMHOST_DURATION (shorter runs, e.g. 1h), SIMHOST_TIMEOUT (wall-clock limit, s; 900),
#   SIMHOST_STRACE=FILE (run under strace, recording every clock-setting system call that
#   reaches the kernel into FILE: there must be none), SIMHOST_WRAP="CMD ARGS" (run the
#   daemon under CMD, e.g. "valgrind -q --error-exitcode=9": a memory check of the real
#   daemon through hours of simulated time), SIMHOST_CONF="LINES" (more chrony.conf lines,
#   for directives the scenario format has no key for, e.g. "leapsectz right/UTC").
#
# The daemon runs WITHOUT -x (the library simulates the kernel clock) and without
# CAP_SYS_TIME (setpriv): whatever the library might miss, the kernel refuses. The library
# itself refuses to start while the process holds CAP_SYS_TIME.
# Exit: 0 and the summary line on stdout; 1 when the run failed; 77 when the daemon or the
# library is missing.
set -u
if [ $# -lt 3 ]; then
    sed -n '2,22p' "$0" >&2
    exit 2
fi
scn=$1 daemon=$2 seed=$3 keep=${4:-}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SIMHOST_BUILD:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
lib=$build/tests/simhost/libtempus-simhost.so
case $daemon in
tempusd) bin=$build/tempusd kind=tempusd ;;
chronyd) bin=/usr/sbin/chronyd kind=chronyd ;;
*chronyd*) bin=$daemon kind=chronyd ;;
*) bin=$daemon kind=tempusd ;;
esac
for f in "$lib" "$bin"; do
    if [ ! -x "$f" ] && [ ! -f "$f" ]; then
        echo "simhost-run: $f missing" >&2
        exit 77
    fi
done
command -v setpriv >/dev/null || { echo "simhost-run: setpriv missing" >&2; exit 77; }
[ -r "$scn" ] || { echo "simhost-run: no scenario $scn" >&2; exit 1; }

tmp=$(mktemp -d /tmp/simhost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# A private copy: a rebuild during the run must not leave the daemon without its world.
cp "$lib" "$tmp/libtempus-simhost.so" && lib=$tmp/libtempus-simhost.so
dir=${keep:-$tmp}
mkdir -p "$dir"

# chrony.conf from the scenario: one `server 127.0.0.K OPTIONS` per [server] (the
# simulated server K answers there), the [client] directives as they are, a drift file with
# the scenario's `drift = FREQ SKEW`, no command port or socket.
awk -v dir="$dir" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    { sub(/#.*/, "") }
    /^[ \t]*$/ { next }
    /^[ \t]*\[/ { sec = trim($0); if (sec == "[server]") { k++; src[k] = "" } next }
    /^at / { next }
    {
        i = index($0, "="); if (!i) next
        key = trim(substr($0, 1, i - 1)); val = trim(substr($0, i + 1))
        if (sec == "[server]" && key == "source") src[k] = val
        if (sec == "[client]") {
            if (key == "drift") { print val > (dir "/drift") }
            else client = client key " " val "\n"
        }
    }
    END {
        for (i = 1; i <= k; i++) printf "server 127.0.0.%d %s\n", i, src[i]
        printf "%s", client
        printf "driftfile %s/drift\ncmdport 0\nbindcmdaddress /\npidfile %s/daemon.pid\n", dir, dir
    }' "$scn" > "$dir/chrony.conf"
[ -n "${SIMHOST_CONF:-}" ] && printf '%s\n' "$SIMHOST_CONF" >> "$dir/chrony.conf"

export SIMHOST_SCENARIO=$scn SIMHOST_SEED=$seed SIMHOST_OUT=$dir/summary
if [ -n "$keep" ]; then
    export SIMHOST_CSV=$dir/run.csv SIMHOST_LOG=$dir/simhost.log
fi
# -d: foreground, log to stderr; -u root: no privilege drop (there is no CAP_SYS_TIME to keep).
# Only root can shrink the bounding set, and only needs to while CAP_SYS_TIME is in it (a
# container may lack it already); any other user has no CAP_SYS_TIME to begin with.
priv=()
capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
if [ "$(id -u)" = 0 ] && (( (0x${capbnd:-0} >> 25) & 1 )); then
    priv=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
fi
wrap=()
if [ -n "${SIMHOST_STRACE:-}" ]; then
    wrap=(strace -f -qq -o "$SIMHOST_STRACE"
        -e trace=clock_adjtime,adjtimex,clock_settime,settimeofday)
fi
timeout -k 5 "${SIMHOST_TIMEOUT:-900}" "${wrap[@]}" "${priv[@]}" env LD_PRELOAD="$lib" ${SIMHOST_WRAP:-} "$bin" -d -f "$dir/chrony.conf" -u root > "$dir/daemon.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -q '^summary ' "$dir/summary" 2>/dev/null; then
    echo "simhost-run: $kind on $scn seed $seed failed (exit $rc); last lines of its log:" >&2
    tail -n 15 "$dir/daemon.log" >&2
    exit 1
fi
echo "$(cat "$dir/summary") daemon=$kind scenario=$(basename "$scn" .scn)"
