#!/usr/bin/env bash
# Debian's chronyc against tempusd's control protocol on loopback.
#
# A chronyd -x (never touches the clock) serves NTP as `local stratum 2` on 127.0.0.1; a
# tempusd -x -d uses it as its only server, with cmdport and a Unix socket on test paths.
# chronyc asks tempusd over UDP (-h 127.0.0.1 -p PORT) and over the Unix socket (-h PATH):
#  - monitoring commands succeed and show the source: reach, stratum 2 (tempusd stratum 3),
#    and offsets of the right sign and size: the server line has `offset 0.5` (every
#    measurement says the local clock is 0.5 s behind) and `maxslewrate 1` keeps the null
#    clock from catching up during the test, so tracking must say 0.5 s slow / last offset
#    -0.5, sources and sourcestats -0.5 s (local behind), ntpdata +0.5 s (NTP's theta);
#  - privileged commands and the Unix-only monitoring commands get "501 Not authorised" over
#    UDP; burst/online/offline/makestep/cmdallow/cmdaccheck succeed over the Unix socket;
#  - a non-cmdallow sender gets no answer at all: in a private network namespace (unshare
#    -n) a second tempusd listens on 10.99.0.1 (on lo there), so chronyc's requests come
#    from 10.99.0.1, which is not localhost; cmdallow 10.99.0.2 -> silence, then a third
#    instance with cmdallow 10.99.0.1 -> answered.
# Ports come from this shell's PID. Daemons are killed by PID in a trap.
# Usage: chronyc_vs_tempusd.sh TEMPUSD
set -u
TEMPUSD=$(readlink -f "$1")
TEMPUSC=$(dirname "$TEMPUSD")/tempusc # selectopts and offset: requests chronyc 4.3 lacks
NTPSERVER=$(dirname "$(readlink -f "$0")")/../daemon/ntpserver.py
CHRONYD=${CHRONYD:-/usr/sbin/chronyd}
CHRONYC=${CHRONYC:-/usr/bin/chronyc}
# shellcheck source=tests/system/lib/common.sh
. "$(dirname "$(readlink -f "$0")")/../lib/common.sh"
if [ ! -x "$CHRONYD" ] || [ ! -x "$CHRONYC" ]; then skip "chronyd/chronyc not installed"; fi
[ "$(id -u)" = 0 ] || skip "needs root (chronyd writes its pid/socket dirs)"

work_dir cmdsrv 700 # the daemons of PIDS are stopped by PID on exit
DIR=$WORK
BASE=$((24000 + ($$ % 2000) * 4))
NTP_A=$BASE CMD_A=$((BASE + 1)) CMD_T=$((BASE + 2)) CMD_T2=$((BASE + 3)) NTP_T=$((BASE - 8000))

mkdir -m 0700 -p "$DIR/a" "$DIR/t"
cat >"$DIR/a.conf" <<CONF
port $NTP_A
bindaddress 127.0.0.1
local stratum 2
allow 127.0.0.1
cmdport $CMD_A
bindcmdaddress 127.0.0.1
bindcmdaddress $DIR/a/chronyd.sock
pidfile $DIR/a/chronyd.pid
CONF
SOCK=$DIR/t/sock/tempusd.sock
cat >"$DIR/t.conf" <<CONF
server 127.0.0.1 port $NTP_A iburst minpoll 0 maxpoll 1 offset 0.5
maxslewrate 1
port $NTP_T
bindaddress 127.0.0.1
allow 127.0.0.1
cmdport $CMD_T
bindcmdaddress 127.0.0.1
bindcmdaddress $SOCK
pidfile $DIR/t/tempusd.pid
CONF

# -x: never touch this machine's clock. -d: foreground, so $! is the daemon.
"$CHRONYD" -x -d -u root -f "$DIR/a.conf" >"$DIR/a.log" 2>&1 &
PIDS+=($!)
"$TEMPUSD" -x -d -u root -f "$DIR/t.conf" >"$DIR/t.log" 2>&1 &
PIDS+=($!)

