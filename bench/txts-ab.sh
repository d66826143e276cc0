#!/usr/bin/env bash
# A/B of kernel transmit timestamps on a client: tempusd -x syncing from Debian's chronyd -x
# (local stratum 2) on loopback, polling every 1/16 s, once with a tempusd that takes T1 from
# the kernel's TX stamp (B, $TEMPUSD) and once with one that reads the clock before the send
# (A, $TEMPUSD_A: a build of a tree before the change). Runs alternate A B A B ... so that the
# machine's load falls on both alike. Per run: the standard deviation and median of the
# offsets and delays of measurements.log (every good sample of the run after the first 5 s),
# and sourcestats' Std Dev at the end.
#
#   TEMPUSD_A=/path/old/tempusd bench/txts-ab.sh [BUILDDIR]
# Environment: DUR_S (40 s a run), ROUNDS (2), WARM_S (5).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
B=${TEMPUSD:-$BUILD/tempusd}
A=${TEMPUSD_A:?TEMPUSD_A: a tempusd without kernel TX timestamps}
TEMPUSC=$BUILD/tempusc
CHRONYD=/usr/sbin/chronyd
DUR_S=${DUR_S:-40}
ROUNDS=${ROUNDS:-2}
WARM_S=${WARM_S:-5}
for f in "$A" "$B" "$TEMPUSC" "$CHRONYD"; do
    [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/tempus-txts-ab.XXXXXX)
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
PORT=$((30000 + $$ % 5000))
cat >"$WORK/chronyd.conf" <<CONF
local stratum 2
port $PORT
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
CONF
"$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf" >"$WORK/chronyd.out" 2>&1 &
PIDS+=($!)
sleep 1
echo "# kernel TX timestamps A/B: tempusd -x client of chronyd -x, loopback, poll -4"
echo "date: $(date -u +%FT%TZ); load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
echo "runs of ${DUR_S} s (first ${WARM_S} s dropped), alternating; offsets/delays in us"
echo
echo "| run | TX stamps | samples | offset SD | offset median | delay median | delay SD | sourcestats Std Dev |"
echo "|---|---|---|---|---|---|---|---|"
run() {
    local name=$1 bin=$2 k=$3 dir=$WORK/$1-$3 pid
    mkdir -m 700 "$dir" && mkdir -m 700 "$dir/log"
    "$bin" -x -d -u root "server 127.0.0.1 port $PORT iburst minpoll -4 maxpoll -4" \
        "pidfile $dir/pid" "cmdport 0" "bindcmdaddress $dir/sock" "logdir $dir/log" \
        "log measurements" >"$dir/out" 2>&1 &
    pid=$!
    PIDS+=($pid)
    sleep "$DUR_S"
    "$TEMPUSC" -n -h "$dir/sock" sourcestats >"$dir/ss" 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null
    local sd tx
    sd=$(awk '$1 == "127.0.0.1" {print $NF}' "$dir/ss")
    # measurements.log: date time ip leap stratum tests(3) poll poll score offset delay ... mode TX RX
    awk -v warm="$WARM_S" -v name="$name" -v k="$k" -v sd="$sd" '
        $3 == "127.0.0.1" {
            split($2, t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
            if (first == "") first = s
            if (s - first < warm) next
            n++; off[n] = $12 * 1e6; del[n] = $13 * 1e6; txs[$(NF - 1)]++
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
            if (n < 3) { printf "| %s %d | - | %d | - | - | - | - | %s |\n", name, k, n, sd; exit }
            osd = sdev(off, n); dsd = sdev(del, n)
            tx = ""; for (c in txs) tx = tx c "=" txs[c] " "
            printf "| %s %d | %s| %d | %.2f | %.2f | %.2f | %.2f | %s |\n", name, k, tx, n, osd, med(off, n), med(del, n), dsd, sd
        }' "$dir/log/measurements.log"
}
for k in $(seq 1 "$ROUNDS"); do
    run A "$A" "$k"
    run B "$B" "$k"
done
