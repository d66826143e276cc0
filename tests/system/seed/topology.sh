#!/usr/bin/env bash
# The seed's topology (/work/shared/seed: one chrony server, clients pointed at it) in network
# namespaces of this test's own, so all traffic stays inside them:
#   - a bridge namespace with a Linux bridge; every other namespace has one veth (eth0) on it;
#   - server 192.168.111.128/24: the seed's server config, its four upstream servers replaced by
#     addresses in the test network where nothing answers (192.168.111.201-204), so
#     `local stratum 10` serves; allow 192.168.111.0/24; files in a temp dir;
#   - clients 192.168.111.11-13/24 with the seed's client line `server 192.168.111.128 iburst`
#     (as written, no polling options: iburst syncs within seconds);
#   - an outsider 192.168.112.5/24 with an on-link route to 192.168.111.0/24 (and the server
#     one back), outside `allow`: the server must not answer it.
# Checked: tempusc (and Debian's chronyc if present) against every client's Unix socket:
# tracking (Reference ID C0A86F80, Stratum 11, Leap status Normal), sources -v (^* reach > 0),
# ntpdata (Remote address 192.168.111.128, Stratum 10, Mode Server); server tracking is LOCAL
# stratum 10; tempusd -Q -x from a client answers and from the outsider does not (while a UDP
# echo in the server namespace does answer it: routing works, `allow` is what stops it); the
# seed's one-shot `tempusd -q -x 'server 192.168.111.128 iburst'` from a client: "(step)" and
# "Could not step system clock", exit 0 (as chronyd -q -x 4.3).
# Every daemon runs with -x and is killed by PID; namespaces are deleted in the trap.
# Needs root and `ip netns` (exit 77 otherwise).
set -u
BUILD=${TEMPUS_BUILD:?TEMPUS_BUILD not set (run through meson test)}
SRC=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
TEMPUSD=${TEMPUSD_BIN:-$BUILD/tempusd}
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}
CHRONYC=/usr/bin/chronyc
SERVER=192.168.111.128

# shellcheck source=tests/system/lib/common.sh
. "$SRC/tests/system/lib/common.sh"
need_root_netns
need_exec "$TEMPUSD" "$TEMPUSC"

work_dir seed 700
TAG=tsd$$
NS_BR=$TAG-br NS_SRV=$TAG-srv NS_OUT=$TAG-out NS_REF=$TAG-ref
NS_CLI=("$TAG-c1" "$TAG-c2" "$TAG-c3")
CLI_ADDR=(192.168.111.11 192.168.111.12 192.168.111.13)
# PIDS: the daemons (checked alive at the end); EXTRA_PIDS: helpers

# --- the network: a bridge namespace, one veth per host namespace.
netns_new "$NS_BR" "$NS_SRV" "$NS_OUT" "$NS_REF" "${NS_CLI[@]}"
bridge_new "$NS_BR"
plug "$NS_BR" "$NS_SRV" $SERVER/24
for k in 0 1 2; do plug "$NS_BR" "${NS_CLI[$k]}" "${CLI_ADDR[$k]}/24"; done
plug "$NS_BR" "$NS_OUT" 192.168.112.5/24
# On-link routes both ways: the outsider can reach the server and the server could answer,
# so its silence is `allow`'s doing, not routing's.
ip -n "$NS_OUT" route add 192.168.111.0/24 dev eth0
ip -n "$NS_SRV" route add 192.168.112.0/24 dev eth0

# --- the server: the seed's config, upstreams replaced by silent test-network addresses.
install -d -m 700 "$WORK/srv/log"
cat >"$WORK/srv.conf" <<CONF
server 192.168.111.201 iburst minpoll 4 maxpoll 6 prefer
server 192.168.111.202 iburst minpoll 4 maxpoll 6
server 192.168.111.203 iburst minpoll 4 maxpoll 6
server 192.168.111.204 iburst minpoll 4 maxpoll 6
driftfile $WORK/srv/drift
makestep 1.0 3
rtcsync
allow 192.168.111.0/24
local stratum 10
logdir $WORK/srv/log
pidfile $WORK/srv/tempusd.pid
bindcmdaddress $WORK/srv/sock/tempusd.sock
CONF
# -x: never the host clock. -d: foreground, so $! (ip netns exec execs) is the daemon.
ip netns exec "$NS_SRV" "$TEMPUSD" -x -d -u root -f "$WORK/srv.conf" >"$WORK/srv.out" 2>&1 &
PIDS+=($!)

