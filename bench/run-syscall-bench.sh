#!/usr/bin/env bash
# System calls per reply: each server under `strace -c -f` (counts by system call), loaded by
# a closed loop with WINDOW requests in flight for DUR_S seconds, then the calls of the run
# divided by the replies. See docs/design/bench.md.
#
#   bench/run-syscall-bench.sh [BUILDDIR]
#
# strace stops the server at every system call, so the server is several times slower than
# without it and its batches are fuller than they would be: the counts say what the path does
# per batch and per reply (poll wake-ups, recvmmsg and sendmmsg calls, clock reads that are
# not vDSO), not how fast it is. A run without load is subtracted (start-up, timers).
# TRACER=perf (session 7): counts with perf's syscall tracepoints on the running server
# instead (`perf stat -e syscalls:sys_enter_NAME -p PID`, a fixed list of the calls a server
# makes, plus raw_syscalls:sys_enter as "ALL"): no slow-down, so the batches are what they
# are without a tracer; RATE=R (with TRACER=perf) loads open loop at R requests/s instead of
# the closed-loop windows (RATE=1000000: saturation as run-server-bench's top step).
# Environment: DUR_S (3), WINDOW (128 and 1: "saturated" and "one at a time"), SOURCES
# ("-a 2000 -P 2"), SERVERS ("echo chronyd tempusd"; tempusd@X: the binary $TEMPUSD_X).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
TRACER=${TRACER:-strace}
RATE=${RATE:-}
if [ "$TRACER" = perf ]; then
    command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 77; }
    [ -z "$RATE" ] || WINDOWS=${WINDOWS:-$RATE}
else
    command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 77; }
fi
PERF_CALLS="recvmmsg sendmmsg sendmsg recvmsg recvfrom sendto poll ppoll pselect6 select epoll_wait epoll_pwait clock_gettime gettimeofday read write futex nanosleep clock_nanosleep timerfd_settime adjtimex clock_adjtime"

DUR_S=${DUR_S:-3}
WINDOWS=${WINDOWS:-"128 1"}
SOURCES=${SOURCES:-"-a 2000 -P 2"}
SERVERS=${SERVERS:-"echo chronyd tempusd"}
awk "BEGIN {exit !($DUR_S > 0 && $DUR_S <= 20)}" || { echo "DUR_S must be in (0, 20]" >&2; exit 1; }

echo "# System calls per reply ($([ "$TRACER" = perf ] && echo "perf syscall tracepoints" || echo "strace -c -f"))"
bench_conditions
echo "method: (calls loaded - calls idle) / replies, $DUR_S s a run, $([ -n "$RATE" ] && [ "$TRACER" = perf ] && echo "open loop" || echo "closed loop"), sources: $SOURCES"

# run_one SERVER WINDOW: one run under strace (WINDOW 0: idle); sets R_FILE, R_REPLIES.
run_one() {
    local s=$1 win=$2 port row pid
    port=$(bench_free_port)
    if [[ $s == tempusd* ]] && ! bench_tempusd_bin "$s"; then
        R_FILE=
        return
    fi
    mapfile -t cmd < <(bench_server_cmd "$s" "$port")
    R_FILE=$BENCH_TMP/strace.$s.$win
    if [ "$TRACER" = perf ]; then
        run_one_perf "$s" "$win" "$port" "${cmd[@]}"
        return
    fi
    bench_start "st-$s-$win" strace -c -f -o "$R_FILE" "${cmd[@]}"
    pid=$BENCH_PID
    if ! bench_wait_ready "$port" "$pid" 20; then
        bench_stop "$pid"
        R_FILE=
        return
    fi
    R_REPLIES=0
    if [ "$win" = 0 ]; then
        sleep "$DUR_S"
    else
        # shellcheck disable=SC2086
        row=$(bench_load -p "$port" -r 0 -w "$win" -b "$((win < 64 ? win : 64))" -d "$DUR_S" \
            -t 1000 $SOURCES -l "$s")
        R_REPLIES=$(csv_field "$row" 6)
    fi
    # strace writes its summary when the server exits: stop the server (strace's child)
    local child
    child=$(ps -o pid= --ppid "$pid" | head -1 | tr -d ' ')
    [ -n "$child" ] && kill "$child" 2>/dev/null
    bench_stop "$pid"
}

