#!/usr/bin/env bash
# Server memory with many distinct clients: the resident set of each server before and after
# CLIENTS requests, each from its own source address (spread over 127/8, see ntpload's
# source_addr()), so that every request is a new client for the server's client log.
# See docs/design/bench.md.
#
#   bench/run-mem-bench.sh [BUILDDIR]
#
# Servers run with their default client-log size (chronyd: clientloglimit 524288 bytes).
# Environment: CLIENTS (100000), PORTS (1 source port per address), WINDOW (128 requests in
# flight), DUR (15 s at most, <= 20), SERVERS ("echo chronyd tempusd"), SUMMARY (a file to
# append "rss_kb.SERVER N" lines to, for run-all.sh). The table says how many clients were
# answered: fewer than CLIENTS means the run hit DUR.
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init "${1:-}"

CLIENTS=${CLIENTS:-100000}
WINDOW=${WINDOW:-128}
DUR=${DUR:-15}
PORTS=${PORTS:-1}
SERVERS=${SERVERS:-"echo chronyd tempusd"}
awk "BEGIN {exit !($DUR > 0 && $DUR <= 20)}" || { echo "DUR must be in (0, 20]" >&2; exit 1; }

echo "# Server memory"
bench_conditions
echo "load: $((CLIENTS * PORTS)) requests from $CLIENTS addresses x $PORTS ports, $WINDOW in flight, at most $DUR s"

# status_kb PID FIELD: a field of /proc/PID/status in kB.
status_kb() {
    awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null
}

echo
echo "| server | RSS before (kB) | RSS after (kB) | anonymous RSS after (kB) | peak RSS (kB) | clients answered | loss |"
echo "|---|---|---|---|---|---|---|"
notes=()
for s in $SERVERS; do
    if [ "$s" = tempusd ] && [ ! -x "$TEMPUSD" ]; then
        notes+=("tempusd: not built: skipped")
        continue
    fi
    port=$(bench_free_port)
    mapfile -t cmd < <(bench_server_cmd "$s" "$port")
    bench_start "mem-$s" "${cmd[@]}"
    pid=$BENCH_PID
    if ! bench_wait_ready "$port" "$pid" 5; then
        notes+=("$s: did not answer a probe request within 5 s: skipped")
        bench_stop "$pid"
        continue
    fi
    sleep 0.5
    before=$(status_kb "$pid" VmRSS)
    # closed loop (WINDOW in flight): paced by the server, so a busy machine delays the run
    # instead of dropping requests (a dropped request is a client the server never saw)
    row=$(bench_load -p "$port" -r 0 -w "$WINDOW" -n $((CLIENTS * PORTS)) -d "$DUR" -t 500 \
        -a "$CLIENTS" -P "$PORTS" -b 64 -l "$s")
    sleep 0.5
    after=$(status_kb "$pid" VmRSS)
    anon=$(status_kb "$pid" RssAnon)
    hwm=$(status_kb "$pid" VmHWM)
    bench_stop "$pid"
    echo "| $s | $before | $after | $anon | $hwm | $(csv_field "$row" 6) | $(csv_field "$row" 8) % |"
    [ -z "${SUMMARY:-}" ] || echo "rss_kb.$s $after" >>"$SUMMARY"
done
echo
for n in "${notes[@]}"; do echo "note: $n"; done
