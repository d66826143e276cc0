#!/usr/bin/env bash
# `ratelimit` on tempusd's NTP port (loopback, every daemon -x): a client flooding one request
# per ~2 ms gets its burst, then only the leak (1 in 2^leak at random) answered; a fresh
# address still gets its burst; the poll field announces the interval; tempusc serverstats
# and clients count the drops; `kod 0` turns every drop into a RATE kiss-o'-death; with
# noclientlog nothing is limited (the limiter lives in the client log, as in chronyd).
. "$(dirname "$0")/../daemon/lib.sh"
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}
FLOOD=$SRC/tests/system/ratelimit/flood.py
need "$TEMPUSD" "$TEMPUSC" "$PY"

# start NAME NTPPORT DIRECTIVE... (control through the Unix socket $WORK/NAME.sock: serverstats
# and clients are refused over UDP, as by chronyd)
start() {
    local name=$1 p=$2
    shift 2
    start_bg "$name" "$TEMPUSD" -x -d -u root "local stratum 3" "port $p" \
        "bindaddress 127.0.0.1" "allow 127.0.0.0/8" "cmdport 0" \
        "bindcmdaddress $WORK/$name.sock" "pidfile $WORK/$name.pid" "$@"
    # every socket is open when it says so (a fixed sleep 0.3 after the line before)
    wait_for "$WORK/$name.out" 'Running with root privileges' 20 || fail "$name did not start"
}

# field LINE KEY: the number after KEY= in LINE
field() { sed -nE "s/.*[ ^]?$2=(-?[0-9]+).*/\1/p" <<<"$1"; }

N=200
P=$(port_for 0)
start limited "$P" "ratelimit interval 1 burst 4 leak 2"
out=$("$PY" "$FLOOD" "$P" 127.0.0.1 $N 2) || fail "flood: bad reply ($out)"
echo "limited, 127.0.0.1: $out"
rep=$(field "$out" replies)
miss=$(field "$out" missing)
poll=$(field "$out" poll)
# burst 4 + about a quarter of the other 196 (binomial: 49 +- 6); 2 s refill adds at most 1.
((rep >= 25 && rep <= 80)) || fail "replies $rep of $N: not burst + 1/4 leak"
((rep + miss == N)) || fail "replies + missing != sent"
((poll == 1)) || fail "poll field $poll, expected max(request 0, interval 1) = 1"

out2=$("$PY" "$FLOOD" "$P" 127.0.0.2 4 2) || fail "flood 2: bad reply ($out2)"
echo "limited, 127.0.0.2: $out2"
(($(field "$out2" replies) == 4)) || fail "a fresh client did not get its burst of 4"

ss=$("$TEMPUSC" -h "$WORK/limited.sock" serverstats) || fail "tempusc serverstats failed"
echo "$ss"
drops=$(sed -nE 's/^NTP packets dropped *: *([0-9]+).*/\1/p' <<<"$ss")
recv=$(sed -nE 's/^NTP packets received *: *([0-9]+).*/\1/p' <<<"$ss")
((drops == miss)) || fail "serverstats drops $drops, flood saw $miss unanswered"
((recv == N + 4)) || fail "serverstats received $recv, sent $((N + 4))"
cl=$("$TEMPUSC" -h "$WORK/limited.sock" clients) || fail "tempusc clients failed"
echo "$cl"
row=$(grep -E '^(localhost|127\.0\.0\.1) ' <<<"$cl" | head -n 1)
read -r _ hits cdrops _ <<<"$row"
((hits == N && cdrops == miss)) || fail "clients row '$row': expected $N hits, $miss drops"

P2=$(port_for 2)
start kod "$P2" "ratelimit interval 1 burst 4 leak 2 kod 0"
out=$("$PY" "$FLOOD" "$P2" 127.0.0.1 $N 2) || fail "flood kod: bad reply ($out)"
echo "kod 0: $out"
rep=$(field "$out" replies)
kod=$(field "$out" kod)
miss=$(field "$out" missing)
((miss == 0)) || fail "kod 0: $miss requests got nothing"
((kod > 0 && rep + kod == N)) || fail "kod 0: replies $rep + KoD $kod != $N"
ss=$("$TEMPUSC" -h "$WORK/kod.sock" serverstats) || fail "tempusc serverstats failed"
drops=$(sed -nE 's/^NTP packets dropped *: *([0-9]+).*/\1/p' <<<"$ss")
((drops == kod)) || fail "kod 0: serverstats drops $drops, KoDs $kod"

P3=$(port_for 4)
start nolog "$P3" "ratelimit interval 1 burst 4 leak 2" "noclientlog"
out=$("$PY" "$FLOOD" "$P3" 127.0.0.1 $N 2) || fail "flood nolog: bad reply ($out)"
echo "noclientlog: $out"
(($(field "$out" replies) == N)) || fail "noclientlog: requests were limited"
echo PASS
