#!/usr/bin/env bash
# Symmetric peers, tempusd -x and Debian's chronyd -x, each the other's `peer` on loopback
# (127.0.0.1 and 127.0.0.2, one port): only mode 1 packets on each side's own schedule, each
# answering the other's last (chronyd 4.3's basic symmetric mode). Run twice: tempusd with
# `local stratum 5` (chronyd syncs to it, stratum 6) and chronyd with it (tempusd syncs,
# stratum 6). Each must show the other as a reachable peer (`=`, reach 377 / Reach 377 in
# ntpdata with Mode "Symmetric active") with a loopback-sized offset. Interleaved with
# argument `xleave` (both sides `peer ... xleave`): ntpdata shows "Interleaved : Yes" on both.
. "$(dirname "$0")/lib.sh"
TEMPUSC=$BUILD/tempusc
CHRONYC=/usr/bin/chronyc
need "$TEMPUSD" "$TEMPUSC" "$CHRONYD" "$CHRONYC"
P=$(port_for 0)
XL=
[ "${1:-}" = xleave ] && XL=xleave
mkdir -m 700 "$WORK/t"

# Both sides show the other as a peer with reach 377 (and, with xleave, interleaved).
both_reach() {
    "$CHRONYC" -n -h "$WORK/chronyd.sock" ntpdata 127.0.0.1 >"$WORK/c.out" 2>&1 &&
        "$TEMPUSC" -n -h "$WORK/t/sock" ntpdata 127.0.0.2 >"$WORK/t.out" 2>&1 &&
        "$CHRONYC" -n -h "$WORK/chronyd.sock" sources >"$WORK/cs.out" 2>&1 &&
        "$TEMPUSC" -n -h "$WORK/t/sock" sources >"$WORK/ts.out" 2>&1 &&
        grep -Eq '^=. 127.0.0.1 +[0-9]+ +-?[0-9]+ +377 ' "$WORK/cs.out" &&
        grep -Eq '^=. 127.0.0.2 +[0-9]+ +-?[0-9]+ +377 ' "$WORK/ts.out" &&
        { [ -z "$XL" ] || { grep -q '^Interleaved *: Yes' "$WORK/c.out" &&
            grep -q '^Interleaved *: Yes' "$WORK/t.out"; }; }
}

run_pair() { # $1 = who has the local reference: tempusd or chronyd
    local who=$1 tl= cl=
    [ "$who" = tempusd ] && tl="local stratum 5"
    [ "$who" = chronyd ] && cl="local stratum 5"
    start_bg tempusd "$TEMPUSD" -x -d -u root ${tl:+"$tl"} "port $P" "bindaddress 127.0.0.1" \
        "peer 127.0.0.2 port $P minpoll 0 maxpoll 0 $XL" "pidfile $WORK/t/pid" "cmdport 0" \
        "bindcmdaddress $WORK/t/sock"
    cat >"$WORK/chronyd.conf" <<CONF
$cl
port $P
bindaddress 127.0.0.2
peer 127.0.0.1 port $P minpoll 0 maxpoll 0 $XL
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
CONF
    start_bg chronyd "$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf"
    local ok
    poll_until 30 both_reach
    ok=$?
    echo "--- $who local: after $POLLED_S s"
    echo "chronyd: $(tail -n 1 "$WORK/cs.out")"
    echo "tempusd: $(tail -n 1 "$WORK/ts.out")"
    ntp_summary "$WORK/c.out" "chronyd ntpdata"
    ntp_summary "$WORK/t.out" "tempusd ntpdata"
    [ $ok = 0 ] || fail "no reach 377 on both sides (chronyd: $(cat "$WORK/c.out"); tempusd: $(cat "$WORK/t.out"))"
    # and stays there: 9 more polls each, at most one unanswered (packets crossing on the
    # wire would fail test 2 and clear bits; each side polls on its own randomised schedule,
    # so now and then one sends twice between two of the other's)
    sleep 9
    still_reaching "9 s later: chronyd" "$CHRONYC" "$WORK/chronyd.sock" 127.0.0.1 "$WORK/cs.out" ||
        fail "chronyd's reach fell"
    still_reaching "9 s later: tempusd" "$TEMPUSC" "$WORK/t/sock" 127.0.0.2 "$WORK/ts.out" ||
        fail "tempusd's reach fell"
    # One reading of both sides, polled for (up to 20 s) until both last offsets are within
    # 1 ms (one clock on both sides: loopback noise only): one peer packet delayed by a loaded
    # machine can put one sample a millisecond off; the checks below judge that reading.
    both_close() {
        "$CHRONYC" -n -h "$WORK/chronyd.sock" ntpdata 127.0.0.1 >"$WORK/c.out" 2>&1
        "$TEMPUSC" -n -h "$WORK/t/sock" ntpdata 127.0.0.2 >"$WORK/t.out" 2>&1
        abs_le "$(ntp_field "$WORK/c.out" Offset)" 0.001 &&
            abs_le "$(ntp_field "$WORK/t.out" Offset)" 0.001
    }
    both_close || poll_until 20 both_close
    grep -q '^Mode *: Symmetric active' "$WORK/c.out" || fail "chronyd's mode"
    grep -q '^Mode *: Symmetric active' "$WORK/t.out" || fail "tempusd's mode"
    # our peer packets leave on the server socket with a kernel TX stamp each, and every one
    # but the last two counts: the stamp is in the error queue before the peer even has our
    # packet, and tempusd reads that queue before the datagrams of the same wake-up (chronyd
    # may answer within 200 us: read after its answer, the stamp found the exchange closed,
    # 7 of 19 counted in session 6's CI); and a reading that shows it for the last packet (a
    # reading between a send and its stamp shows Daemon until then; seen once at load 23)
    local tx ktx
    tx=$(ntp_field "$WORK/t.out" 'Total TX') ktx=$(ntp_field "$WORK/t.out" 'Total kernel TX')
    echo "tempusd: kernel TX stamps $ktx of $tx"
    [ -n "$ktx" ] && [ "$ktx" -ge $((tx - 2)) ] || fail "tempusd: kernel TX stamps $ktx of $tx"
    kernel_tx() {
        "$TEMPUSC" -n -h "$WORK/t/sock" ntpdata 127.0.0.2 >"$WORK/t2.out" 2>&1 &&
            grep -q '^TX timestamping *: Kernel' "$WORK/t2.out"
    }
    grep -q '^TX timestamping *: Kernel' "$WORK/t.out" || poll_until 10 kernel_tx ||
        fail "tempusd's TX timestamping: $(grep '^TX timestamping' "$WORK/t2.out")"
    # the side without the local reference syncs to the other: `=*` in its sources
    if [ "$who" = tempusd ]; then
        grep -q '^=\* 127.0.0.1' "$WORK/cs.out" || fail "chronyd not synced to tempusd"
        grep -q '^Stratum *: 6' "$WORK/t.out" || fail "chronyd's stratum"
    else
        grep -q '^=\* 127.0.0.2' "$WORK/ts.out" || fail "tempusd not synced to chronyd"
        grep -q '^Stratum *: 5' "$WORK/t.out" || fail "chronyd's stratum"
    fi
    local f off
    for f in c t; do
        off=$(ntp_field "$WORK/$f.out" Offset)
        # the reading polled for above
        abs_le "$off" 0.001 || fail "$f offset $off"
    done
    kill "$PID_tempusd" "$PID_chronyd"
    wait "$PID_tempusd" "$PID_chronyd" 2>/dev/null
}
run_pair tempusd
run_pair chronyd
echo "PASS"