U=("$CHRONYC" -n -h 127.0.0.1 -p "$CMD_T")
X=("$CHRONYC" -n -h "$SOCK")

# Wait (bounded) until tempusd reaches the source 4 times and selects it.
for _ in $(seq 1 60); do
    out=$("${U[@]}" -c sources 2>/dev/null | head -1)
    case "$out" in
    '^,*,127.0.0.1,2,'*) reach=$(echo "$out" | cut -d, -f6)
        [ "$reach" -ge 17 ] 2>/dev/null && break ;;
    esac
    sleep 0.5
done

run() { # run NAME CMD...: prints output, returns the status
    local name=$1; shift
    out=$("$@" 2>&1); rc=$?
    printf '%s\n' "--- $name (rc $rc)" "$out" >>"$DIR/transcript"
    return $rc
}
ntpq() { # ntpq: one NTP client request to tempusd's server port; prints the stratum, rc 1 if no answer
    /usr/bin/python3 -c "
import sys, ntplib
try:
    r = ntplib.NTPClient().request('127.0.0.1', port=$NTP_T, version=4, timeout=1)
except Exception:
    sys.exit(1)
print(r.stratum)" 2>/dev/null
}
near() { # near VALUE TARGET: |VALUE - TARGET| < 0.01
    /usr/bin/python3 -c "import sys; sys.exit(0 if abs(float('$1') - float('$2')) < 0.01 else 1)" 2>/dev/null
}

for via in udp unix; do
    if [ $via = udp ]; then C=("${U[@]}"); else C=("${X[@]}"); fi
    if run "tracking $via" "${C[@]}" -c tracking; then
        IFS=, read -r refid name stratum _ systime lastoff _ <<<"$out"
        if [ "$refid" = 7F000001 ] && [ "$name" = 127.0.0.1 ] && [ "$stratum" = 3 ] &&
            near "$systime" 0.5 && near "$lastoff" -0.5; then
            ok "tracking over $via: $out"
        else fail "tracking over $via: $out"; fi
    else fail "tracking over $via: rc $rc: $out"; fi
    if run "sources $via" "${C[@]}" -c sources; then
        IFS=, read -r mode state name stratum poll reach lastrx off _ err <<<"$out"
        if [ "$mode$state" = '^*' ] && [ "$stratum" = 2 ] && [ "$reach" -gt 0 ] &&
            near "$off" -0.5; then ok "sources over $via: $out"
        else fail "sources over $via: $out"; fi
    else fail "sources over $via: rc $rc: $out"; fi
    if run "sourcestats $via" "${C[@]}" -c sourcestats; then
        IFS=, read -r name np nr span freq skew off sd _ <<<"$out"
        if [ "$name" = 127.0.0.1 ] && [ "$np" -ge 2 ] && near "$off" -0.5; then
            ok "sourcestats over $via: $out"
        else fail "sourcestats over $via: $out"; fi
    else fail "sourcestats over $via: rc $rc: $out"; fi
    if run "activity $via" "${C[@]}" activity && echo "$out" | grep -q '^200 OK' &&
        echo "$out" | grep -q '^1 sources online'; then ok "activity over $via"
    else fail "activity over $via: $out"; fi
done

if run "tracking ::1" "$CHRONYC" -n -h ::1 -p "$CMD_T" -c tracking && echo "$out" | grep -q '^7F000001,127.0.0.1,3,'; then
    ok "tracking over UDP ::1"
else fail "tracking over UDP ::1: $out"; fi
if run waitsync "${U[@]}" waitsync 3 && echo "$out" | grep -Eq '^try: 1, refid: 7F000001, correction: 0\.(49|50)'; then
    ok "waitsync over udp: $out"
