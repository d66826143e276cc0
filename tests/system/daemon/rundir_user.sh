#!/usr/bin/env bash
# The default run directory with a real unprivileged user: tempusd -x -u nobody with the
# default pidfile and control socket (/run/tempus/tempusd.pid, /run/tempus/tempusd.sock), in
# a private mount namespace whose /run is a tmpfs of this test's own (the host's /run is never
# touched). tempusd must create /run/tempus 0750 owned by nobody before dropping privileges,
# so that the socket is accepted (an existing directory must belong to the daemon's user)
# and chronyc gets answers; `shutdown` then removes the pid file and the socket (the
# unprivileged daemon may, in its own directory). A second run with an existing root-owned
# /run/tempus (0700) must leave it alone and disable the socket, as chronyd does.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD" /usr/bin/chronyc /usr/bin/unshare
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespace, -u nobody)"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }
chmod 755 "$WORK"
cat >"$WORK/t.conf" <<CONF
cmdport 0
port 0
CONF
chmod 644 "$WORK/t.conf"

timeout 60 unshare -m bash -c '
    set -u
    mount --make-rprivate / && mount -t tmpfs -o mode=755 tmpfs /run || exit 2
    "$1" -x -d -u nobody -f "$2/t.conf" >"$2/t.out" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do [ -S /run/tempus/tempusd.sock ] && break; sleep 0.1; done
    echo "dir: $(stat -c "%a %U" /run/tempus 2>&1)"
    echo "pidfile: $(cat /run/tempus/tempusd.pid 2>&1) (daemon $pid)"
    echo "tracking: $(chronyc -n -h /run/tempus/tempusd.sock tracking 2>&1 | grep "^Leap status")"
    echo "shutdown: $(chronyc -n -h /run/tempus/tempusd.sock shutdown 2>&1)"
    for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -0 $pid 2>/dev/null && { echo "still running"; kill $pid; }
    echo "left: $(ls -A /run/tempus 2>&1 | tr "\n" " ")"
    # An existing directory of root: left as it is, the socket disabled.
    rm -rf /run/tempus && mkdir -m 0700 /run/tempus
    "$1" -x -d -u nobody -f "$2/t.conf" >"$2/t2.out" 2>&1 &
    pid=$!
    # until it has refused the socket (a fixed sleep 1 before: short for ASan on a loaded machine)
    for _ in $(seq 1 200); do grep -q "Disabled command socket" "$2/t2.out" && break; sleep 0.1; done
    echo "root dir: $(stat -c "%a %U" /run/tempus 2>&1)"
    kill $pid; wait $pid
' _ "$TEMPUSD" "$WORK" >"$WORK/ns.out" 2>&1
cat "$WORK/ns.out"
grep -q '^dir: 750 nobody$' "$WORK/ns.out" || fail "/run/tempus not created 0750 for nobody"
grep -Eq '^pidfile: [0-9]+ ' "$WORK/ns.out" || fail "no pid file"
grep -q '^tracking: Leap status     : Not synchronised$' "$WORK/ns.out" ||
    fail "chronyc got no answer over /run/tempus/tempusd.sock"
grep -q '^shutdown: 200 OK$' "$WORK/ns.out" || fail "shutdown not accepted"
grep -q '^still running' "$WORK/ns.out" && fail "tempusd did not stop"
grep -q '^left: $' "$WORK/ns.out" || fail "pid file or socket left behind"
grep -q '^root dir: 700 root$' "$WORK/ns.out" || fail "an existing directory was modified"
grep -q 'Disabled command socket /run/tempus/tempusd.sock' "$WORK/t2.out" ||
    fail "socket in a root-owned directory not refused"
echo "all passed"
