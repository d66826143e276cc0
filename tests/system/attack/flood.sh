#!/usr/bin/env bash
# shellcheck disable=SC2154 # PID_<name> variables are set by lib.sh's start_bg (eval)
# A flood on loopback (every daemon -x; bounded: FLOOD_S seconds, ntpload's own caps).
#
# A tempusd server (local stratum 3, ratelimit interval 0 burst 8 leak 2, clientloglimit
# 4 MiB = 32768 records) gets, for FLOOD_S (20) s at once:
#  - bench/ntpload at its full rate (closed loop, window 4096) from 100000 addresses in 127/8
#    x 4 ports (addresses cycle first, so each of the 100000 is used once 100000 requests
#    were sent; the client log, keyed by address, holds 32768: it must evict);
#  - one hog (one address, one port) at a fixed 5000 requests/s, which rate limiting must
#    cut to about its leak (1 in 4) plus 1/s;
#  - a tempusd client (127.0.0.1, polling every 2 s) that must stay in sync: selected, at
#    least 4 of its last 8 polls answered (the flood overflows the server's socket queue:
#    10-30 % of all requests are lost in the kernel), offset < 2 ms.
# The server must stay up, its RSS must stay within clientloglimit (+ 1 MiB slack) of its
# size before the flood, and serverstats must show the drops and the evictions.
. "$(dirname "$0")/../daemon/lib.sh"
TEMPUSC=$BUILD/tempusc
NTPLOAD=$BUILD/bench/ntpload
need "$TEMPUSD" "$TEMPUSC" "$NTPLOAD"
FLOOD_S=${FLOOD_S:-20}
LIMIT=4194304

P=$(port_for 0)
start_bg server "$TEMPUSD" -x -d -u root "local stratum 3" "port $P" "bindaddress 127.0.0.1" \
    "allow 127.0.0.0/8" "ratelimit interval 0 burst 8 leak 2" "clientloglimit $LIMIT" \
    "cmdport 0" "bindcmdaddress $WORK/srv/tempusd.sock" "pidfile $WORK/server.pid"
# every socket is open when it says so (a fixed sleep 0.3 after the line before)
wait_for "$WORK/server.out" 'Running with root privileges' 20 || fail "server did not start"
start_bg client "$TEMPUSD" -x -d -u root "server 127.0.0.1 port $P iburst minpoll 1 maxpoll 1" \
    "port 0" "cmdport 0" "bindcmdaddress $WORK/cli/tempusd.sock" "pidfile $WORK/client.pid"
wait_for "$WORK/client.out" 'source: \^\* 127\.0\.0\.1 ' 20 || fail "client did not sync"

rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
# shellcheck disable=SC2154
rss0=$(rss_kb "$PID_server")
start_bg flood "$NTPLOAD" -s 127.0.0.1 -p "$P" -r 0 -w 4096 -a 100000 -P 4 -d "$FLOOD_S" -q
start_bg hog "$NTPLOAD" -s 127.0.0.1 -p "$P" -r 5000 -a 1 -P 1 -d "$FLOOD_S" -q -t 200
rss_max=$rss0
end=$((SECONDS + FLOOD_S + 3))
# shellcheck disable=SC2154
while kill -0 "$PID_flood" 2>/dev/null && [ $SECONDS -lt $end ]; do
    kill -0 "$PID_server" 2>/dev/null || fail "server died during the flood"
    r=$(rss_kb "$PID_server")
    ((r > rss_max)) && rss_max=$r
    sleep 0.5
done
wait "$PID_flood"
rc_flood=$?
# shellcheck disable=SC2154
wait "$PID_hog"
kill -0 "$PID_server" 2>/dev/null || fail "server died during the flood"
kill -0 "$PID_client" 2>/dev/null || fail "client died during the flood"
cat "$WORK/flood.out" "$WORK/hog.out"
[ "$rc_flood" -eq 0 ] || [ "$rc_flood" -eq 3 ] || fail "ntpload: a reply failed its checks ($rc_flood)"
grep -q 'bad-origin 0 malformed 0 wrong-socket 0' "$WORK/flood.out" || fail "flood: bad replies"
sent=$(sed -nE 's/.*sent ([0-9]+) .*/\1/p' "$WORK/flood.out")
rate=$(sed -nE 's/.*replies [0-9]+ \(([0-9]+)\/s\).*/\1/p' "$WORK/flood.out")
sources=$(sed -nE 's/.* sources ([0-9]+).*/\1/p' "$WORK/flood.out")
hog_sent=$(sed -nE 's/.*sent ([0-9]+) .*/\1/p' "$WORK/hog.out")
hog_rep=$(sed -nE 's/.*replies ([0-9]+) .*/\1/p' "$WORK/hog.out")
((sent >= 100000)) || fail "only $sent requests sent: not every one of the 100000 addresses used"
echo "flood: $sent requests from 100000 addresses ($sources address/port pairs) in ${FLOOD_S} s," \
    "$rate replies/s answered"
echo "server RSS: $rss0 kB before, $rss_max kB at most during the flood (clientloglimit $LIMIT)"
((rss_max - rss0 <= LIMIT / 1024 + 1024)) || fail "RSS grew by $((rss_max - rss0)) kB"
# The hog: burst 8, then 1/s refill, plus 1 in 4 of the rest (leak 2) answered.
max_hog=$((8 + FLOOD_S + 2 + hog_sent * 35 / 100))
echo "hog: $hog_rep of $hog_sent answered (rate limit: at most $max_hog)"
((hog_rep <= max_hog)) || fail "hog not rate-limited: $hog_rep of $hog_sent answered"
((hog_rep >= 8)) || fail "hog got less than its burst"

ss=$("$TEMPUSC" -h "$WORK/srv/tempusd.sock" serverstats) || fail "serverstats"
echo "$ss"
drops=$(sed -nE 's/^NTP packets dropped *: *([0-9]+).*/\1/p' <<<"$ss")
evicted=$(sed -nE 's/^Client log records dropped *: *([0-9]+).*/\1/p' <<<"$ss")
((drops > 0)) || fail "no NTP packets dropped"
((evicted > 0)) || fail "no client log records evicted with $sources sources"

src=$("$TEMPUSC" -h "$WORK/cli/tempusd.sock" -n sources | grep '127\.0\.0\.1') || fail "client sources"
echo "client: $src"
[[ $src =~ ^\^\*\ +127\.0\.0\.1\ +3\ +1\ +([0-7]+)\  ]] || fail "client not selected: $src"
# The flood saturates the server's socket (ntpload sees 10-30 % loss, in the kernel's queue
# before tempusd, depending on the machine's load): the client loses polls in proportion, but
# must keep at least half of them and stay selected.
reach=$((8#${BASH_REMATCH[1]}))
got=0
for ((b = 0; b < 8; b++)); do ((reach >> b & 1)) && got=$((got + 1)); done
((got >= 4)) || fail "client: only $got of its last 8 polls answered (reach ${BASH_REMATCH[1]})"
tr=$("$TEMPUSC" -h "$WORK/cli/tempusd.sock" tracking) || fail "client tracking"
off=$(sed -nE 's/^Last offset *: ([-+0-9.]+).*/\1/p' <<<"$tr")
abs_le "$off" 0.002 || fail "client last offset $off"
echo "client last offset $off s"
echo "PASS"
