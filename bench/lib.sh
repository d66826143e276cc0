# shellcheck shell=bash
# Shared helpers of the bench/run-*.sh scripts (sourced, not run). See docs/design/bench.md.
#
# Every server started here is a child of the script, recorded by PID, and stopped by PID in the
# EXIT trap, even when the script fails. Traffic goes only to 127.0.0.1. Real daemons always run
# with -x (they never touch the clock).

# Build directory with bench/ntpload and bench/udpecho, and tempusd.
bench_init() {
    BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    BUILD=${1:-${TEMPUS_BUILD:-$BENCH_SRC/build}}
    BUILD=$(cd "$BUILD" && pwd) || { echo "no build directory $1" >&2; exit 1; }
    NTPLOAD=$BUILD/bench/ntpload
    UDPECHO=$BUILD/bench/udpecho
    TEMPUSD=${TEMPUSD:-$BUILD/tempusd}
    CHRONYD=${CHRONYD:-/usr/sbin/chronyd}
    for f in "$NTPLOAD" "$UDPECHO"; do
        [ -x "$f" ] || { echo "missing $f: meson compile -C $BUILD" >&2; exit 1; }
    done
    # NICE (opt-in, e.g. -10): run servers and load at a higher priority so that other work on
    # a shared machine takes less from the measured runs; say so when reporting numbers.
    BENCH_NICE=()
    if [ -n "${NICE:-}" ]; then
        BENCH_NICE=(nice -n "$NICE")
    fi
    SERVER_CPU=${SERVER_CPU:-1}
    LOAD_CPU=${LOAD_CPU:-0}
    if [ "$(nproc)" -lt 2 ]; then
        SERVER_CPU=0 LOAD_CPU=0
        echo "note: one CPU only: server and load share it" >&2
    fi
    BENCH_TMP=$(mktemp -d /tmp/tempus-bench.XXXXXX)
    BENCH_PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${BENCH_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    BENCH_PIDS=()
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$BENCH_TMP"
}

# A UDP port on 127.0.0.1 that nothing listens on now.
bench_free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 30000))
        if ! ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return
        fi
    done
}

# bench_conf NAME PORT [EXTRA DIRECTIVE LINES...]: writes a chrony.conf for a server on
# 127.0.0.1:PORT (no command sockets, files in the temp dir) and prints its path.
bench_conf() {
    local name=$1 port=$2 conf
    shift 2
    conf=$BENCH_TMP/$name.conf
    {
        echo "port $port"
        echo "bindaddress 127.0.0.1"
        echo "allow 127.0.0.0/8"
        echo "local stratum 10"
        echo "cmdport 0"
        echo "bindcmdaddress /"
        echo "pidfile $BENCH_TMP/$name.pid"
        echo "driftfile $BENCH_TMP/$name.drift"
        local l
        for l in "$@"; do echo "$l"; done
    } >"$conf"
    echo "$conf"
}

# bench_server_cmd KIND PORT [EXTRA DIRECTIVES...]: prints the command line (one word a line)
# of a server of KIND: echo, chronyd, tempusd.
bench_server_cmd() {
    local kind=$1 port=$2 conf
    shift 2
    case $kind in
    echo) printf '%s\n' "$UDPECHO" -s 127.0.0.1 -p "$port" -T 600 ;;
    # the echo asking the kernel for what tempusd asks (receive timestamps, pktinfo in and
    # out: echo-k), and also in tempusd's shape (poll() wake-ups, sendmmsg chunks of 16:
    # echo-tempus): what separates them from the echo is the kernel's share of tempusd's cost
    echo-k) printf '%s\n' "$UDPECHO" -s 127.0.0.1 -p "$port" -T 600 -K ;;
    echo-tempus) printf '%s\n' "$UDPECHO" -s 127.0.0.1 -p "$port" -T 600 -K -c 16 -P ;;
    # echo-k:FLAGS (udpecho -k FLAGS: t SO_TIMESTAMPING, n SO_TIMESTAMPNS, i pktinfo in, o
    # pktinfo out), optionally -pN (-P, -c N): the kernel's work priced part by part
    echo-k:*)
        local f=${kind#echo-k:} extra=()
        if [[ $f =~ ^([a-z]+)-p([0-9]+)$ ]]; then
            f=${BASH_REMATCH[1]}
            extra=(-P -c "${BASH_REMATCH[2]}")
        fi
        printf '%s\n' "$UDPECHO" -s 127.0.0.1 -p "$port" -T 600 -k "$f" "${extra[@]}"
        ;;
    chronyd*)
        conf=$(bench_conf "$kind-$port" "$port" "$@")
        printf '%s\n' "$CHRONYD" -x -d -u root -f "$conf"
        ;;
    tempusd*)
        # tempusd: the default, replies with sendmmsg; tempusd-sendmsg: one sendmsg per reply
        # (`nobatchreplies`); tempusd-batch: `batchreplies`, the default said explicitly.
        local more=() bin
        bench_tempusd_bin "$kind" || return 1
        bin=$BENCH_BIN
        [[ $kind == *-batch* ]] && more=(batchreplies)
        [[ $kind == *-sendmsg* ]] && more+=(nobatchreplies)
        # tempusd-noclientlog (also with the parts above): no client log, no rate limiting
        [[ $kind == *-noclientlog* ]] && more+=(noclientlog)
        # tempusd-wN (also tempusd-batch-wN): N server worker threads (`serverworkers N`)
        [[ $kind =~ -w([0-9]+) ]] && more+=("serverworkers ${BASH_REMATCH[1]}")
        conf=$(bench_conf "$kind-$port" "$port" "$@" "${more[@]}")
        printf '%s\n' "$bin" -x -d -f "$conf"
        ;;
    *) echo "unknown server $kind" >&2; return 1 ;;
    esac
}

