#!/usr/bin/env bash
# A/B of interleaved mode on a client: tempusd -x syncing on loopback from a tempusd -x server
# and from Debian's chronyd -x (both local stratum 2), polling every 1/16 s, once in basic mode
# (A: `server ... ` without xleave) and once interleaved (B: `xleave`); the same binary, T1 the
# kernel's TX stamp in both. Runs alternate A B A B ... per server so that the machine's load
# falls on both alike. Per run: the standard deviation and median of the offsets and delays of
# measurements.log (every good sample of the run after the first 5 s; the mode column says B
# or I), and sourcestats' Std Dev at the end.
#
#   bench/xleave-ab.sh [BUILDDIR]
# Environment: DUR_S (30 s a run), ROUNDS (2), WARM_S (5), SERVERS ("tempusd chronyd").
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
B=${TEMPUSD:-$BUILD/tempusd}
TEMPUSC=$BUILD/tempusc
CHRONYD=/usr/sbin/chronyd
DUR_S=${DUR_S:-30}
ROUNDS=${ROUNDS:-2}
WARM_S=${WARM_S:-5}
SERVERS=${SERVERS:-tempusd chronyd}
for f in "$B" "$TEMPUSC" "$CHRONYD"; do
    [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/tempus-xleave-ab.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PORT_T=$((30000 + $$ % 5000))
PORT_C=$((PORT_T + 1))
mkdir -m 700 "$WORK/srv"
"$B" -x -d -u root "local stratum 2" "port $PORT_T" "bindaddress 127.0.0.1" "allow 127.0.0.1" \
    "pidfile $WORK/srv/pid" "cmdport 0" "bindcmdaddress $WORK/srv/sock" >"$WORK/tempusd.out" 2>&1 &
PIDS+=($!)
cat >"$WORK/chronyd.conf" <<CONF
local stratum 2
port $PORT_C
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
CONF
"$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf" >"$WORK/chronyd.out" 2>&1 &
PIDS+=($!)
sleep 1
echo "# interleaved mode A/B: tempusd -x client, loopback, poll -4, kernel TX/RX stamps"
echo "date: $(date -u +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo "runs of ${DUR_S} s (first ${WARM_S} s dropped), alternating; offsets/delays in us"
echo
echo "| server | run | modes | samples | offset SD | offset median | delay median | delay SD | sourcestats Std Dev |"
echo "|---|---|---|---|---|---|---|---|---|"
run() {
    local srv=$1 name=$2 k=$3 port=$4 opt=$5 dir=$WORK/$1-$2-$3 pid
    mkdir -m 700 "$dir" && mkdir -m 700 "$dir/log"
    "$B" -x -d -u root "server 127.0.0.1 port $port iburst minpoll -4 maxpoll -4$opt" \
        "pidfile $dir/pid" "cmdport 0" "bindcmdaddress $dir/sock" "logdir $dir/log" \
        "log measurements" >"$dir/out" 2>&1 &
    pid=$!
    PIDS+=($pid)
    sleep "$DUR_S"
    "$TEMPUSC" -n -h "$dir/sock" sourcestats >"$dir/ss" 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null
    local sd
    sd=$(awk '$1 == "127.0.0.1" {print $NF}' "$dir/ss")
    # measurements.log: date time ip leap stratum tests(3) poll poll score offset delay ...
    # refid mode(4B/4I) TX RX
    awk -v warm="$WARM_S" -v name="$name" -v k="$k" -v sd="$sd" -v srv="$srv" '
        $3 == "127.0.0.1" {
            split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
            if (first == "") first = s
            if (s - first < warm) next
            n++; off[n] = $12 * 1e6; del[n] = $13 * 1e6; modes[$(NF - 2)]++
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
            if (n < 3) { printf "| %s | %s %d | - | %d | - | - | - | - | %s |\n", srv, name, k, n, sd; exit }
            osd = sdev(off, n); dsd = sdev(del, n)
            m = ""; for (c in modes) m = m c "=" modes[c] " "
            printf "| %s | %s %d | %s| %d | %.2f | %.2f | %.2f | %.2f | %s |\n", srv, name, k, m, n, osd, med(off, n), med(del, n), dsd, sd
        }' "$dir/log/measurements.log"
}
for srv in $SERVERS; do
    port=$PORT_T
    [ "$srv" = chronyd ] && port=$PORT_C
    for k in $(seq 1 "$ROUNDS"); do
        run "$srv" A "$k" "$port" ""
        run "$srv" B "$k" "$port" " xleave"
    done
done
