#!/usr/bin/env bash
# Sources given by name that stay unreachable are replaced by a fresh resolution (chronyd:
# pool members and servers by name, after 8 polls without a reply).
#
# In a private mount and network namespace (unshare -m -n, lo only: no query can leave) a
# private /etc/hosts is bind-mounted: pool.tempus.test -> 127.0.0.2, 127.0.0.3 and
# srv.tempus.test -> 127.0.0.6, where nobody answers; test NTP servers answer on 127.0.0.4,
# .5 and .7. tempusd -x starts with `pool pool.tempus.test maxsources 2` and `server
# srv.tempus.test`, then the hosts file is rewritten (same inode) to pool -> .4, .5 and
# srv -> .7: tempusd must replace the three dead sources with the live addresses
# ("Source 127.0.0.2 replaced with 127.0.0.4 (pool.tempus.test)") and reach them.
. "$(dirname "$0")/lib.sh"
need "$TEMPUSD" "$PY" /usr/bin/chronyc /usr/bin/unshare /usr/sbin/ip
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces)"; exit 77; }
P=$(port_for 1)
printf '127.0.0.1 localhost\n127.0.0.2 pool.tempus.test\n127.0.0.3 pool.tempus.test\n127.0.0.6 srv.tempus.test\n' \
    >"$WORK/hosts"
chmod 644 "$WORK/hosts"
cat >"$WORK/t.conf" <<CONF
pool pool.tempus.test port $P iburst minpoll -2 maxpoll 0 maxsources 2
server srv.tempus.test port $P iburst minpoll -2 maxpoll 0
cmdport 0
bindcmdaddress $WORK/sock/tempusd.sock
pidfile $WORK/tempusd.pid
CONF

timeout 120 unshare -m -n bash -c '
    set -u
    mount --make-rprivate / && mount --bind "$1/hosts" /etc/hosts && ip link set lo up || exit 2
    pids=()
    for a in 127.0.0.4 127.0.0.5 127.0.0.7; do
        "$4" "$5" "$3" --addr $a --offset 0.1 >"$1/srv-$a.out" 2>&1 &
        pids+=($!)
    done
    "$2" -x -d -u root -f "$1/t.conf" >"$1/tempusd.out" 2>&1 &
    pids+=($!)
    trap "kill \${pids[*]} 2>/dev/null; wait" EXIT
    # Wait (up to 30 s: a loaded machine, ASan) until the socket answers with the three
    # first resolutions, before the names change.
    for _ in $(seq 1 60); do
        first=$(chronyc -n -h "$1/sock/tempusd.sock" -c sources 2>&1 | cut -d, -f3 | sort | tr "\n" " ")
        [ "$first" = "127.0.0.2 127.0.0.3 127.0.0.6 " ] && break
        sleep 0.5
    done
    echo "first: $first"
    # The names now point at the live servers (the bind mount keeps the inode: write in place).
    printf "127.0.0.1 localhost\n127.0.0.4 pool.tempus.test\n127.0.0.5 pool.tempus.test\n127.0.0.7 srv.tempus.test\n" >"$1/hosts"
    for _ in $(seq 1 90); do
        s=$(chronyc -n -h "$1/sock/tempusd.sock" -c sources 2>&1)
        live=$(echo "$s" | awk -F, "\$6 > 0 { print \$3 }" | sort | tr "\n" " ")
        [ "$live" = "127.0.0.4 127.0.0.5 127.0.0.7 " ] && break
        sleep 1
    done
    echo "final: $(echo "$s" | cut -d, -f3 | sort | tr "\n" " ")"
    echo "live: $live"
' _ "$WORK" "$TEMPUSD" "$P" "$PY" "$NTPSERVER" >"$WORK/ns.out" 2>&1
cat "$WORK/ns.out"
grep "replaced with" "$WORK/tempusd.out"
grep -q '^first: 127.0.0.2 127.0.0.3 127.0.0.6 $' "$WORK/ns.out" || fail "first resolution"
grep -q '^final: 127.0.0.4 127.0.0.5 127.0.0.7 $' "$WORK/ns.out" || fail "dead sources not replaced"
grep -q '^live: 127.0.0.4 127.0.0.5 127.0.0.7 $' "$WORK/ns.out" || fail "replacements not reached"
for old in 127.0.0.2 127.0.0.3; do
    grep -Eq "Source $old replaced with 127\.0\.0\.[45] \(pool\.tempus\.test\)" "$WORK/tempusd.out" ||
        fail "no replacement logged for $old"
done
grep -q 'Source 127.0.0.6 replaced with 127.0.0.7 (srv.tempus.test)' "$WORK/tempusd.out" ||
    fail "server by name not re-resolved"
echo "all passed"