# bench_tempusd_bin KIND: the tempusd binary of a server kind, in BENCH_BIN: $TEMPUSD, or for
# tempusd@X... (X: letters, digits, _) the binary in $TEMPUSD_X, for A/B runs of two trees in one
# interleaved run: TEMPUSD_main=/path/to/main/tempusd SERVERS="echo tempusd@main tempusd".
# Fails when that is not an executable.
bench_tempusd_bin() {
    BENCH_BIN=$TEMPUSD
    if [[ $1 =~ ^tempusd@([A-Za-z0-9_]+) ]]; then
        local var=TEMPUSD_${BASH_REMATCH[1]}
        BENCH_BIN=${!var:-}
    fi
    [ -n "$BENCH_BIN" ] && [ -x "$BENCH_BIN" ]
}

# bench_start NAME WRAPPER... -- CMD...: starts CMD (optionally under a wrapper such as valgrind)
# pinned to SERVER_CPU, stdout/stderr to $BENCH_TMP/NAME.log; sets BENCH_PID.
bench_start() {
    local name=$1
    shift
    "${BENCH_NICE[@]}" taskset -c "$SERVER_CPU" "$@" >"$BENCH_TMP/$name.log" 2>&1 &
    BENCH_PID=$!
    BENCH_PIDS+=("$BENCH_PID")
}

# bench_stop PID: SIGTERM and wait (the server writes its profile/counters at exit).
bench_stop() {
    local p=$1
    kill "$p" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    local keep=() q
    for q in "${BENCH_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    BENCH_PIDS=("${keep[@]}")
}

