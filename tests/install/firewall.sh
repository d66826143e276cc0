#!/usr/bin/env bash
# docs/FIREWALL.md's nftables table, loaded for real in a network namespace of this test's own:
#   server namespace: 192.168.111.1/24 towards the "in" namespace (192.168.111.2, the subnet
#   the doc allows) and 192.168.112.1/24 towards the "out" namespace (192.168.112.2);
#   tempusd -x there with `allow` (everyone), `local stratum 10`, the command port bound to
#   0.0.0.0 with `cmdallow` (everyone), so only the firewall can stop anything.
# Before the rules (positive control): NTP answers both clients, tempusc tracking works over
# UDP 323 from "in". After `nft -f` of the doc's block: NTP still answers "in", not "out";
# 323 from "in" is dropped; 323 on the server's loopback still works.
# Needs root, ip netns, nft, /usr/bin/python3 with ntplib; exit 77 otherwise.
set -u
BUILD=${TEMPUS_BUILD:?TEMPUS_BUILD not set (run through meson test)}
SRC=${TEMPUS_SRC:?TEMPUS_SRC not set}
TEMPUSD=${TEMPUSD_BIN:-$BUILD/tempusd}
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}

# shellcheck source=tests/system/lib/common.sh
. "$SRC/tests/system/lib/common.sh"
need_root_netns
command -v nft >/dev/null || skip "nft not installed (package nftables)"
/usr/bin/python3 -c 'import ntplib' 2>/dev/null || skip "no python3-ntplib"
need_exec "$TEMPUSD" "$TEMPUSC"

work_dir fw 700
DIE_GLOBS=("*.log")
TAG=tfw$$
NS_SRV=$TAG-srv NS_IN=$TAG-in NS_OUT=$TAG-out

# The nftables block of the doc, as a reader would copy it.
# shellcheck disable=SC2016 # sed addresses, not shell expansions
sed -n '/^```nft$/,/^```$/p' "$SRC/docs/FIREWALL.md" | sed '1d;$d' >"$WORK/tempus.nft"
grep -q 'udp dport 123' "$WORK/tempus.nft" || die "no nft block in docs/FIREWALL.md"

netns_new "$NS_SRV" "$NS_IN" "$NS_OUT"
ip link add "${TAG}a" netns "$NS_SRV" type veth peer name eth0 netns "$NS_IN"
ip link add "${TAG}b" netns "$NS_SRV" type veth peer name eth0 netns "$NS_OUT"
ip -n "$NS_SRV" addr add 192.168.111.1/24 dev "${TAG}a"
ip -n "$NS_SRV" addr add 192.168.112.1/24 dev "${TAG}b"
ip -n "$NS_IN" addr add 192.168.111.2/24 dev eth0
ip -n "$NS_OUT" addr add 192.168.112.2/24 dev eth0
for l in "$NS_SRV ${TAG}a" "$NS_SRV ${TAG}b" "$NS_IN eth0" "$NS_OUT eth0"; do
    read -r n d <<<"$l"
    ip -n "$n" link set "$d" up
done

cat >"$WORK/tempus.conf" <<CONF
allow
local stratum 10
bindcmdaddress 0.0.0.0
cmdallow
bindcmdaddress $WORK/tempusd.sock
pidfile $WORK/tempusd.pid
CONF
ip netns exec "$NS_SRV" "$TEMPUSD" -x -d -f "$WORK/tempus.conf" >"$WORK/tempusd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ -S "$WORK/tempusd.sock" ] && break; sleep 0.1; done
[ -S "$WORK/tempusd.sock" ] || die "tempusd did not start"

# ntp NS ADDR: prints the stratum of the answer, or "none".
ntp() {
    ip netns exec "$1" /usr/bin/python3 - "$2" <<'PY'
import sys, ntplib
try:
    print(ntplib.NTPClient().request(sys.argv[1], version=4, timeout=2).stratum)
except Exception:
    print("none")
PY
}
# cmd NS HOST: "yes" when tempusc tracking gets an answer over UDP 323, else "no".
cmd() {
    if ip netns exec "$1" "$TEMPUSC" -h "$2" tracking 2>&1 | grep -q '^Reference ID'; then
        echo yes
    else
        echo no
    fi
}
# expect WHAT GOT WANT
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

echo "== without the firewall (positive control)"
expect "NTP answers 192.168.111.2 (stratum 10)" "$(ntp "$NS_IN" 192.168.111.1)" 10
expect "NTP answers 192.168.112.2" "$(ntp "$NS_OUT" 192.168.112.1)" 10
expect "tempusc tracking over 323 from 192.168.111.2" "$(cmd "$NS_IN" 192.168.111.1)" yes

echo "== with docs/FIREWALL.md's nftables table"
if ! ip netns exec "$NS_SRV" nft -f "$WORK/tempus.nft"; then
    fail "nft -f rejects the doc's table"
else
    expect "NTP still answers the allowed subnet" "$(ntp "$NS_IN" 192.168.111.1)" 10
    expect "NTP dropped for 192.168.112.2" "$(ntp "$NS_OUT" 192.168.112.1)" none
    expect "323 dropped from the network" "$(cmd "$NS_IN" 192.168.111.1)" no
    expect "323 still answers on loopback" "$(cmd "$NS_SRV" 127.0.0.1)" yes
fi
all_alive
finish
