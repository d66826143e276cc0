#!/usr/bin/env bash
# Server CPU time per reply (kernel + user), closed loop: the comparable figure on a shared
# machine, where replies/s says how the scheduler shared the CPU. See docs/design/bench.md.
#
#   bench/run-cpu-bench.sh [BUILDDIR]
#
# Method: the servers run side by side (pinned to SERVER_CPU, the load to LOAD_CPU, as
# run-server-bench.sh); REPS rounds, each giving every server one closed-loop run of DUR_S
# seconds with WINDOW requests in flight (nothing is dropped: every request read is answered
# and counted). The server's CPU time is read from /proc/PID/task/*/schedstat (ns, all its
# threads) before and after; ns per reply = CPU ns / replies. Medians over the rounds, and the
# ratio of each server's to the first's. The kernel's receive work for requests is done on the
# load generator's CPU (loopback); the server's CPU time holds its own system calls, the
# delivery of its replies into the generator's sockets and its user-space work.
# Environment: REPS (5), DUR_S (2), WINDOW (256), SOURCES ("-a 1000 -P 4"), SERVERS ("echo
# echo-k echo-tempus tempusd chronyd"; tempusd@X: the binary $TEMPUSD_X), HOG (session 8:
# "spin" or "mem": bench/cpuhog runs on the server's CPU for the whole run at nice HOG_NICE
# (0), so every server gets part of a CPU — the slow mode on purpose; "mem" also walks
# HOG_MIB (16) MiB, evicting the server's caches and TLB every time slice, as another VM on
# the same core would).
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"

REPS=${REPS:-5}
DUR_S=${DUR_S:-2}
WINDOW=${WINDOW:-256}
SOURCES=${SOURCES:-"-a 1000 -P 4"}
SERVERS=${SERVERS:-"echo echo-k echo-tempus tempusd chronyd"}
awk "BEGIN {exit !($DUR_S > 0 && $DUR_S <= 20 && $REPS >= 1 && $REPS <= 50)}" ||
    { echo "DUR_S must be in (0, 20], REPS in [1, 50]" >&2; exit 1; }

echo "# Server CPU time per reply (closed loop, $WINDOW in flight)"
bench_conditions
echo "method: $REPS rounds x $DUR_S s a server, interleaved; CPU ns from /proc/PID/task/*/schedstat; sources: $SOURCES"

if [ -n "${HOG:-}" ]; then
    case $HOG in
    spin) hog_mib=0 ;;
    mem) hog_mib=${HOG_MIB:-16} ;;
    *) echo "HOG must be spin or mem" >&2; exit 1 ;;
    esac
    [ -x "$BUILD/bench/cpuhog" ] || { echo "$BUILD/bench/cpuhog is not built" >&2; exit 1; }
    bench_start hog nice -n "${HOG_NICE:-0}" "$BUILD/bench/cpuhog" -m "$hog_mib" -T 600
    echo "hog: cpuhog -m $hog_mib on CPU $SERVER_CPU at nice ${HOG_NICE:-0} (pid $BENCH_PID)"
fi

declare -A PORT PID RES
active=()
for s in $SERVERS; do
    if [[ $s == tempusd* ]] && ! bench_tempusd_bin "$s"; then
        echo "note: $s: not built or not set: skipped"
        continue
    fi
    PORT[$s]=$(bench_free_port)
    mapfile -t cmd < <(bench_server_cmd "$s" "${PORT[$s]}")
    bench_start "$s" "${cmd[@]}"
    PID[$s]=$BENCH_PID
    if bench_wait_ready "${PORT[$s]}" "${PID[$s]}" 5; then
        active+=("$s")
    else
        echo "note: $s did not answer a probe within 5 s: skipped"
        bench_stop "${PID[$s]}"
    fi
done
[ ${#active[@]} -gt 0 ] || { echo "no server answered" >&2; exit 1; }

# cpu_ns PID: CPU time of all threads of PID, ns, in CPU_NS.
cpu_ns() {
    local f t rest
    CPU_NS=0
    for f in /proc/"$1"/task/*/schedstat; do
        read -r t rest <"$f" 2>/dev/null && CPU_NS=$((CPU_NS + t))
    done
}

# children_ns: CPU time (user + system) of this shell's finished children, ns, in CHILD_NS
# (bash's `times`, clock-tick resolution): the load generator's, including the kernel work it
# does for the server (on loopback the sender's CPU delivers into the receiving socket).
children_ns() {
    local l m1 s1 m2 s2
    times >"$BENCH_TMP/times" # in this shell: a subshell's `times` would be its own
    { read -r l; read -r l; } <"$BENCH_TMP/times"
    # "0m1.230s 0m0.450s"
    [[ $l =~ ^([0-9]+)m([0-9.]+)s\ ([0-9]+)m([0-9.]+)s$ ]] || { CHILD_NS=0; return; }
    m1=${BASH_REMATCH[1]} s1=${BASH_REMATCH[2]} m2=${BASH_REMATCH[3]} s2=${BASH_REMATCH[4]}
    CHILD_NS=$(awk -v a="$m1" -v b="$s1" -v c="$m2" -v d="$s2" 'BEGIN {printf "%.0f", ((a + c) * 60 + b + d) * 1e9}')
}

declare -A LRES RATIO
for rep in $(seq 1 "$REPS"); do
    first_per=
    for s in "${active[@]}"; do
        cpu_ns "${PID[$s]}"
        c0=$CPU_NS
        children_ns
        l0=$CHILD_NS
        # shellcheck disable=SC2086
        row=$(bench_load -p "${PORT[$s]}" -r 0 -w "$WINDOW" -b 64 -d "$DUR_S" -t 1000 $SOURCES -l "$s")
        cpu_ns "${PID[$s]}"
        children_ns
        replies=$(csv_field "$row" 6)
        if [ "${replies:-0}" -gt 0 ]; then
            per=$(((CPU_NS - c0) / replies))
            RES[$s]="${RES[$s]:-} $per"
            LRES[$s]="${LRES[$s]:-} $(((CHILD_NS - l0) / replies))"
            [ -n "$first_per" ] || first_per=$per
            RATIO[$s]="${RATIO[$s]:-} $(awk -v a="$per" -v b="$first_per" 'BEGIN {printf "%.4f", a / b}')"
        fi
    done
    echo "round $rep done (load average $(cut -d' ' -f1 /proc/loadavg))"
done

echo
echo "| server | CPU ns per reply (median of $REPS) | min–max | relative to ${active[0]} | median of the rounds' ratios | load generator CPU ns per reply |"
echo "|---|---|---|---|---|---|"
first=
for s in "${active[@]}"; do
    med=$(echo "${RES[$s]:-}" | tr ' ' '\n' | grep . | median)
    [ -n "$med" ] || { echo "| $s | — | — | — | — | — |"; continue; }
    mn=$(echo "${RES[$s]}" | tr ' ' '\n' | grep . | sort -g | head -1)
    mx=$(echo "${RES[$s]}" | tr ' ' '\n' | grep . | sort -g | tail -1)
    rr=$(echo "${RATIO[$s]:-}" | tr ' ' '\n' | grep . | median)
    lm=$(echo "${LRES[$s]:-}" | tr ' ' '\n' | grep . | median)
    [ -n "$first" ] || first=$med
    awk -v s="$s" -v m="$med" -v a="$mn" -v b="$mx" -v f="$first" -v r="${rr:-0}" -v l="${lm:-0}" \
        'BEGIN {printf "| %s | %.0f | %d–%d | %.3f | %.3f | %.0f |\n", s, m, a, b, m / f, r, l}'
done
