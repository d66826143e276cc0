#!/usr/bin/env bash
# User-space instructions per reply, counted by valgrind's callgrind (stable where wall-clock
# throughput on a shared machine is not). See docs/design/bench.md.
#
#   bench/run-instr-bench.sh [BUILDDIR]
#
# Method: each configuration runs three times under callgrind, DUR_S seconds each: idle (no
# load), "one at a time" (closed loop, one request in flight: every reply costs a full turn of
# the server's event loop) and "saturated" (closed loop with WINDOW requests in flight: the
# server always finds a queue and batches as well as it can; chrony's figures in the issue were
# taken this way). Start-up, probing, timers and shutdown cost the same in all three, so
#     instructions per reply = (Ir_loaded - Ir_idle) / replies_loaded.
# Closed loops lose nothing, so every request the server read has its reply counted. Perf's
# instructions:u counter would be the direct way, but this virtual machine does not expose it.
#
# Configurations: the echo; chronyd with its client log (default) and with `noclientlog`;
# tempusd with its client log, and with `ratelimit` on top (the bar's case), when it answers a
# probe. CONFIGS may add chronyd-ratelimit and tempusd-noclientlog; tempusd@X-... runs the
# binary $TEMPUSD_X (bench_tempusd_bin in lib.sh), e.g. main's for an A/B.
# The rate limit (interval -8 = 256 requests/s per address, burst 64) is never reached by these
# sources (2000 addresses), so every request is answered while the limiter does its bookkeeping.
# Last, tempus's reply builder alone (bench/respond-bench, core/server + core/clientlog without
# sockets): instructions inside server_answer() + server_finish() per call (the daemon's per-request
# core work; the template is built once), counted with --toggle-collect.
# Environment: DUR_S (2), WINDOW (128), SOURCES ("-a 2000 -P 2"), CONFIGS (all), SUMMARY (a file
# to append "instr.CONFIG N" lines (saturated) to, for run-all.sh), ANNOTATE (a configuration
# name prefix, e.g. tempusd: print where its instructions per reply go, by function), KEEP_CG (a
# directory to copy the annotated profiles to), CACHESIM (1: callgrind's cache simulation on,
# and the data-cache misses per reply, L1 and last level, printed beside the instructions;
# this machine exposes no hardware counters to perf, so this is the user-space cache
# footprint as valgrind's model of the host's caches sees it).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

DUR_S=${DUR_S:-2}
WINDOW=${WINDOW:-128}
SOURCES=${SOURCES:-"-a 2000 -P 2"}
# Also available: chronyd-ratelimit, tempusd-noclientlog (left out by default for time).
CONFIGS=${CONFIGS:-"echo chronyd chronyd-noclientlog tempusd tempusd-ratelimit tempusd-sendmsg-ratelimit"}
RATELIMIT="ratelimit interval -8 burst 64"
awk "BEGIN {exit !($DUR_S > 0 && $DUR_S <= 20)}" || { echo "DUR_S must be in (0, 20]" >&2; exit 1; }
CACHE_SIM=no
[ "${CACHESIM:-0}" = 1 ] && CACHE_SIM=yes

echo "# Instructions per reply (callgrind)"
bench_conditions
echo "method: (Ir loaded - Ir idle) / replies, $DUR_S s a run, closed loop with 1 or $WINDOW requests in flight, sources: $SOURCES, '$RATELIMIT'"

# measure CONFIG WINDOW: one server run under callgrind for DUR_S seconds with WINDOW requests in
# flight (0: no load); sets M_IR, M_REPLIES, or M_IR=no-answer. Not run in a subshell, so that
# the EXIT trap knows the server.
measure() {
    local cfg=$1 win=$2 port kind extra=() out row
    M_D1=
    port=$(bench_free_port)
    kind=${cfg%%-*}
    [[ $cfg == *-batch* ]] && kind=$kind-batch                 # `batchreplies` (bench_server_cmd)
    [[ $cfg == *-sendmsg* ]] && kind=$kind-sendmsg             # `nobatchreplies`
    [[ $cfg =~ -w([0-9]+) ]] && kind=$kind-w${BASH_REMATCH[1]} # `serverworkers N`
    case $cfg in
    *-noclientlog) extra=("noclientlog") ;;
    *-ratelimit) extra=("$RATELIMIT") ;;
    esac
    mapfile -t cmd < <(bench_server_cmd "$kind" "$port" "${extra[@]}")
    out=$CG_DIR/callgrind.$cfg.$win
    # callgrind creates its output as root at start and rewrites it at exit, by then perhaps
    # as the daemon's unprivileged user: let anyone write it.
    : >"$out"
    chmod 666 "$out"
    bench_start "cg-$cfg-$win" valgrind --tool=callgrind --cache-sim="$CACHE_SIM" --branch-sim=no \
        --callgrind-out-file="$out" "${cmd[@]}"
    local pid=$BENCH_PID
    if ! bench_wait_ready "$port" "$pid" 20; then
        bench_stop "$pid"
        M_IR=no-answer
        return
    fi
    M_REPLIES=0
    if [ "$win" = 0 ]; then
        sleep "$DUR_S"
    else
        # shellcheck disable=SC2086
        row=$(bench_load -p "$port" -r 0 -w "$win" -b "$((win < 64 ? win : 64))" -d "$DUR_S" \
            -t 1000 $SOURCES -l "$cfg")
        M_REPLIES=$(csv_field "$row" 6)
    fi
    bench_stop "$pid"
    M_IR=$(awk '$1 == "summary:" {print $2}' "$out" 2>/dev/null)
    # with the cache simulation: D1 and LL data misses (reads + writes)
    M_D1=$(awk '$1 == "events:" {for (i = 2; i <= NF; i++) e[$i] = i}
        $1 == "summary:" {print $e["D1mr"] + $e["D1mw"], $e["DLmr"] + $e["DLmw"]}' "$out" 2>/dev/null)
    if [ -z "$M_IR" ] || [ "$M_IR" = 0 ]; then
        M_IR=no-answer # no profile: the server died, or could not write it
    fi
}

