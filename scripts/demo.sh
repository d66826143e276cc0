#!/usr/bin/env bash
# The main job (README, "Quick start"): installs what is missing, builds, and shows tempus at
# work: a tempusd server and a tempusd client on loopback, the client syncing from the server,
# and tempusc showing the client's sources and tracking as it converges.
#
# Both daemons run with -x: they never touch this machine's clock (the server serves the
# host's time as `local stratum 2`; the client steers a virtual clock). Only 127.0.0.1 is
# used, on a high port. Both are stopped (by PID) when the demo ends or is interrupted.
#   DEMO_SECONDS=N   how long the client runs (default 30)
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
./build/tempusd -v
./build/tempusc -v
./build/tempus-sim -v

secs=${DEMO_SECONDS:-30}
work=$(mktemp -d /tmp/tempus-demo.XXXXXX)
port=$((30000 + ($$ % 10000) * 2))
pids=()
stop() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap stop EXIT INT TERM

echo
echo "== tempusd server: local stratum 2 on 127.0.0.1 port $port (-x: the clock is not touched)"
./build/tempusd -x -d -U -u root "local stratum 2" "port $port" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "cmdport 0" "bindcmdaddress /" "pidfile $work/server.pid" \
    >"$work/server.log" 2>&1 &
pids+=($!)
sleep 0.5
sed 's/^/  server| /' "$work/server.log"

cmdport=$((port + 1))
echo
echo "== tempusd client: server 127.0.0.1 port $port iburst, polling every 0.25 s, for $secs s"
./build/tempusd -x -d -U -u root "server 127.0.0.1 port $port iburst minpoll -2 maxpoll -2" \
    "cmdport $cmdport" "bindcmdaddress $work/client.sock" "pidfile $work/client.pid" \
    "driftfile $work/client.drift" "logdir $work/log" "log tracking measurements statistics" \
    >"$work/client.log" 2>&1 &
client=$!
pids+=($client)
sleep 0.5
sed -n '1,3s/^/  client| /p' "$work/client.log"

# tempusc asks the client over its control socket, as chronyc would.
t=0
while [ "$t" -lt "$secs" ]; do
    step=$((t < 10 ? 2 : 10))
    sleep "$step"
    t=$((t + step))
    echo
    echo "-- after ${t} s: tempusc sources / tracking"
    ./build/tempusc -h "$work/client.sock" sources | sed 's/^/  /'
    ./build/tempusc -h "$work/client.sock" tracking | sed 's/^/  /'
done
./build/tempusc -h "$work/client.sock" sourcestats | sed 's/^/  /'
kill -TERM "$client"
wait "$client" || true

echo
echo "== the client's chrony-format logs (tail of tracking.log, measurements.log)"
tail -n 3 "$work/log/tracking.log" | sed 's/^/  /'
tail -n 3 "$work/log/measurements.log" | sed 's/^/  /'
echo
echo "== the client's drift file (ppm, skew ppm):"
sed 's/^/  /' "$work/client.drift"