else fail "waitsync over udp: $out"; fi
if run sourcename "${U[@]}" sourcename 127.0.0.1 && [ "$out" = 127.0.0.1 ]; then ok "sourcename over udp"
else fail "sourcename over udp: $out"; fi
if run "sources -N" "${U[@]}" -N sources && echo "$out" | grep -q '^\^\* 127.0.0.1 '; then ok "sources -N over udp"
else fail "sources -N over udp: $out"; fi

# Unix-only monitoring commands.
if run ntpdata "${X[@]}" ntpdata 127.0.0.1 && echo "$out" | grep -q "Remote address  : 127.0.0.1 ($(printf '%X' 2130706433))" &&
    echo "$out" | grep -q '^Stratum         : 2$' && echo "$out" | grep -q '^Mode            : Server$' &&
    echo "$out" | grep -q "^Remote port     : $NTP_A\$"; then
    off=$(echo "$out" | sed -n 's/^Offset          : \([-+0-9.e]*\) seconds$/\1/p')
    if [ -n "$off" ] && near "$off" 0.5; then ok "ntpdata over unix (offset $off)"
    else fail "ntpdata offset: $out"; fi
else fail "ntpdata over unix: $out"; fi
if run selectdata "${X[@]}" -c selectdata && echo "$out" | grep -q '^\*,127.0.0.1,N,'; then
    ok "selectdata over unix: $out"
else fail "selectdata over unix: $out"; fi
# NTP clients of tempusd's own server port: three requests from 127.0.0.1.
for _ in 1 2 3; do ntpq >/dev/null || fail "NTP request to tempusd unanswered"; done
if run serverstats "${X[@]}" -c serverstats && [ "$(echo "$out" | tr ',' '\n' | wc -l)" = 11 ]; then
    cmd_hits=$(echo "$out" | cut -d, -f3)
    ntp_hits=$(echo "$out" | cut -d, -f1)
    if [ "$cmd_hits" -ge 8 ] && [ "$ntp_hits" -ge 3 ]; then ok "serverstats over unix: $out"
    else fail "serverstats ntp/cmd hits: $out"; fi
else fail "serverstats over unix: $out"; fi
# chronyc -c clients: address, NTP hits, drops, interval, interval after a drop, last, cmd
# hits, drops, interval, last: one
# row for 127.0.0.1 with its 3 NTP requests and its UDP commands (chronyd: one record per
# address).
if run clients "${X[@]}" -c clients && echo "$out" | grep -q '^127.0.0.1,3,' &&
    [ "$(echo "$out" | grep -c '^127.0.0.1,')" = 1 ] &&
    [ "$(echo "$out" | grep '^127.0.0.1,' | cut -d, -f7)" -ge 8 ]; then
    ok "clients over unix: $(echo "$out" | tr '\n' ' ')"
else fail "clients over unix: $out"; fi

# allow/deny at run time change who gets an NTP answer (and what accheck says).
if run "deny" "${X[@]}" deny 127.0.0.1 && echo "$out" | grep -q '^200 OK' && ! ntpq >/dev/null &&
    run "accheck denied" "${X[@]}" accheck 127.0.0.1 && echo "$out" | grep -q '^209 Access denied'; then
    ok "deny 127.0.0.1: no NTP answer"
else fail "deny 127.0.0.1: $out"; fi
if run "allow" "${X[@]}" allow 127.0.0.1 && echo "$out" | grep -q '^200 OK' && ntpq >/dev/null; then
    ok "allow 127.0.0.1: answered again"
else fail "allow 127.0.0.1: $out"; fi
# `deny all` overrides the earlier allow; a later, more specific allow wins again.
if run "deny all" "${X[@]}" deny all && ! ntpq >/dev/null && run "allow again" "${X[@]}" allow 127.0.0.1 &&
    ntpq >/dev/null; then
    ok "deny all, then allow 127.0.0.1"
else fail "deny all / allow 127.0.0.1: $out"; fi