# run_one_perf SERVER WINDOW PORT CMD...: run_one with perf counting on the running server
# (WINDOW 0: idle; with RATE set, WINDOW is the open-loop rate).
run_one_perf() {
    local s=$1 win=$2 port=$3 pid pp ev="raw_syscalls:sys_enter" c row
    shift 3
    bench_start "pf-$s-$win" "$@"
    pid=$BENCH_PID
    if ! bench_wait_ready "$port" "$pid" 20; then
        bench_stop "$pid"
        R_FILE=
        return
    fi
    for c in $PERF_CALLS; do ev="$ev,syscalls:sys_enter_$c"; done
    perf stat -x, -e "$ev" -p "$pid" -o "$R_FILE.perf" &
    pp=$!
    sleep 0.3 # perf attached
    R_REPLIES=0
    if [ "$win" = 0 ]; then
        sleep "$DUR_S"
    elif [ -n "$RATE" ]; then
        # shellcheck disable=SC2086
        row=$(bench_load -p "$port" -r "$win" -b 64 -d "$DUR_S" -t 100 $SOURCES -l "$s")
        R_REPLIES=$(csv_field "$row" 6)
    else
        # shellcheck disable=SC2086
        row=$(bench_load -p "$port" -r 0 -w "$win" -b "$((win < 64 ? win : 64))" -d "$DUR_S" \
            -t 1000 $SOURCES -l "$s")
        R_REPLIES=$(csv_field "$row" 6)
    fi
    kill -INT "$pp" 2>/dev/null
    wait "$pp" 2>/dev/null
    # "count,,syscalls:sys_enter_NAME,..." -> "# perf" then "NAME count" lines
    { echo "# perf"; awk -F, '$1 ~ /^[0-9]+$/ {n = $3; sub(/^syscalls:sys_enter_/, "", n);
        sub(/^raw_syscalls:sys_enter$/, "ALL", n); print n, $1}' "$R_FILE.perf"; } >"$R_FILE"
    bench_stop "$pid"
}

# calls FILE: "name count" lines of an strace -c summary (or of run_one_perf's file).
calls() {
    if head -1 "$1" | grep -q '^# perf'; then
        tail -n +2 "$1"
        return
    fi
    # "% time seconds usecs/call calls [errors] syscall": calls is the 4th field either way
    awk '$1 ~ /^[0-9.]+$/ && NF >= 5 {print $NF, $4}' "$1"
}

for s in $SERVERS; do
    run_one "$s" 0
    [ -n "$R_FILE" ] || { echo "note: $s did not start or answer under $TRACER: skipped"; continue; }
    idle=$R_FILE
    for win in $WINDOWS; do
        run_one "$s" "$win"
        if [ -z "$R_FILE" ] || [ "${R_REPLIES:-0}" -le 0 ]; then
            echo "note: $s, $win in flight: no replies"
            continue
        fi
        echo
        what="$win in flight"
        [ -z "$RATE" ] || [ "$TRACER" != perf ] || what="open loop at $win/s"
        echo "$s, $what: $R_REPLIES replies; per reply (per 1000 replies):"
        join -a 1 -e 0 -o 0,1.2,2.2 <(calls "$R_FILE" | sort) <(calls "$idle" | sort) |
            awk -v r="$R_REPLIES" '{d = $2 - $3; if (d > 0) printf "  %-16s %8.3f  (%.0f)\n", $1, d / r, 1000 * d / r}' |
            sort -k2 -gr
    done
done