# bench_wait_ready PORT PID SECONDS: probes with one request at a time until a reply passes the
# checks; fails if the process died or did not answer in time.
bench_wait_ready() {
    local port=$1 pid=$2 secs=$3 end
    end=$((SECONDS + secs))
    while [ $SECONDS -lt $end ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        if "$NTPLOAD" -p "$port" -n 1 -d 0.3 -t 300 -L 0 -q -l probe >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# bench_load ARGS...: one load run pinned to LOAD_CPU; prints ntpload's CSV row (no header).
bench_load() {
    "${BENCH_NICE[@]}" taskset -c "$LOAD_CPU" "$NTPLOAD" -c -H -q "$@"
}

# csv_field LINE N: N-th comma-separated field (1-based).
csv_field() {
    echo "$1" | cut -d, -f"$2"
}

# median of the numbers on stdin (one a line); empty input prints nothing.
median() {
    sort -g | awk '{v[NR]=$1} END {if (NR==0) exit; if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# Conditions of the run, for the record: the machine is shared, so say how busy it was.
bench_conditions() {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel: $(uname -r); CPUs: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "chronyd: $("$CHRONYD" --version 2>/dev/null | head -1 | cut -d'(' -f1-2 | sed 's/ *$//')"
    echo "tempus: $(git -C "$BENCH_SRC" rev-parse --short HEAD 2>/dev/null) ($(git -C "$BENCH_SRC" status --porcelain 2>/dev/null | grep -c .) changed files in tree)"
    echo "pinning: server on CPU $SERVER_CPU, load generator on CPU $LOAD_CPU${NICE:+, both at nice $NICE}"
}

# cpu_busy_pct CPU SNAPSHOT_BEFORE: percentage of non-idle time of CPU since the snapshot
# (a line of /proc/stat, taken with cpu_snapshot).
cpu_snapshot() {
    grep "^cpu$1 " /proc/stat
}
cpu_busy_pct() {
    local now
    now=$(cpu_snapshot "$1")
    echo "$2 $now" | awk '{
        t1=0; for (i=2;i<=11;i++) t1+=$i; i1=$5+$6;
        t2=0; for (i=13;i<=22;i++) t2+=$i; i2=$16+$17;
        if (t2>t1) printf "%.0f", 100*(1-(i2-i1)/(t2-t1)); else print "?" }'
}

# --- The client-side A/B scripts (xleave-ab.sh, txts-ab.sh): a tempusd -x client syncing on
# loopback, polling every 1/16 s, run after run, each summarised from its measurements.log.

# ab_init NAME [BUILDDIR]: BUILD, TEMPUSD ($TEMPUSD or the build's), TEMPUSC, CHRONYD, DUR_S,
# WARM_S, ROUNDS (defaults from the caller's AB_DUR_S, AB_ROUNDS), a private WORK directory and
# the EXIT trap that stops every process in AB_PIDS (by PID) and removes WORK.
ab_init() {
    local name=$1
    BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    BUILD=$(cd "${2:-$BENCH_SRC/build}" && pwd) || { echo "no build directory $2" >&2; exit 1; }
    TEMPUSD=${TEMPUSD:-$BUILD/tempusd}
    TEMPUSC=$BUILD/tempusc
    CHRONYD=${CHRONYD:-/usr/sbin/chronyd}
    DUR_S=${DUR_S:-${AB_DUR_S:-30}}
    ROUNDS=${ROUNDS:-${AB_ROUNDS:-2}}
    WARM_S=${WARM_S:-5}
    local f
    for f in "$TEMPUSD" "$TEMPUSC" "$CHRONYD"; do
        [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
    done
    WORK=$(mktemp -d "/tmp/tempus-$name.XXXXXX")
    AB_PIDS=()
    trap ab_cleanup EXIT
    trap 'exit 130' INT TERM
}

ab_cleanup() {
    local p
    for p in "${AB_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${AB_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}

# ab_chronyd PORT: Debian's chronyd -x serving `local stratum 2` on 127.0.0.1:PORT.
ab_chronyd() {
    cat >"$WORK/chronyd.conf" <<CONF
local stratum 2
port $1
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
CONF
    "$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf" >"$WORK/chronyd.out" 2>&1 &
    AB_PIDS+=($!)
}

# ab_header TITLE: the conditions lines every A/B script prints first.
ab_header() {
    echo "# $1"
    echo "date: $(date -u +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
    echo "runs of ${DUR_S} s (first ${WARM_S} s dropped), alternating; offsets/delays in us"
    echo
}

# ab_client_run DIR BIN PORT [SERVER OPTIONS]: BIN -x syncing from 127.0.0.1:PORT for DUR_S s,
# logging measurements into DIR/log; AB_SD = sourcestats' Std Dev at the end.
ab_client_run() {
    local dir=$1 bin=$2 port=$3 opt=${4:-} pid
    mkdir -m 700 "$dir" && mkdir -m 700 "$dir/log"
    "$bin" -x -d -u root "server 127.0.0.1 port $port iburst minpoll -4 maxpoll -4$opt" \
        "pidfile $dir/pid" "cmdport 0" "bindcmdaddress $dir/sock" "logdir $dir/log" \
        "log measurements" >"$dir/out" 2>&1 &
    pid=$!
    AB_PIDS+=("$pid")
    sleep "$DUR_S"
    "$TEMPUSC" -n -h "$dir/sock" sourcestats >"$dir/ss" 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null
    AB_SD=$(awk '$1 == "127.0.0.1" {print $NF}' "$dir/ss")
}

# ab_summary DIR LABEL TAG_FROM_END: one table row from DIR/log/measurements.log: "| LABEL |
# tag counts | samples | offset SD | offset median | delay median | delay SD | AB_SD |", where the
# tag is the field TAG_FROM_END before the last (measurements.log: date time ip leap stratum
# tests(3) poll poll score offset delay ... refid mode TX RX; 2 = mode, 1 = TX stamp source).
ab_summary() {
    awk -v warm="$WARM_S" -v label="$2" -v back="$3" -v sd="$AB_SD" '
        $3 == "127.0.0.1" {
            split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
            if (first == "") first = s
            if (s - first < warm) next
            n++; off[n] = $12 * 1e6; del[n] = $13 * 1e6; tags[$(NF - back)]++
        }
        function med(a, n,   i, j, x) {
            for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        function sdev(a, n,   i, m, v) {
            for (i = 1; i <= n; i++) m += a[i]; m /= n
            for (i = 1; i <= n; i++) v += (a[i] - m) ^ 2
            return sqrt(v / (n - 1))
        }
        END {
            if (n < 3) { printf "| %s | - | %d | - | - | - | - | %s |\n", label, n, sd; exit }
            osd = sdev(off, n); dsd = sdev(del, n)
            tg = ""; for (c in tags) tg = tg c "=" tags[c] " "
            printf "| %s | %s| %d | %.2f | %.2f | %.2f | %.2f | %s |\n", label, tg, n, osd, med(off, n), med(del, n), dsd, sd
        }' "$1/log/measurements.log"
}