# Over UDP, what chronyd 4.3 refuses there.
for cmd in "ntpdata 127.0.0.1" serverstats clients selectdata "burst 2/4 127.0.0.1" makestep \
    "offline" "cmdallow 10.0.0.1" "delete 127.0.0.1" shutdown; do
    # shellcheck disable=SC2086
    if run "udp $cmd" "${U[@]}" $cmd; then fail "UDP $cmd accepted: $out"
    elif echo "$out" | grep -q '^501 Not authorised'; then ok "UDP $cmd: 501"
    else fail "UDP $cmd: $out"; fi
done

# -x: `makestep` fails as chronyd -x 4.3's does (its null driver cannot step: 500 Failure).
if run "unix makestep -x" "${X[@]}" makestep; echo "$out" | grep -q '^500 Failure'; then
    ok "unix makestep with -x: 500"
else fail "unix makestep with -x: $out"; fi
# Privileged over the Unix socket.
for cmd in "burst 2/4 127.0.0.1" "offline 127.0.0.1" "online 127.0.0.1" \
    "cmdallow 10.0.0.0/8" onoffline dump cyclelogs reselect refresh "reload sources"; do
    # shellcheck disable=SC2086
    if run "unix $cmd" "${X[@]}" $cmd && echo "$out" | grep -q '^200 OK'; then ok "unix $cmd"
    else fail "unix $cmd: $out"; fi
done
# Per-source changes at run time: 200 OK as chronyd 4.3, and the engine follows (minpoll 3
# raises maxpoll 1 to 3 and the poll with it: `sources` shows poll 3).
for cmd in "maxdelay 127.0.0.1 2.5" "maxdelayratio 127.0.0.1 50" "maxdelaydevratio 127.0.0.1 20" \
    "minstratum 127.0.0.1 1" "polltarget 127.0.0.1 10" "minpoll 127.0.0.1 3"; do
    # shellcheck disable=SC2086
    if run "unix $cmd" "${X[@]}" $cmd && echo "$out" | grep -q '^200 OK'; then ok "unix $cmd"
    else fail "unix $cmd: $out"; fi
done
if run "sources after minpoll" "${X[@]}" -c sources && [ "$(echo "$out" | cut -d, -f5)" = 3 ]; then
    ok "minpoll 3 shown by sources: $out"
else fail "sources after minpoll 3: $out"; fi
if run "maxpoll" "${X[@]}" maxpoll 127.0.0.1 2 && echo "$out" | grep -q '^200 OK' &&
    run "sources after maxpoll" "${X[@]}" -c sources && [ "$(echo "$out" | cut -d, -f5)" = 2 ]; then
    ok "maxpoll 2 shown by sources: $out"
else fail "maxpoll 2: $out"; fi
if run "minpoll nosuch" "${X[@]}" minpoll 10.9.9.9 3; echo "$out" | grep -q '^503 No such source'; then
    ok "minpoll unknown: 503"
else fail "minpoll unknown: $out"; fi
if run cmdaccheck "${X[@]}" cmdaccheck 10.1.2.3 && echo "$out" | grep -q '^208 Access allowed'; then
    ok "cmdaccheck after cmdallow"
else fail "cmdaccheck: $out"; fi
if run accheck "${X[@]}" accheck 10.1.2.3 && echo "$out" | grep -q '^209 Access denied'; then
    ok "accheck (only 127.0.0.1 allowed)"
else fail "accheck: $out"; fi
if run "delete nosuch" "${X[@]}" delete 10.9.9.9; echo "$out" | grep -q '^503 No such source'; then
    ok "delete unknown: 503"
else fail "delete unknown: $out"; fi
if run "add" "${X[@]}" add server 127.0.0.1 port $NTP_A; echo "$out" | grep -q '^511 Source already present'; then
    ok "add duplicate: 511"
else fail "add duplicate: $out"; fi

