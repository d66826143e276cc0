#!/usr/bin/env bash
# Dump files (dumpdir, tempusc dump, -r): a tempusd -x client of a tempusd -x server on
# loopback. `tempusc dump` writes DIR/127.0.0.1.dat; a clean stop writes it again; with the
# server stopped, the client restarted with -r shows the saved samples in sourcestats at
# once (no packet can have arrived) with the source's frequency, and syncs on the first
# reply once the server is back. The files are removed after start (chronyd's rule), with
# or without -r. A truncated file or another version is refused with the reason, and the
# daemon runs on with an empty register.
# Sources that are not in the configuration (chronyd 4.3, measured): a sourcedir source
# (127.0.0.2) is dumped and loaded with -r like a configured one; a source added with
# `tempusc add server` (127.0.0.3) is dumped, but -r does not load it (it is not a source at
# start) and its file is removed after start.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
need "$TEMPUSD" "$TEMPUSC" "$PY"
P=$(port_for 0)
DUMP=$WORK/dump
mkdir -m 700 "$WORK/s" "$WORK/c" "$WORK/srcdir"
echo "server 127.0.0.2 port $P iburst minpoll -2 maxpoll -2" >"$WORK/srcdir/a.sources"

start_server() {
    start_bg server "$TEMPUSD" -x -d -u root "local stratum 2" "port $P" \
        "allow 127.0.0.0/8" "pidfile $WORK/server.pid" "cmdport 0" \
        "bindcmdaddress $WORK/s/sock"
    wait_for "$WORK/server.out" 'Running with root privileges' 20 || fail "server did not start"
}
# start_client NAME [OPTIONS...]
start_client() {
    local name=$1
    shift
    start_bg "$name" "$TEMPUSD" -x -d -u root "$@" \
        "server 127.0.0.1 port $P iburst minpoll -2 maxpoll -2" "dumpdir $DUMP" \
        "sourcedir $WORK/srcdir" \
        "driftfile $WORK/drift" "pidfile $WORK/client.pid" "cmdport 0" \
        "bindcmdaddress $WORK/c/sock"
    # after every socket, the sources and their dump files (-r): the "Loaded dump file"
    # checks below raced the start when they followed the control socket's appearance (it
    # opens before the sources are added)
    wait_for "$WORK/$name.out" 'Running with root privileges' 20 || fail "$name did not start"
}
# stop NAME: SIGTERM to that daemon, waits until it has exited.
stop() {
    local pid
    eval "pid=\$PID_$1"
    kill "$pid"
    # a child of this shell: wait returns when it has exited (its exit dump written)
    wait "$pid" 2>/dev/null
    ! kill -0 "$pid" 2>/dev/null || fail "$1 did not exit"
}
# np: the NP column of sourcestats for 127.0.0.1.
np() {
    "$TEMPUSC" -n -h "$WORK/c/sock" sourcestats >"$WORK/sourcestats.txt" 2>&1 || return 1
    awk '$1 == "127.0.0.1" { print $2 }' "$WORK/sourcestats.txt"
}
tc() { "$TEMPUSC" -n -h "$WORK/c/sock" "$@"; }
# resign IN OUT SED-SCRIPT: OUT = IN edited by SED-SCRIPT with a valid check line, so that
# only the content (source, time) is wrong.
resign() {
    sed -e '$d' -e "$3" "$1" >"$2.body"
    "$PY" - "$2.body" "$2" <<'PYEOF'
import sys
body = open(sys.argv[1], 'rb').read()
h = 0xcbf29ce484222325
for b in body:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
open(sys.argv[2], 'wb').write(body + b'check %016x\n' % h)
PYEOF
    rm -f "$2.body"
}

start_server
start_client client1
[ -d "$DUMP" ] || fail "dumpdir not created"
[ "$(stat -c %a "$DUMP")" = 750 ] || fail "dumpdir mode $(stat -c %a "$DUMP")"
wait_for "$WORK/client1.out" 'reach 377' 60 || fail "client: reach 377 not seen"
[ -z "$(ls -A "$DUMP")" ] || fail "dump files before any dump: $(ls "$DUMP")"
out=$(tc add server 127.0.0.3 port "$P" iburst minpoll -2 maxpoll -2 2>&1) || fail "add: $out"
[ "$out" = "200 OK" ] || fail "tempusc add server said: $out"
for _ in $(seq 1 100); do
    tc sourcestats >"$WORK/sourcestats.txt" 2>&1
    [ "$(awk '$1 ~ /^127\.0\.0\.[123]$/ && $2 >= 4' "$WORK/sourcestats.txt" | wc -l)" = 3 ] && break
    sleep 0.1