# A daemon that drops root privileges must still be able to write its profile.
CG_DIR=$BENCH_TMP/callgrind
mkdir -p "$CG_DIR"
chmod 711 "$BENCH_TMP"
chmod 777 "$CG_DIR" # not sticky: protected_regular would refuse the reopen

echo
echo "| server | instructions per reply, saturated ($WINDOW in flight) | one at a time | replies (saturated, one at a time) |"
echo "|---|---|---|---|"
notes=()
profiles=()
for cfg in $CONFIGS; do
    if [[ $cfg == tempusd* ]] && ! bench_tempusd_bin "${cfg%%-*}"; then
        notes+=("$cfg: not built or not set (${BENCH_BIN:-empty}): skipped")
        continue
    fi
    measure "$cfg" 0
    if [ "$M_IR" = no-answer ]; then
        notes+=("$cfg: did not answer a probe request under valgrind (or left no profile): skipped")
        continue
    fi
    idle=$M_IR idle_d1=$M_D1
    measure "$cfg" "$WINDOW"
    sat_ir=$M_IR sat_r=$M_REPLIES sat_d1=$M_D1
    measure "$cfg" 1
    one_ir=$M_IR one_r=$M_REPLIES
    if [ "$sat_ir" = no-answer ] || [ "$one_ir" = no-answer ] || [ "${sat_r:-0}" -le 0 ] ||
        [ "${one_r:-0}" -le 0 ]; then
        notes+=("$cfg: a run failed or left no callgrind profile: skipped")
        continue
    fi
    sat=$(awk -v a="$sat_ir" -v b="$idle" -v r="$sat_r" 'BEGIN {printf "%.0f", (a - b) / r}')
    one=$(awk -v a="$one_ir" -v b="$idle" -v r="$one_r" 'BEGIN {printf "%.0f", (a - b) / r}')
    echo "| $cfg | $sat | $one | $sat_r, $one_r |"
    if [ "$CACHE_SIM" = yes ] && [ -n "$sat_d1" ] && [ -n "$idle_d1" ]; then
        awk -v c="$cfg" -v s="$sat_d1" -v i="$idle_d1" -v r="$sat_r" 'BEGIN {
            split(s, a, " "); split(i, b, " ");
            printf "| %s: data-cache misses per reply, saturated (cache simulation) | D1 %.2f | LL %.3f | |\n",
                c, (a[1] - b[1]) / r, (a[2] - b[2]) / r}'
    fi
    if [ -n "${ANNOTATE:-}" ] && [[ $cfg == $ANNOTATE* ]]; then
        profiles+=("$cfg:$CG_DIR/callgrind.$cfg.$WINDOW:$sat_r")
    fi
    [ -z "${SUMMARY:-}" ] || echo "instr.$cfg $sat" >>"$SUMMARY"
done

# The reply builder alone (bench/respond-bench: core/server + core/clientlog, no sockets, no
# event loop): instructions inside server_answer() + server_finish() per call, exact (callgrind's toggle).
RESPOND=$BUILD/bench/respond-bench
if [ -x "$RESPOND" ]; then
    for v in "clientlog:" "noclientlog:-N" "ratelimit:-R"; do
        out=$BENCH_TMP/callgrind.respond.${v%%:*}
        if valgrind --tool=callgrind --cache-sim=no --branch-sim=no --toggle-collect=answer_finish \
            --callgrind-out-file="$out" "$RESPOND" -n 100000 ${v#*:} >/dev/null 2>&1; then
            ir=$(awk '$1 == "summary:" {print $2}' "$out")
            per=$(awk -v a="$ir" 'BEGIN {printf "%.0f", a / 100000}')
            echo "| tempus server_answer() + server_finish() alone, ${v%%:*} | $per | — | 100000 calls, no sockets |"
            [ -z "${SUMMARY:-}" ] || echo "instr.respond-${v%%:*} $per" >>"$SUMMARY"
        else
            notes+=("respond-bench ${v%%:*} failed")
        fi
    done
fi
echo
for n in "${notes[@]}"; do echo "note: $n"; done
# Where the instructions go (saturated run, start-up and idle included): per reply.
for p in "${profiles[@]}"; do
    IFS=: read -r cfg file replies <<<"$p"
    echo
    echo "Profile of $cfg, saturated, instructions per reply by function (self):"
    # KEEP_CG=DIR keeps the profile for line-level annotation (callgrind_annotate --auto=yes).
    [ -z "${KEEP_CG:-}" ] || cp "$file" "$KEEP_CG/" || true
    callgrind_annotate --inclusive=no "$file" 2>/dev/null |
        awk -v r="$replies" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ {
            n = $1; gsub(",", "", n); f = $0; sub(/^ *[0-9,]+ +\([^)]*\) +/, "", f);
            sub(/ \[.*$/, "", f); sub(/^.*\/src\//, "src/", f);
            if (shown++ < 20) printf "  %6.0f  %s\n", n / r, f }'
done
