#!/usr/bin/env bash
# User-space instructions per reply, counted by valgrind's callgrind (stable where wall-clock
# throughput on a shared machine is not). See docs/design/bench.md.
#
#   bench/run-instr-bench.sh [BUILDDIR]
#
# Method: each configuration runs twice under callgrind for the same wall time, once with a
# light load (N_LO requests) and once with a heavy one (N_HI); start-up, probing, idle timers and
# shutdown cost the same in both, so
#     instructions per reply = (Ir_hi - Ir_lo) / (replies_hi - replies_lo).
# Requests the server never read (socket buffer overflow under valgrind's slowdown) cost it no
# instructions and are not counted as replies. Perf's instructions:u counter would be the direct
# way, but it is not available on this virtual machine.
#
# Configurations: the echo; chronyd with its client log (default), with `noclientlog`, and with
# `ratelimit`; tempusd the same three ways when it answers a probe request.
# Environment: N_LO (1000), N_HI (60000), DUR_S (4), SOURCES ("-a 2000 -P 2"), CONFIGS (all).
# The ratelimit settings (interval -4 = 16 requests/s, burst 16) never limit these sources
# (N_HI / 2000 addresses / DUR_S = 7.5 requests/s each), so every request is answered while the
# limiter does its bookkeeping.
set -u
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

N_LO=${N_LO:-1000}
N_HI=${N_HI:-60000}
DUR_S=${DUR_S:-4}
SOURCES=${SOURCES:-"-a 2000 -P 2"}
CONFIGS=${CONFIGS:-"echo chronyd chronyd-noclientlog chronyd-ratelimit tempusd tempusd-noclientlog tempusd-ratelimit"}
RATELIMIT="ratelimit interval -4 burst 16"
awk "BEGIN {exit !($DUR_S > 0 && $DUR_S <= 20)}" || { echo "DUR_S must be in (0, 20]" >&2; exit 1; }

echo "# Instructions per reply (callgrind)"
bench_conditions
echo "method: (Ir at $N_HI requests - Ir at $N_LO requests) / (difference in replies), $DUR_S s each, sources: $SOURCES"

# measure CONFIG N: one server run under callgrind with N requests; sets M_IR, M_REPLIES and
# M_LOSS, or M_IR=no-answer. Not run in a subshell, so that the EXIT trap knows the server.
measure() {
    local cfg=$1 n=$2 port kind extra=() out row
    port=$(bench_free_port)
    kind=${cfg%%-*}
    case $cfg in
    *-noclientlog) extra=("noclientlog") ;;
    *-ratelimit) extra=("$RATELIMIT") ;;
    esac
    mapfile -t cmd < <(bench_server_cmd "$kind" "$port" "${extra[@]}")
    out=$BENCH_TMP/callgrind.$cfg.$n
    bench_start "cg-$cfg-$n" valgrind --tool=callgrind --cache-sim=no --branch-sim=no \
        --callgrind-out-file="$out" "${cmd[@]}"
    local pid=$BENCH_PID
    if ! bench_wait_ready "$port" "$pid" 20; then
        bench_stop "$pid"
        M_IR=no-answer
        return
    fi
    # shellcheck disable=SC2086
    row=$(bench_load -p "$port" -n "$n" -r "$(awk -v n="$n" -v d="$DUR_S" 'BEGIN {print n / d}')" \
        -d "$DUR_S" -t 500 $SOURCES -l "$cfg")
    bench_stop "$pid"
    M_IR=$(awk '$1 == "summary:" {print $2}' "$out" 2>/dev/null)
    M_IR=${M_IR:-0}
    M_REPLIES=$(csv_field "$row" 6)
    M_REPLIES=${M_REPLIES:-0}
    M_LOSS=$(csv_field "$row" 8)
}

echo
echo "| server | instructions per reply | replies (heavy run) | loss (heavy run) |"
echo "|---|---|---|---|"
notes=()
for cfg in $CONFIGS; do
    if [[ $cfg == tempusd* ]] && [ ! -x "$TEMPUSD" ]; then
        notes+=("$cfg: not built: skipped")
        continue
    fi
    measure "$cfg" "$N_LO"
    if [ "$M_IR" = no-answer ]; then
        notes+=("$cfg: did not answer a probe request under valgrind: skipped")
        continue
    fi
    ir1=$M_IR r1=$M_REPLIES
    measure "$cfg" "$N_HI"
    if [ "$M_IR" = no-answer ] || [ "$M_REPLIES" -le "$r1" ]; then
        notes+=("$cfg: heavy run failed: skipped")
        continue
    fi
    awk -v c="$cfg" -v ir1="$ir1" -v r1="$r1" -v ir2="$M_IR" -v r2="$M_REPLIES" -v l="$M_LOSS" \
        'BEGIN {printf "| %s | %.0f | %d | %s %% |\n", c, (ir2 - ir1) / (r2 - r1), r2, l}'
done
echo
for n in "${notes[@]}"; do echo "note: $n"; done