# Run-time engine changes (the source offline, so no update undoes them before tracking):
# dfreq 5 raises tracking's frequency by 5 ppm; doffset 0.1 takes 0.1 s off "System time"
# (a clock 0.5 s slow is then 0.4 s slow), as chronyd -x 4.3 does.
field() { echo "$out" | cut -d, -f"$1"; }
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.9f", a + b }'; }
if run "offline" "${X[@]}" offline && run "tracking 0" "${X[@]}" -c tracking; then
    f0=$(field 8) s0=$(field 5)
    if run dfreq "${X[@]}" dfreq 5 && echo "$out" | grep -q '^200 OK' &&
        run "tracking dfreq" "${X[@]}" -c tracking && near "$(field 8)" "$(plus "$f0" 5)"; then
        ok "dfreq 5: frequency $f0 -> $(field 8)"
    else fail "dfreq 5 (from $f0): $out"; fi
    if run doffset "${X[@]}" doffset 0.1 && echo "$out" | grep -q '^200 OK' &&
        run "tracking doffset" "${X[@]}" -c tracking && near "$(field 5)" "$(plus "$s0" -0.1)"; then
        ok "doffset 0.1: system time $s0 -> $(field 5)"
    else fail "doffset 0.1 (from $s0): $out"; fi
else fail "offline/tracking: $out"; fi
if run maxupdateskew "${X[@]}" maxupdateskew 50 && echo "$out" | grep -q '^200 OK'; then
    ok "maxupdateskew 50"
else fail "maxupdateskew: $out"; fi
# reset sources: samples and reach forgotten, unsynchronised at once (chronyd -x 4.3 alike).
if run "reset sources" "${X[@]}" reset sources && echo "$out" | grep -q '^200 OK' &&
    run "sources after reset" "${X[@]}" -c sources && [ "$(field 6)" = 0 ] && [ "$(field 2)" = '?' ] &&
    run "tracking after reset" "${X[@]}" -c tracking && [ "$(field 14)" = 'Not synchronised' ]; then
    ok "reset sources"
else fail "reset sources: $out"; fi
# Back online (iburst): synchronised again.
run online "${X[@]}" online
for _ in $(seq 1 40); do
    out=$("${X[@]}" -c sources 2>/dev/null)
    [ "$(field 2)" = '*' ] && break
    sleep 0.5
done
if [ "$(field 2)" = '*' ]; then ok "selected again after reset: $out"
else fail "not selected again after reset: $out"; fi
# makestep 0.1 -1: the next update wants to step the clock, 0.5 s off; with -x, as chronyd
# -x 4.3, "System clock wrong by 0.5... seconds" then "Could not step system clock".
if run "makestep 0.1 -1" "${X[@]}" makestep 0.1 -1 && echo "$out" | grep -q '^200 OK'; then
    for _ in $(seq 1 40); do
        grep -Eq 'System clock wrong by 0\.[45]' "$DIR/t.log" && break
        sleep 0.5
    done
    if grep -Eq 'System clock wrong by 0\.[45]' "$DIR/t.log" && grep -q 'Could not step system clock' "$DIR/t.log" &&
        ! grep -q 'System clock was stepped' "$DIR/t.log"; then
        ok "makestep 0.1 -1: $(grep -E 'stepped by|wrong by' "$DIR/t.log" | tail -1)"
    else fail "makestep 0.1 -1: no step in the log"; fi
