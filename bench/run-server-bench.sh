#!/usr/bin/env bash
# Server throughput and latency: the bare UDP echo (the machine's ceiling), Debian's chronyd -x
# and tempusd -x under the same load, server pinned to one CPU and the load generator to the
# other. See docs/design/bench.md.
#
#   bench/run-server-bench.sh [BUILDDIR]
#
# Method: the servers run side by side on their own ports (idle ones cost nothing) and the load
# ramps are interleaved step by step (each rate of ramp 1 to every server in turn, the first
# server rotating, then ramp 2 ...) so that noise from other work on the machine, and its
# changes of speed, fall on all of them alike. A ramp offers RATES requests/s in turn for STEP_S
# seconds each; its result is the highest replies/s of its steps. The result of a server is the
# median over RAMPS ramps (the bar's measure: the ratio of two such medians); also printed, the
# median of the per-ramp ratios to the echo (paired: the same ramp's interleaved steps). Latency is measured at LAT_RATE requests/s: LAT_REPS rounds, each
# giving every server one run, in an order that rotates from round to round (so that no server
# always runs right after the same other); per server the medians of p50/p99/p99.9 and the
# range of its p99s, and for tempusd against chronyd the median of the rounds' p99 ratios
# (paired: both ran within seconds of each other) and in how many rounds tempusd's p99 was
# not above chronyd's.
# tempusd is included when it answers a probe request; otherwise it is skipped with a note.
#
# Environment: RAMPS (6), STEP_S (1), RATES ("200000 400000 600000 800000 1000000": the top must
# stay above the echo's peak, which reached the old top of 500000 on a quiet machine),
# LAT_RATE (10000), LAT_S (2), LAT_REPS (9), SOURCES ("-a 1000 -P 4"), SERVERS
# ("echo chronyd tempusd tempusd-sendmsg"; tempusd replies with sendmmsg, its default;
# tempusd-sendmsg = tempusd with `nobatchreplies`; tempusd-wN, tempusd-sendmsg-wN: with
# `serverworkers N`, all pinned to SERVER_CPU too; tempusd@X...: the binary $TEMPUSD_X, for
# A/B runs of two trees; echo-k, echo-tempus: the echo with tempusd's kernel work, and also
# its system calls, see udpecho.c), OUT (a directory to keep runs.csv in),
# SUMMARY (a file to append
# "throughput.SERVER N" and "p99_us.SERVER N" lines to, for run-all.sh).
# Bounded: every load run lasts at most STEP_S (<= 20) seconds plus 0.1 s of draining.
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"

RAMPS=${RAMPS:-6}
STEP_S=${STEP_S:-1}
RATES=${RATES:-"200000 400000 600000 800000 1000000"}
LAT_RATE=${LAT_RATE:-10000}
LAT_S=${LAT_S:-2}
LAT_REPS=${LAT_REPS:-9}
SOURCES=${SOURCES:-"-a 1000 -P 4"}
SERVERS=${SERVERS:-"echo chronyd tempusd tempusd-sendmsg"}
awk "BEGIN {exit !($STEP_S > 0 && $STEP_S <= 20 && $LAT_S > 0 && $LAT_S <= 20)}" ||
    { echo "STEP_S and LAT_S must be in (0, 20]" >&2; exit 1; }
