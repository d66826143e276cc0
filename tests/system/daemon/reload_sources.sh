#!/usr/bin/env bash
# `reload sources` re-reads the sourcedir files (chronyd 4.3): tempusd -x and Debian's chronyd
# -x read the same sourcedir; after each change of the files and `reload sources`, both list
# the same sources with the same polls (a removed line's source is gone, a new one added, a
# changed line's source replaced with the new options, the configuration file's own source
# untouched). A line that did not change keeps its source's state: a live source (a tempusd
# -x server) keeps its reach and its samples over the reloads.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD" "$CHRONYC"
P=$(port_for 0)    # the live server
DEAD=$(port_for 1) # nothing listens there
mkdir -m 700 "$WORK/s" "$WORK/t" "$WORK/src"
start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.1" "pidfile $WORK/server.pid" "cmdport 0" "bindcmdaddress $WORK/s/sock"
wait_for "$WORK/server.out" 'Disabled control of system clock' 5 || fail "server did not start"
cat >"$WORK/src/a.sources" <<EOF
server 127.0.0.1 port $P minpoll -2 maxpoll -2
server 127.0.0.2 port $DEAD minpoll 0 maxpoll 0
server 127.0.0.3 port $DEAD minpoll 0 maxpoll 0
EOF
start_bg tempusd "$TEMPUSD" -x -d -u root "server 127.0.0.9 port $DEAD minpoll 0 maxpoll 0" \
    "sourcedir $WORK/src" "pidfile $WORK/tempusd.pid" "cmdport 0" "bindcmdaddress $WORK/t/sock"
start_chronyd_client "server 127.0.0.9 port $DEAD minpoll 0 maxpoll 0" "sourcedir $WORK/src"
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"

# "name poll" per source, in report order
list() { # tempusc|chronyc SOCKET
    "$@" -n sources 2>&1 | awk '/^[\^=#][-*+?x~]/ {print $2, $4}'
}
# compare STEP: both daemons list the same sources, polled for up to 10 s (the listings are
# read one after the other, and a loaded machine may not have run chronyd's reload yet)
compare() { # STEP
    local t c i
    for ((i = 0; i < 50; i++)); do
        t=$(list "$TEMPUSC" -h "$WORK/t/sock")
        c=$(list "$CHRONYC" -h "$WORK/chronyd.sock")
        [ "$t" = "$c" ] && break
        sleep 0.2
    done
    echo "$1: $(echo "$t" | tr '\n' ';')"
    [ "$t" = "$c" ] || fail "$1: tempusd [$(echo "$t" | tr '\n' ';')] chronyd [$(echo "$c" | tr '\n' ';')]"
}
reload() {
    local r
    r=$("$TEMPUSC" -n -h "$WORK/t/sock" reload sources 2>&1)
    [ "$r" = "200 OK" ] || fail "tempusc reload sources: $r"
    r=$("$CHRONYC" -n -h "$WORK/chronyd.sock" reload sources 2>&1)
    [ "$r" = "200 OK" ] || fail "chronyc reload sources: $r"
}
# the live source: NP of sourcestats (samples kept)
np() {
    "$TEMPUSC" -n -h "$WORK/t/sock" sourcestats 2>&1 | awk '$1 == "127.0.0.1" {print $2}'
}
for _ in $(seq 1 150); do # a limit (30 s), not a timing check
    n=$(np)
    [ "${n:-0}" -ge 4 ] && break
    sleep 0.2
done
compare start
np1=$(np)
[ "${np1:-0}" -ge 4 ] || fail "the live source got no samples: $(cat "$WORK/tempusd.out")"

# nothing changed: nothing moves
reload
compare unchanged

# .2 removed, .3 changed (poll), .4 new, a second file with .5
cat >"$WORK/src/a.sources" <<EOF
server 127.0.0.1 port $P minpoll -2 maxpoll -2
server 127.0.0.3 port $DEAD minpoll 1 maxpoll 1
server 127.0.0.4 port $DEAD minpoll 0 maxpoll 0
EOF
printf 'server 127.0.0.5 port %s minpoll 2 maxpoll 2\n' "$DEAD" >"$WORK/src/b.sources"
reload
sleep 0.3
compare changed

# a file removed; a line without its newline is not read (so .4 goes too)
rm "$WORK/src/b.sources"
printf 'server 127.0.0.1 port %s minpoll -2 maxpoll -2\nserver 127.0.0.3 port %s minpoll 1 maxpoll 1\nserver 127.0.0.4 port %s' \
    "$P" "$DEAD" "$DEAD" >"$WORK/src/a.sources"
reload
sleep 0.3
compare removed

# the live source kept its register and reach through the reloads
np2=$(np)
[ "${np2:-0}" -ge "$np1" ] || fail "live source restarted: NP $np1 -> $np2"
reach=$("$TEMPUSC" -n -h "$WORK/t/sock" sources 2>&1 | awk '$2 == "127.0.0.1" {print $5}')
[ "$reach" = 377 ] || fail "live source reach $reach"
echo "live source: NP $np1 -> $np2, reach $reach"

# every sourcedir file gone: only the configuration's source stays
rm "$WORK/src/a.sources"
reload
sleep 0.3
compare empty
[ "$(list "$TEMPUSC" -h "$WORK/t/sock")" = "127.0.0.9 0" ] || fail "configuration source touched"
echo "PASS"