else fail "makestep 0.1 -1: $out"; fi
if [ -x "$TEMPUSC" ]; then
    T=("$TEMPUSC" -n -h "$SOCK")
    # selectopts +noselect: the source is shown unselectable ('?') at once; -noselect: back.
    if run "selectopts +noselect" "${T[@]}" selectopts 127.0.0.1 +noselect && echo "$out" | grep -q '^200 OK' &&
        run "sources noselect" "${X[@]}" -c sources && [ "$(field 2)" = '?' ] &&
        run "selectdata noselect" "${X[@]}" -c selectdata && echo "$out" | grep -q '^N,127.0.0.1,'; then
        ok "selectopts +noselect: $out"
    else fail "selectopts +noselect: $out"; fi
    if run "selectopts -noselect" "${T[@]}" selectopts 127.0.0.1 -noselect +prefer && echo "$out" | grep -q '^200 OK' &&
        run "sources -noselect" "${X[@]}" -c sources && [ "$(field 2)" != '?' ]; then
        ok "selectopts -noselect +prefer: $out"
    else fail "selectopts -noselect: $out"; fi
    # offset: the configured 0.5 s correction dropped: sourcestats' offset (local clock against
    # the source) grows by 0.5 at once, -0.5 to about 0 (the kept samples move with it).
    if run "sourcestats before offset" "${X[@]}" -c sourcestats; then
        o0=$(field 7)
        if run "offset" "${T[@]}" offset 127.0.0.1 0 && echo "$out" | grep -q '^200 OK' &&
            run "sourcestats after offset" "${X[@]}" -c sourcestats &&
            near "$(field 7)" "$(plus "$o0" 0.5)"; then
            ok "offset 127.0.0.1 0: sourcestats offset $o0 -> $(field 7)"
        else fail "offset 127.0.0.1 0 (from $o0): $out"; fi
    else fail "sourcestats before offset: $out"; fi
    if run "offset nosuch" "${T[@]}" offset 10.9.9.9 0; echo "$out" | grep -q '^503 No such source'; then
        ok "offset unknown: 503"
    else fail "offset unknown: $out"; fi
else
    echo "skip: no tempusc beside tempusd for selectopts/offset (chronyc 4.3 has neither)"
fi

# A run-time `allow` opens the NTP port when the file had no allow (as chronyd), and
# `add server NAME` resolves a host name beside the loop. In a network namespace of our own
# (lo only: no DNS query can leave; localhost comes from /etc/hosts): a test NTP server, a
# tempusd -4 with no allow and no source; `add server localhost` gets it synchronised (the
# server 0.25 s ahead: a negative offset, shrinking as the clock slews); the NTP
# port answers only after `allow 127.0.0.1`. (An unresolvable name cannot be sent: chronyc
# 4.3, like tempusc, resolves it first and says "Invalid host/IP address".)
if command -v unshare >/dev/null && command -v ip >/dev/null && [ -f "$NTPSERVER" ]; then
    NS_NTP=$((BASE + 6)) NS_T=$((BASE + 7))
    NSOCK=$DIR/ns/tempusd.sock
    cat >"$DIR/ns.conf" <<CONF