done
out=$(tc dump 2>&1) || fail "tempusc dump: $out"
[ "$out" = "200 OK" ] || fail "tempusc dump said: $out"
F=$DUMP/127.0.0.1.dat
[ -f "$F" ] || fail "no $F after dump"
for a in 2 3; do
    [ -f "$DUMP/127.0.0.$a.dat" ] || fail "no 127.0.0.$a.dat after dump: $(cat "$WORK/sourcestats.txt")"
done
head -n 2 "$F" | tr '\n' ' ' | grep -q '^tempus-dump 1 source 127.0.0.1 $' || fail "header: $(head -n 2 "$F")"
tail -n 1 "$F" | grep -Eq '^check [0-9a-f]{16}$' || fail "no check line"
n1=$(sed -n 's/^samples //p' "$F")
echo "tempusc dump: $F with $n1 samples"
[ "$n1" -ge 6 ] || fail "only $n1 samples dumped"

sleep 1
# The server stops first, so that no sample arrives between the client's last sourcestats and
# its exit dump: the frequency compared after -r is the one of exactly the dumped samples (a
# sample more or less at poll -2 over a few seconds moves it by tenths of a ppm).
stop server
# A reply already sent may still be on its way: until the count stands still over 4 polls.
np_still() {
    local a
    a=$(np)
    sleep 1
    [ -n "$a" ] && [ "$(np)" = "$a" ]
}
poll_until 30 np_still || fail "samples still arriving after the server stopped"
np_before=$(np)
freq_before=$(awk '$1 == "127.0.0.1" { print $5 }' "$WORK/sourcestats.txt")
stop client1
n2=$(sed -n 's/^samples //p' "$F")
grep -q 'Could not save dump' "$WORK/client1.out" && fail "dump at exit failed"
# Not "at least the $n1 of tempusc dump": the samples that came since can make the runs test
# trim the oldest from the register (chrony's rule; 17 -> 13 seen at load 20). The exit dump
# is the register as sourcestats showed it last.
[ "$n2" -ge 4 ] || fail "exit dump has only $n2 samples"
[ "$n2" = "$np_before" ] || fail "exit dump has $n2 samples, sourcestats had $np_before"
echo "exit: $n2 samples (sourcestats had $np_before, frequency $freq_before)"
cp "$F" "$WORK/saved.dat"

# Restart with -r while the server is down: the samples are there at once.
start_client client2 -r
grep -q 'Loaded dump file for 127.0.0.1' "$WORK/client2.out" || fail "no 'Loaded dump file' line"
grep -q 'Loaded dump file for 127.0.0.2 ' "$WORK/client2.out" || fail "sourcedir source not loaded"
grep -q 'Loaded dump file for 127.0.0.3' "$WORK/client2.out" && fail "run-time source loaded"
got=$(np)
# The import refits the register (as chronyd's load does), without the live register's
# history (the older samples its runs test still covers): on a loaded machine the scatter can
# make that fit trim the oldest samples (13 of 15 once, session 8). So NP after -r is what the
# daemon says it loaded, at least half the dump's, and none is lost between the two.
loaded=$(sed -nE 's/.*Loaded dump file for 127\.0\.0\.1 \(([0-9]+) samples\)$/\1/p' "$WORK/client2.out")
[ "$got" = "$loaded" ] && [ "$got" -le "$n2" ] && [ $((2 * got)) -ge "$n2" ] ||
    fail "sourcestats NP $got after -r, loaded ${loaded:-?}, dump had $n2: $(cat "$WORK/sourcestats.txt")"
freq_after=$(awk '$1 == "127.0.0.1" { print $5 }' "$WORK/sourcestats.txt")
abs_le "$(awk -v a="$freq_after" -v b="$freq_before" 'BEGIN { print a - b }')" 0.5 ||
    fail "frequency $freq_after after reload, $freq_before before"