OUT=${OUT:-$BUILD/bench/server-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
RUNS=$OUT/runs.csv

echo "# Server benchmark"
bench_conditions
echo "ramps: $RAMPS x [$RATES] req/s, $STEP_S s a step; latency at $LAT_RATE req/s, $LAT_S s x $LAT_REPS; sources: $SOURCES"

declare -A PORT PID
active=()
notes=()
for s in $SERVERS; do
    PORT[$s]=$(bench_free_port)
    mapfile -t cmd < <(bench_server_cmd "$s" "${PORT[$s]}")
    if [[ $s == tempusd* ]] && ! bench_tempusd_bin "$s"; then
        notes+=("$s: not built or not set (${BENCH_BIN:-empty}): skipped")
        continue
    fi
    bench_start "$s" "${cmd[@]}"
    PID[$s]=$BENCH_PID
    if bench_wait_ready "${PORT[$s]}" "${PID[$s]}" 5; then
        active+=("$s")
    else
        notes+=("$s: did not answer a probe request within 5 s: skipped (log: $(tail -2 "$BENCH_TMP/$s.log" | tr '\n' ' '))")
        bench_stop "${PID[$s]}"
    fi
done
for n in "${notes[@]}"; do echo "note: $n"; done
[ ${#active[@]} -gt 0 ] || { echo "no server answered" >&2; exit 1; }

hz=$(getconf CLK_TCK)

echo "kind,ramp,server,rate,label,offered_rate,sources,sent,offered_per_s,replies,replies_per_s,loss_pct,late,dup,bad_origin,malformed,wrong_sock,kod,send_errors,p50_us,p90_us,p99_us,p999_us,max_us,server_cpu_pct,server_cpu_busy_pct" >"$RUNS"

# Bash builtins only around the load runs: on a loaded machine every fork costs tens of ms.
# ticks_of PID: CPU time (utime + stime, clock ticks) of a process, in TICKS.
ticks_of() {
    local st=()
    TICKS=0
    read -r -a st <"/proc/$1/stat" 2>/dev/null && TICKS=$((st[13] + st[14]))
}
# cpu_of N: busy and total ticks of CPU N so far, in CPU_BUSY and CPU_TOTAL.
cpu_of() {
    local name u n sy idle iow irq sirq steal rest
    while read -r name u n sy idle iow irq sirq steal rest; do
        if [ "$name" = "cpu$1" ]; then
            CPU_BUSY=$((u + n + sy + irq + sirq + steal))
            CPU_TOTAL=$((CPU_BUSY + idle + iow))
            return
        fi
    done </proc/stat
}

# one_run KIND RAMP SERVER RATE: one load run, appended to runs.csv; sets RPS (replies/s).
one_run() {
    local kind=$1 ramp=$2 s=$3 rate=$4 dur t0 w0 w1 b0 c0 row cpu busy f=()
    dur=$STEP_S
    [ "$kind" = latency ] && dur=$LAT_S
    ticks_of "${PID[$s]}"
    t0=$TICKS
    cpu_of "$SERVER_CPU"
    b0=$CPU_BUSY c0=$CPU_TOTAL
    w0=${EPOCHREALTIME/./}
    # shellcheck disable=SC2086
    row=$(bench_load -p "${PORT[$s]}" -r "$rate" -d "$dur" -t 100 -b 64 $SOURCES -l "$s")
    w1=${EPOCHREALTIME/./}
    ticks_of "${PID[$s]}"
    cpu_of "$SERVER_CPU"
    cpu=$(((TICKS - t0) * 100000000 / (hz * (w1 - w0 + 1))))
    busy=$((CPU_TOTAL > c0 ? 100 * (CPU_BUSY - b0) / (CPU_TOTAL - c0) : 0))
    echo "$kind,$ramp,$s,$rate,$row,$cpu,$busy" >>"$RUNS"
    IFS=, read -r -a f <<<"$row"
    # f: 0 label, 5 replies, 6 replies/s, 9 dup, 10 bad origin, 11 malformed, 12 wrong socket
    if [ "${f[9]:-0}" != 0 ] || [ "${f[10]:-0}" != 0 ] || [ "${f[11]:-0}" != 0 ] ||
        [ "${f[12]:-0}" != 0 ]; then
        echo "WARNING: $s at $rate/s: replies failed checks: $row" >&2
    fi
    RPS=${f[6]:-0}
}

# Steps interleaved: each rate of a ramp is offered to every server in turn (the first server
# rotating from step to step), so that the servers' steps at one rate run within seconds of each
# other: the machine ran at two speeds within a run (session 5), and a server whose whole ramp
# fell in the slow phase lost points a slower echo ramp did not.
declare -A PEAKS BEST
nact=${#active[@]}
for ramp in $(seq 1 "$RAMPS"); do
    for s in "${active[@]}"; do BEST[$s]=0; done
    step=0
    for rate in $RATES; do
        for i in $(seq 0 $((nact - 1))); do
            s=${active[$(((i + ramp - 1 + step) % nact))]}
            one_run ramp "$ramp" "$s" "$rate"
            [ "$RPS" -gt "${BEST[$s]}" ] && BEST[$s]=$RPS
        done
        step=$((step + 1))
    done
    for s in "${active[@]}"; do
        PEAKS[$s]="${PEAKS[$s]:-} ${BEST[$s]}"
        echo "ramp $ramp $s: peak ${BEST[$s]} replies/s (load average $(cut -d' ' -f1 /proc/loadavg))"
    done
done
for rep in $(seq 1 "$LAT_REPS"); do
    nact=${#active[@]}
    for i in $(seq 0 $((nact - 1))); do
        s=${active[$(((i + rep - 1) % nact))]}
        one_run latency "$rep" "$s" "$LAT_RATE"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${active[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null ||
        notes+=("$s: DIED during the runs (log: $(tail -2 "$BENCH_TMP/$s.log" | tr '\n' ' '))")
done

# Column N of runs.csv for KIND and SERVER, one value a line.
col() {
    awk -F, -v k="$1" -v s="$2" -v n="$3" '$1 == k && $3 == s {print $n}' "$RUNS"
}

echo
echo "| server | replies/s (median of $RAMPS ramp peaks) | min–max | % of echo | server CPU at peak | replies per server CPU-second | p50 / p99 / p99.9 µs at $LAT_RATE/s (medians of $LAT_REPS) | p99 min–max | loss at $LAT_RATE/s |"
echo "|---|---|---|---|---|---|---|---|---|"
echo_med=
for s in "${active[@]}"; do
    med=$(echo "${PEAKS[$s]:-0}" | tr ' ' '\n' | grep . | median)
    mn=$(echo "${PEAKS[$s]:-0}" | tr ' ' '\n' | grep . | sort -g | head -1)
    mx=$(echo "${PEAKS[$s]:-0}" | tr ' ' '\n' | grep . | sort -g | tail -1)
    [ "$s" = echo ] && echo_med=$med
    pct=—
    [ -n "$echo_med" ] && pct=$(awk -v a="$med" -v b="$echo_med" 'BEGIN {printf "%.0f %%", 100 * a / b}')
    # server CPU share during the step with the most replies/s of each ramp (median)
    cpu=$(awk -F, -v s="$s" '$1 == "ramp" && $3 == s {if ($11 > best[$2]) {best[$2] = $11; c[$2] = $25}}
        END {for (r in c) print c[r]}' "$RUNS" | median)
    # replies per second of server CPU time at the peak: less sensitive to other work on the
    # server's CPU than replies/s (median over ramps)
    eff=$(awk -F, -v s="$s" '$1 == "ramp" && $3 == s {if ($11 > best[$2]) {best[$2] = $11; c[$2] = $25}}
        END {for (r in c) if (c[r] > 0) print best[r] / (c[r] / 100)}' "$RUNS" | median)
    p50=$(col latency "$s" 20 | median)
    p99=$(col latency "$s" 22 | median)
    p999=$(col latency "$s" 23 | median)
    p99lo=$(col latency "$s" 22 | sort -g | head -1)
    p99hi=$(col latency "$s" 22 | sort -g | tail -1)
    loss=$(col latency "$s" 12 | median)
    printf '| %s | %.0f | %.0f–%.0f | %s | %s %% | %.0f | %s / %s / %s | %s–%s | %s %% |\n' "$s" "$med" "$mn" "$mx" \
        "$pct" "${cpu:-0}" "${eff:-0}" "$p50" "$p99" "$p999" "$p99lo" "$p99hi" "$loss"
    if [ -n "${SUMMARY:-}" ]; then
        echo "throughput.$s $med" >>"$SUMMARY"
        echo "p99_us.$s $p99" >>"$SUMMARY"
    fi
done
echo
if [ -n "$echo_med" ] && [ "$RAMPS" -gt 0 ]; then
    for s in "${active[@]}"; do
        [ "$s" = echo ] && continue
        med=$(echo "${PEAKS[$s]}" | tr ' ' '\n' | grep . | median)
        # the bar's measure: the ratio of the two medians of ramp peaks; beside it, the same
        # ramps paired (each ramp's peak over the echo's peak of that ramp, whose steps ran
        # interleaved with this server's), whose median moves less with the machine's speed
        paired=$(awk -v a="${PEAKS[$s]}" -v b="${PEAKS[echo]}" 'BEGIN {
            n = split(a, x, " "); split(b, y, " ")
            for (i = 1; i <= n; i++) if (y[i] > 0) printf "%.4f\n", x[i] / y[i] }')
        pmed=$(echo "$paired" | median)
        plo=$(echo "$paired" | sort -g | head -1)
        phi=$(echo "$paired" | sort -g | tail -1)
        awk -v s="$s" -v a="$med" -v b="$echo_med" -v pm="$pmed" -v lo="$plo" -v hi="$phi" \
            -v n="$RAMPS" 'BEGIN {printf "ratio %s / echo = %.3f (medians of %d ramp peaks); paired by ramp: median %.3f, min-max %.3f-%.3f\n", s, a / b, n, pm, lo, hi}'
    done
fi
if [[ " ${active[*]} " == *" chronyd "* ]]; then
    for s in "${active[@]}"; do
        [[ $s == tempusd* ]] || continue
        if [ "$RAMPS" -gt 0 ]; then
            a=$(echo "${PEAKS[$s]}" | tr ' ' '\n' | grep . | median)
            b=$(echo "${PEAKS[chronyd]}" | tr ' ' '\n' | grep . | median)
            awk -v s="$s" -v a="$a" -v b="$b" 'BEGIN {printf "ratio %s / chronyd = %.3f\n", s, a / b}'
        fi
        # p99 at LAT_RATE, paired by round: tempusd's against chronyd's of the same round
        [ "$LAT_REPS" -gt 0 ] || continue
        awk -F, -v s="$s" '$1 == "latency" && ($3 == s || $3 == "chronyd") {p[$2, $3] = $22; r[$2] = 1}
            END {n = 0; le = 0
                for (k in r) if ((k, s) in p && (k, "chronyd") in p && p[k, "chronyd"] > 0) {
                    v[++n] = p[k, s] / p[k, "chronyd"]; if (p[k, s] <= p[k, "chronyd"]) le++ }
                if (n == 0) exit
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) {t = v[i]; v[i] = v[j]; v[j] = t}
                m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
                printf "p99 %s / chronyd at the same round: median %.3f over %d rounds (%s no higher than chronyd in %d of %d)\n", s, m, n, s, le, n}' "$RUNS"
    done
fi
for n in "${notes[@]}"; do echo "note: $n"; done
echo "runs: $RUNS"