port $NS_T
cmdport 0
bindcmdaddress $NSOCK
pidfile $DIR/ns/tempusd.pid
CONF
    unshare -n bash -c '
        ip link set lo up || exit 2
        port=$6
        /usr/bin/python3 "$1" "$2" --offset 0.25 --pidfile "$3/ns-srv.pid" >"$3/ns-srv.log" 2>&1 &
        srv=$!
        "$4" -4 -x -d -u root -f "$3/ns.conf" >"$3/ns.log" 2>&1 &
        pid=$!
        trap "kill $srv $pid 2>/dev/null; wait $srv $pid 2>/dev/null" EXIT
        for _ in $(seq 1 200); do [ -S "$5" ] && break; sleep 0.1; done
        q() { /usr/bin/python3 -c "
import sys, ntplib
try:
    ntplib.NTPClient().request(\"127.0.0.1\", port=$port, version=4, timeout=1)
except Exception:
    sys.exit(1)" 2>/dev/null && echo answered || echo silent; }
        echo "ntp before allow: $(q)"
        echo "add: $("$7" -n -h "$5" add server localhost port "$2" iburst minpoll 0 maxpoll 0 2>&1)"
        for _ in $(seq 1 40); do
            s=$("$7" -n -h "$5" -c sources 2>&1)
            case "$s" in "^,*,127.0.0.1,"*) break ;; esac
            sleep 0.5
        done
        echo "sources: $s"
        echo "allow: $("$7" -n -h "$5" allow 127.0.0.1 2>&1)"
        echo "ntp after allow: $(q)"
    ' _ "$NTPSERVER" "$NS_NTP" "$DIR" "$TEMPUSD" "$NSOCK" "$NS_T" "$CHRONYC" >"$DIR/ns.out" 2>&1
    out=$(cat "$DIR/ns.out")
    printf '%s\n' "--- netns allow/add" "$out" "--- its tempusd log" "$(cat "$DIR/ns.log")" >>"$DIR/transcript"
    if grep -q '^ntp before allow: silent' "$DIR/ns.out" && grep -q '^allow: 200 OK' "$DIR/ns.out" &&
        grep -q '^ntp after allow: answered' "$DIR/ns.out"; then
        ok "run-time allow opens the NTP port"
    else fail "run-time allow: $out"; fi
    if grep -q '^add: 200 OK' "$DIR/ns.out" && grep -q "^sources: ^,\*,127.0.0.1,1,0,[0-9]*,[0-9]*,-0\.[0-2]" "$DIR/ns.out"; then
        ok "add server localhost: resolved and selected"
    else fail "add server localhost: $out"; fi
else
    echo "skip: no unshare/ip/ntpserver.py for the run-time allow/add checks"
fi

# A non-cmdallow sender gets nothing (chronyc gives up: 506 Cannot talk to daemon), in a
# network namespace of our own where lo also carries 10.99.0.1/32.
if command -v unshare >/dev/null && command -v ip >/dev/null; then
    for allow in 10.99.0.2 10.99.0.1; do
        cat >"$DIR/n-$allow.conf" <<CONF
cmdport $CMD_T2
bindcmdaddress 10.99.0.1
bindcmdaddress /
cmdallow $allow
pidfile $DIR/t/tempusd-$allow.pid
CONF
    done
    unshare -n bash -c '
        ip link set lo up && ip addr add 10.99.0.1/32 dev lo || exit 2
        for allow in 10.99.0.2 10.99.0.1; do
            "$1" -x -d -u root -f "$2/n-$allow.conf" >"$2/n-$allow.log" 2>&1 &
            pid=$!
            sleep 0.5
            echo "== cmdallow $allow"
            timeout 20 "$3" -n -h 10.99.0.1 -p "$4" -m "timeout 300" "retries 2" tracking 2>&1
            echo "rc $?"
            kill $pid; wait $pid
        done' _ "$TEMPUSD" "$DIR" "$CHRONYC" "$CMD_T2" >"$DIR/netns.out" 2>&1
    out=$(cat "$DIR/netns.out")
    printf '%s\n' "--- netns" "$out" >>"$DIR/transcript"
    denied=$(sed -n '/== cmdallow 10.99.0.2/,/^rc/p' "$DIR/netns.out")
    allowed=$(sed -n '/== cmdallow 10.99.0.1/,/^rc/p' "$DIR/netns.out")
    if echo "$denied" | grep -q '506 Cannot talk to daemon' && ! echo "$denied" | grep -q 'Reference ID'; then
        ok "non-cmdallow sender: no reply"
    else fail "non-cmdallow sender: $denied"; fi
    if echo "$allowed" | grep -q '^Leap status     : Not synchronised'; then ok "cmdallow sender answered"
    else fail "cmdallow sender: $allowed"; fi
else
    echo "skip: no unshare/ip for the non-cmdallow check"
fi

# -u nobody: the socket directory tempusd creates belongs to nobody, and replies still reach
# chronyc after the privilege drop.
if id nobody >/dev/null 2>&1; then
    chmod 0755 "$DIR"
    cat >"$DIR/nobody.conf" <<CONF
cmdport 0
bindcmdaddress $DIR/nbsock/tempusd.sock
pidfile $DIR/nb/tempusd.pid
CONF
    "$TEMPUSD" -x -d -u nobody -f "$DIR/nobody.conf" >"$DIR/nb.log" 2>&1 &
    NB=$!
    PIDS+=($NB)
    # a limit (20 s: an ASan start on a loaded machine), not a timing check
    for _ in $(seq 1 200); do [ -S "$DIR/nbsock/tempusd.sock" ] && break; sleep 0.1; done
    owner=$(stat -c '%a %U' "$DIR/nbsock" 2>/dev/null)
    if run "nobody" "$CHRONYC" -n -h "$DIR/nbsock/tempusd.sock" tracking &&
        echo "$out" | grep -q '^Leap status     : Not synchronised' && [ "$owner" = "700 nobody" ]; then
        ok "-u nobody: directory $owner, answered"
    else fail "-u nobody ($owner): $out"; fi
    kill "$NB"
fi

# delete and add at run time (a port nobody answers on: only the listing is checked).
OTHER=$((NTP_A + 50))
if run delete "${X[@]}" delete 127.0.0.1 && run "sources after delete" "${X[@]}" -c sources &&
    [ -z "$out" ] && run "add other" "${X[@]}" add server 127.0.0.1 port $OTHER minpoll 0 &&
    run "sources after add" "${X[@]}" -c sources && echo "$out" | grep -q '^\^,?,127.0.0.1,'; then
    ok "delete, add"
else fail "delete/add: $out"; fi
# The deleted source added again gets its replies (the executor forgot the old entry).
if run "delete other" "${X[@]}" delete 127.0.0.1 && run "re-add" "${X[@]}" add server 127.0.0.1 port $NTP_A iburst minpoll 0 maxpoll 0 &&
    echo "$out" | grep -q '^200 OK'; then
    for _ in $(seq 1 20); do
        out=$("${X[@]}" -c sources 2>&1)
        reach=$(echo "$out" | cut -d, -f6)
        [ "$reach" -gt 0 ] 2>/dev/null && break
        sleep 0.5
    done
    if [ "$reach" -gt 0 ] 2>/dev/null; then ok "re-add after delete polls again: $out"
    else fail "re-added source never reached: $out"; fi
else fail "re-add after delete: $out"; fi

# local at run time: `local stratum 9 distance 0.000001` (a root distance above 1 us hands the
# server to the local reference) makes the server answer stratum 9; `local off` stops that.
if run "local on" "${X[@]}" local stratum 9 distance 0.000001 && echo "$out" | grep -q '^200 OK' &&
    [ "$(ntpq)" = 9 ]; then ok "local stratum 9: NTP clients see stratum 9"
else fail "local stratum 9: $out / stratum $(ntpq)"; fi
if run "local off" "${X[@]}" local off && echo "$out" | grep -q '^200 OK' &&
    [ "$(ntpq)" != 9 ]; then ok "local off: stratum $(ntpq || echo none)"
else fail "local off: $out / stratum $(ntpq)"; fi

# shutdown over the Unix socket stops the daemon.
if run shutdown "${X[@]}" shutdown && echo "$out" | grep -q '^200 OK'; then
    # (up to 20 s: an ASan daemon's exit on a loaded machine; a hang never ends)
    for _ in $(seq 1 100); do kill -0 "${PIDS[1]}" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "${PIDS[1]}" 2>/dev/null; then fail "tempusd still running after shutdown"
    else ok "shutdown"; [ -e "$SOCK" ] && fail "socket left behind"; fi
else fail "shutdown: $out"; fi

if [ "$FAILS" -gt 0 ]; then
    echo "== transcript"; cat "$DIR/transcript"; echo "== tempusd log"; tail -30 "$DIR/t.log"
    exit 1
fi
echo "all passed"