tc -n sources >"$WORK/sources.txt" 2>&1
grep -Eq '^\^. 127\.0\.0\.1 ' "$WORK/sources.txt" || fail "sources: $(cat "$WORK/sources.txt")"
tc tracking >"$WORK/tracking.txt" 2>&1 || fail "tracking"
grep -q '^Leap status *: Not synchronised$' "$WORK/tracking.txt" ||
    fail "tracking before any reply: $(cat "$WORK/tracking.txt")"
echo "after -r, before any reply: NP $got, frequency $freq_after ppm (was $freq_before)"
dump_gone() { [ ! -e "$F" ]; }
poll_until 20 dump_gone || fail "$F not removed after start"
[ -z "$(ls -A "$DUMP")" ] || fail "dump files left after start: $(ls "$DUMP")"
start_server
wait_for "$WORK/client2.out" 'Selected source 127\.0\.0\.[12]' 20 || fail "no selection after reload"
# One tracking reading, synchronised with the last offset within 1 ms (one clock: loopback
# noise only), polled for up to 20 s: the first samples after the restart can come from a
# server the loaded machine has not yet fully scheduled (one sample's offset is not the
# property; a reload that broke the estimate never shows such a reading).
synced_close() {
    tc tracking >"$WORK/tracking.txt" 2>&1 &&
        grep -q '^Leap status *: Normal$' "$WORK/tracking.txt" &&
        abs_le "$(sed -nE 's/^Last offset *: ([-+0-9.e]+) seconds$/\1/p' "$WORK/tracking.txt")" 0.001
}
synced_close || poll_until 20 synced_close
grep -q '^Leap status *: Normal$' "$WORK/tracking.txt" || fail "tracking: $(cat "$WORK/tracking.txt")"
last=$(sed -nE 's/^Last offset *: ([-+0-9.e]+) seconds$/\1/p' "$WORK/tracking.txt")
abs_le "$last" 0.001 || fail "last offset $last after reload"
np2=$(np)
echo "synchronised after reload: last offset $last s, NP $np2"
stop client2
stop server

# The checker agrees with the daemon's checksum.
resign "$WORK/saved.dat" "$WORK/resigned.dat" ''
cmp -s "$WORK/saved.dat" "$WORK/resigned.dat" || fail "test's checksum differs from the daemon's"
# Refused files: truncated, another version, altered, another source, too old. The daemon
# runs on with an empty register, and the file is removed.
for bad in truncated version altered source stale; do
    case $bad in
    truncated) head -c 200 "$WORK/saved.dat" >"$F" ;;
    version) resign "$WORK/saved.dat" "$F" '1s/.*/tempus-dump 9/' ;;
    altered) awk 'NR == 5 { $7 = $7 == 2 ? 3 : 2 } { print }' "$WORK/saved.dat" >"$F" ;;
    source) resign "$WORK/saved.dat" "$F" 's/^source 127.0.0.1$/source 127.0.0.3/' ;;
    stale) resign "$WORK/saved.dat" "$F" 's/^saved .*/saved 1000000000000000000/' ;;
    esac
    start_client "bad_$bad" -r
    case $bad in
    truncated) want='truncated' ;;
    version) want='not a tempus dump file of version 1' ;;
    altered) want='checksum mismatch' ;;
    source) want='written for another source' ;;
    stale) want='too old' ;;
    esac
    wait_for "$WORK/bad_$bad.out" "Could not load dump file for 127.0.0.1 : $want" 20 ||
        fail "$bad: no refusal: $(grep 'Could not load dump file' "$WORK/bad_$bad.out")"
    grep 'Could not load dump file' "$WORK/bad_$bad.out" | sed 's/^/  /'
    got=$(np) || fail "$bad: daemon not answering"
    [ "$got" = 0 ] || fail "$bad: NP $got"
    [ ! -e "$F" ] || fail "$bad: file not removed"
    stop "bad_$bad"
done

# Without -r the file is removed and nothing is loaded.
cp "$WORK/saved.dat" "$F"
start_client plain
poll_until 20 dump_gone || fail "file kept without -r"
grep -q 'Loaded dump file' "$WORK/plain.out" && fail "loaded without -r"
stop plain
echo "PASS"