# --- the reference: Debian's chronyd -x with the same server config, alone in a namespace
# with only lo (its upstreams unreachable too), to say what the server's own tracking report
# should be.
CHRONYD=/usr/sbin/chronyd
if [ -x "$CHRONYD" ]; then
    install -d -m 700 "$WORK/ref/log" "$WORK/ref/sock"
    sed "s|$WORK/srv/|$WORK/ref/|g; s|tempusd\.|chronyd.|g" "$WORK/srv.conf" >"$WORK/ref.conf"
    ip netns exec "$NS_REF" "$CHRONYD" -x -d -u root -f "$WORK/ref.conf" >"$WORK/ref.out" 2>&1 &
    PIDS+=($!)
fi

# --- the clients: the seed's client line.
for k in 0 1 2; do
    d=$WORK/c$k
    install -d -m 700 "$d"
    cat >"$WORK/c$k.conf" <<CONF
server $SERVER iburst
driftfile $d/drift
makestep 1.0 3
pidfile $d/tempusd.pid
bindcmdaddress $d/sock/tempusd.sock
CONF
    ip netns exec "${NS_CLI[$k]}" "$TEMPUSD" -x -d -u root -f "$WORK/c$k.conf" \
        >"$WORK/c$k.out" 2>&1 &
    PIDS+=($!)
done
T0=$(date +%s.%N)

# --- wait (bounded) until every client has selected the server.
synced=0
for _ in $(seq 1 120); do
    synced=0
    for k in 0 1 2; do
        "$TEMPUSC" -n -h "$WORK/c$k/sock/tempusd.sock" -c sources 2>/dev/null |
            grep -q "^\^,\*,$SERVER," && synced=$((synced + 1))
    done
    [ $synced = 3 ] && break
    sleep 0.5
done
T1=$(date +%s.%N)
[ $synced = 3 ] || die "only $synced of 3 clients selected $SERVER within 60 s"
ok "all 3 clients selected $SERVER after $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s"

