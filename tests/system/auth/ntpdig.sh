#!/usr/bin/env bash
# ntpsec's ntpdig with a symmetric key against tempusd (`ntpdig -k KEYFILE -a KEYID`): ntpdig
# has no port option, so tempusd -x serves on 127.0.0.1:123 inside a network namespace of
# this test's own with only `lo` (no packet can leave the machine). ntpsec's key file says
# the same keys in its own format (type in lower case, keys over 20 characters are hex):
#   key 1 MD5 (hex) and key 2 SHA1 (ASCII): an answer with stratum 2 and a small offset, and
#   serverstats counts one authenticated request per query;
#   key 3 (tempusd has no such key) and key 1 with another value: no answer (ntpdig exits 1),
#   nothing counted as authenticated.
# ntpdig is fetched by interop/fetch-ntpsec.sh (apt-get download + dpkg -x, never installed)
# and runs as nobody without capabilities. Needs root and ip netns (exit 77 otherwise).
# shellcheck disable=SC2015 # ok() and fail() always succeed: `A && ok .. || fail ..` is an if/else
set -u
BUILD=${TEMPUS_BUILD:?TEMPUS_BUILD not set (run through meson test)}
SRC=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
TEMPUSD=${TEMPUSD_BIN:-$BUILD/tempusd}
TEMPUSC=${TEMPUSC_BIN:-$BUILD/tempusc}
PY=/usr/bin/python3
PYMAXOFF=0.050 # as interop.sh: ntpdig takes its timestamps in the interpreter

# shellcheck source=tests/system/lib/common.sh
. "$SRC/tests/system/lib/common.sh"
need_root_netns
need_exec "$TEMPUSD" "$TEMPUSC" "$PY"
work_dir ntpdig 755
NS=tdig$$
fetch_ntpsec
netns_new "$NS"
mkdir -m 700 "$WORK/s"
printf '1 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n2 SHA1 ASCII:secret-sha1-key\n' \
    >"$WORK/tempus.keys"
# ntpsec's format: "ID type key", the key hex when longer than 20 characters.
printf '%s\n' '1 md5 0102030405060708090a0b0c0d0e0f10' '2 sha1 secret-sha1-key' \
    '3 md5 0102030405060708090a0b0c0d0e0f10' >"$WORK/ntpsec.keys"
printf '%s\n' '1 md5 f102030405060708090a0b0c0d0e0f1f' >"$WORK/wrong.keys"
chmod 644 "$WORK/ntpsec.keys" "$WORK/wrong.keys"
inns "$TEMPUSD" -x -d -u root "local stratum 2" "allow 127.0.0.0/8" "keyfile $WORK/tempus.keys" \
    "pidfile $WORK/tempusd.pid" "cmdport 0" "bindcmdaddress $WORK/s/sock" \
    >"$WORK/tempusd.out" 2>&1 &
for _ in $(seq 1 200); do [ -S "$WORK/s/sock" ] && break; sleep 0.1; done
[ -S "$WORK/s/sock" ] || die "tempusd did not start"

authenticated() {
    inns "$TEMPUSC" -h "$WORK/s/sock" serverstats | sed -n 's/^Authenticated NTP packets *: //p'
}
# dig KEYFILE KEYID: ntpdig -j as nobody without capabilities; its JSON line, exit status kept
dig() {
    unpriv "${NTPSEC_ENV[@]}" "$PY" "$NTPSEC_ROOT/usr/bin/ntpdig" -k "$1" -a "$2" -j -t 2 \
        127.0.0.1 >"$WORK/dig-$2.out" 2>&1
}
field() { "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

for k in 1 2; do
    before=$(authenticated)
    good=0
    for _ in 1 2 3; do # best of 3: the interpreter's own delay shows up as offset
        if dig "$WORK/ntpsec.keys" $k; then
            line=$(grep '^{' "$WORK/dig-$k.out" | tail -n 1)
            off=$(field "$line" offset) st=$(field "$line" stratum)
            echo "ntpdig -a $k: $line"
            if [ "$st" = 2 ] && abs_le "$off" "$PYMAXOFF"; then
                good=1
                break
            fi
        else
            cat "$WORK/dig-$k.out"
        fi
    done
    after=$(authenticated)
    [ $good = 1 ] && ok "ntpdig -k -a $k ($([ $k = 1 ] && echo MD5 || echo SHA1)): stratum 2, offset $off" ||
        fail "ntpdig -a $k: no good authenticated answer"
    [ "$after" -gt "$before" ] && ok "serverstats: authenticated $before -> $after" ||
        fail "serverstats did not count ntpdig's authenticated request ($before -> $after)"
done
# Key 3 is not in tempusd's file; key 1 with another value does not check: no answer.
before=$(authenticated)
dig "$WORK/ntpsec.keys" 3 && fail "key 3 (unknown to tempusd) answered: $(cat "$WORK/dig-3.out")" ||
    ok "ntpdig -a 3 (unknown key): no answer"
dig "$WORK/wrong.keys" 1 && fail "a wrong key 1 answered: $(cat "$WORK/dig-1.out")" ||
    ok "ntpdig -a 1 with another key value: no answer"
[ "$(authenticated)" = "$before" ] || fail "bad MACs counted as authenticated"
[ $FAILS = 0 ] && echo "ntpsec's ntpdig authenticates with tempusd (MD5, SHA1)"
finish