# --- the seed's chronyc commands against every client, with tempusc and chronyc.
field() { # field NAME: the value after "NAME :" in $out
    sed -nE "s/^$1 *: (.*)$/\1/p" <<<"$out" | head -1
}
CLIENTS=("$TEMPUSC")
[ -x "$CHRONYC" ] && CLIENTS+=("$CHRONYC")
for c in "${CLIENTS[@]}"; do
    cn=$(basename "$c")
    for k in 0 1 2; do
        who="$cn -> ${CLI_ADDR[$k]}"
        C=("$c" -n -h "$WORK/c$k/sock/tempusd.sock")
        out=$("${C[@]}" tracking 2>&1)
        echo "$out" >"$WORK/$cn-c$k-tracking.txt"
        ref=$(field 'Reference ID') st=$(field Stratum) leap=$(field 'Leap status')
        if [[ $ref == "C0A86F80 ($SERVER)" && $st == 11 && $leap == Normal ]]; then
            ok "$who tracking: $ref, stratum $st, $leap"
        else fail "$who tracking: ref '$ref' stratum '$st' leap '$leap'"; echo "$out"; fi

        out=$("${C[@]}" sources -v 2>&1)
        line=$(grep -E "^\^\* +$SERVER " <<<"$out")
        reach=$(awk '{print $5}' <<<"$line")
        if [ -n "$line" ] && [[ $reach =~ ^[0-7]+$ ]] && [ $((8#$reach)) -gt 0 ] &&
            grep -Eq "Source mode +'\\^' = server" <<<"$out"; then
            ok "$who sources -v: $line"
        else fail "$who sources -v: no '^* $SERVER' with reach > 0"; echo "$out"; fi

        out=$("${C[@]}" ntpdata 2>&1)
        ra=$(field 'Remote address') st=$(field Stratum) mode=$(field Mode)
        if [[ $ra == "$SERVER (C0A86F80)" && $st == 10 && $mode == Server ]]; then
            ok "$who ntpdata: $ra, stratum $st, mode $mode"
        else fail "$who ntpdata: remote '$ra' stratum '$st' mode '$mode'"; echo "$out"; fi
    done
    # The server itself runs on its local reference: the seed's expectation (stratum 10) and,
    # when chronyd is here, the same three fields as chronyd's with the same config (chronyd
    # 4.3 says from its first second: 7F7F0101 (), 10, Normal).
    exp="7F7F0101 ()|10|Normal"
    if [ -x "$CHRONYD" ]; then
        out=$("$c" -n -h "$WORK/ref/sock/chronyd.sock" tracking 2>&1)
        exp="$(field 'Reference ID')|$(field Stratum)|$(field 'Leap status')"
    fi
    out=$("$c" -n -h "$WORK/srv/sock/tempusd.sock" tracking 2>&1)
    got="$(field 'Reference ID')|$(field Stratum)|$(field 'Leap status')"
    if [ "$got" = "$exp" ] && [ "$(field Stratum)" = 10 ]; then
        ok "$cn -> server tracking: $got (chronyd: $exp)"
    else fail "$cn -> server tracking: $got (chronyd with this config: $exp)"; fi
done

# --- one-shot -Q -x: a client namespace is answered, the outsider is not.
ip netns exec "${NS_CLI[0]}" "$TEMPUSD" -Q -x "server $SERVER iburst" >"$WORK/q-client.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -Eq 'System clock wrong by -?[0-9.]+ seconds \(ignored\)' "$WORK/q-client.out"
then ok "-Q -x from ${CLI_ADDR[0]}: $(grep 'System clock wrong' "$WORK/q-client.out")"
else fail "-Q -x from ${CLI_ADDR[0]}: rc $rc"; cat "$WORK/q-client.out"; fi

ip netns exec "$NS_OUT" "$TEMPUSD" -Q -x "server $SERVER iburst" >"$WORK/q-out.out" 2>&1
rc=$?
if [ $rc != 0 ] && ! grep -q 'System clock wrong' "$WORK/q-out.out"; then
    ok "-Q -x from the outsider 192.168.112.5: no answer (rc $rc: $(tail -n 1 "$WORK/q-out.out"))"
else fail "-Q -x from the outsider: rc $rc"; cat "$WORK/q-out.out"; fi

# Positive control: the outsider and the server do reach each other (a UDP echo on another
# port in the server namespace answers it), so the silence above is `allow`'s, not routing's.
PY=/usr/bin/python3
if [ -x "$PY" ]; then
    ip netns exec "$NS_SRV" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.111.128", 4123)); s.settimeout(20)
print("ready", flush=True)
d, a = s.recvfrom(100); s.sendto(d, a)' >"$WORK/echo.out" 2>&1 &
    EPID=$!
    EXTRA_PIDS+=("$EPID")
    for _ in $(seq 1 200); do grep -q ready "$WORK/echo.out" && break; sleep 0.1; done
    reply=$(ip netns exec "$NS_OUT" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
s.sendto(b"ping", ("192.168.111.128", 4123)); print(s.recvfrom(100)[0].decode())' 2>&1)
    if [ "$reply" = ping ]; then ok "outsider <-> server routing works (UDP echo answered)"
    else fail "outsider <-> server UDP echo: '$reply'"; fi
    wait "$EPID" 2>/dev/null
else echo "note: no /usr/bin/python3; routing positive control skipped"; fi

# --- the seed's one-shot form, with -x: chronyd -q -x 4.3 prints the offset with "(step)",
# then "Could not step system clock", and exits 0.
ip netns exec "${NS_CLI[1]}" "$TEMPUSD" -q -x "server $SERVER iburst" >"$WORK/q-step.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -Eq 'System clock wrong by -?[0-9.]+ seconds \(step\)' "$WORK/q-step.out" &&
    grep -q 'Could not step system clock' "$WORK/q-step.out"; then
    ok "-q -x from ${CLI_ADDR[1]}: $(tr '\n' ' ' <"$WORK/q-step.out")"
else fail "-q -x from ${CLI_ADDR[1]}: rc $rc"; cat "$WORK/q-step.out"; fi

# --- the same one-shots with Debian's chronyd (-x: never the clock), for comparison: the
# messages (timestamps and numbers dropped) and exit codes must be the same. Both with -u
# root here: chronyd -q opens a command socket (tempusd -q/-Q do not unless one is configured)
# and would otherwise reject the test directory's owner.
span() { # seconds between the first and the last log line of a one-shot's output
    local a b
    a=$(head -n 1 "$1" | cut -c1-20) b=$(tail -n 1 "$1" | cut -c1-20)
    echo $(($(date -d "$a" +%s) - $(date -d "$b" +%s) < 0 ? $(date -d "$b" +%s) - $(date -d "$a" +%s) : 0))
}
msgs() { # the log lines of a one-shot without timestamps, numbers, the version banner
    sed -E 's/^[0-9TZ:-]+ //; /version .* starting/d; s/-?[0-9]+\.[0-9]+/N/g; s/chronyd|tempusd/D/g' "$1"
}
if [ -x "$CHRONYD" ]; then
    install -d -m 700 "$WORK/cq"
    CQ=("pidfile $WORK/cq/chronyd.pid" "cmdport 0" "bindcmdaddress $WORK/cq/chronyd.sock")
    ip netns exec "${NS_CLI[1]}" "$CHRONYD" -q -x -u root "server $SERVER iburst" "${CQ[@]}" \
        >"$WORK/cq-step.out" 2>&1
    crc=$?
    ip netns exec "${NS_CLI[1]}" "$TEMPUSD" -q -x -u root "server $SERVER iburst" \
        >"$WORK/q-step2.out" 2>&1
    trc=$?
    if [ $crc = $trc ] && [ "$(msgs "$WORK/cq-step.out")" = "$(msgs "$WORK/q-step2.out")" ]; then
        ok "-q -x: tempusd and chronyd agree (rc $trc): $(msgs "$WORK/q-step2.out" | tr '\n' '|')"
        echo "  -q -x took ~$(span "$WORK/q-step2.out") s (tempusd), ~$(span "$WORK/cq-step.out") s (chronyd)"
    else
        fail "-q -x: chronyd rc $crc, tempusd rc $trc"
        diff <(msgs "$WORK/cq-step.out") <(msgs "$WORK/q-step2.out")
    fi
    ip netns exec "$NS_OUT" "$CHRONYD" -Q -x -u root "server $SERVER iburst" "${CQ[@]}" \
        >"$WORK/cq-out.out" 2>&1
    crc=$?
    ip netns exec "$NS_OUT" "$TEMPUSD" -Q -x -u root "server $SERVER iburst" >"$WORK/q-out2.out" 2>&1
    trc=$?
    if [ $crc = "$trc" ] && [ "$(msgs "$WORK/cq-out.out")" = "$(msgs "$WORK/q-out2.out")" ]; then
        ok "-Q -x from the outsider: tempusd and chronyd agree (rc $trc): $(msgs "$WORK/q-out2.out" | tr '\n' '|')"
        echo "  giving up took ~$(span "$WORK/q-out2.out") s (tempusd), ~$(span "$WORK/cq-out.out") s (chronyd)"
    else
        fail "-Q -x from the outsider: chronyd rc $crc, tempusd rc $trc"
        diff <(msgs "$WORK/cq-out.out") <(msgs "$WORK/q-out2.out")
    fi
else echo "note: no $CHRONYD; one-shot comparison skipped"; fi

all_alive # none crashed during the checks
finish
