#!/usr/bin/env bash
# Symmetric-key NTP authentication (keyfile, `key N`) against Debian's chronyd 4.3, all on
# loopback, every daemon with -x:
#  1. the NTP server side, differential: the same MAC'd requests (MD5, SHA1, SHA256, SHA384,
#     SHA512 in NTPv4 and NTPv3, whole and truncated digests, unknown key, wrong key, bad
#     digest, crypto-NAK) to chronyd and to tempusd get the same answer: a reply exactly as
#     long as the request with a MAC that checks, or nothing;
#  2. tempusd as a client of chronyd with keys: MD5/SHA1 sources authenticated in NTPv4,
#     SHA256/SHA512 sources in NTPv3 (chrony's default for digests over 20 octets); a key
#     chronyd holds with another value gets no reply; a server that answers without a MAC
#     fails test 5 and is never selected; a missing key sends nothing (Total TX 0) and is
#     logged as chronyd logs it; authdata shows the keys as chronyc does;
#  3. chronyd as a client of tempusd with keys: `chronyc ntpdata` shows Authenticated Yes;
#     a wrong key gets nothing; tempusd's serverstats counts the authenticated requests;
#  3b. authselectmode (mix, the default) counts run-time sources: an unauthenticated server
#     added with `add server` gives the authenticated sources require + trust (selectdata's
#     EOpts --TR-) in chronyd and tempusd alike; deleting it takes them away again;
#  4. `tempusc rekey` after the key file changed: the old key value no longer works, the new
#     one does.
. "$(dirname "$0")/../daemon/lib.sh"
CHRONYC=/usr/bin/chronyc
TEMPUSC=$BUILD/tempusc
AUTHPY=$SRC/tests/system/auth/ntpauth.py
need "$TEMPUSD" "$CHRONYD" "$CHRONYC" "$TEMPUSC" "$PY"
PC=$(port_for 0) # chronyd's NTP port
PT=$(port_for 1) # tempusd's NTP port
PF=$(port_for 2) # a server that answers without a MAC

cat >"$WORK/tempus.keys" <<'KEYS'
# test keys (chrony's format)
1 MD5 HEX:0102030405060708090A0B0C0D0E0F10
2 SHA1 ASCII:secret-sha1-key
3 SHA256 HEX:00112233445566778899aabbccddeeff0011223344556677
4 SHA512 plain-sha512-key
5 SHA384 HEX:a1a2a3a4a5a6a7a8a9aaabacadaeafb0
9 MD5 HEX:99999999999999999999999999999999
KEYS
# chronyd's copy holds key 9 with another value: requests and replies with it never check.
sed 's/^9 MD5 .*/9 MD5 HEX:66666666666666666666666666666666/' "$WORK/tempus.keys" \
    >"$WORK/chronyd.keys"

cat >"$WORK/chronyd.conf" <<CONF
local stratum 2
port $PC
allow 127.0.0.0/8
cmdport 0
bindcmdaddress $WORK/chronyd.sock
pidfile $WORK/chronyd.pid
driftfile $WORK/chronyd.drift
keyfile $WORK/chronyd.keys
CONF
start_bg chronyd "$CHRONYD" -x -d -u root -f "$WORK/chronyd.conf"
start_bg fake "$PY" "$NTPSERVER" "$PF" --addr 127.0.0.6 --stratum 1
wait_for "$WORK/chronyd.out" 'Disabled control of system clock' 5 || fail "chronyd did not start"

cat >"$WORK/tempusd.conf" <<CONF
server 127.0.0.1 port $PC key 1 minpoll -2 maxpoll -2 iburst
server 127.0.0.2 port $PC key 3 minpoll -2 maxpoll -2 iburst
server 127.0.0.3 port $PC key 4 minpoll -2 maxpoll -2 iburst
server 127.0.0.4 port $PC key 2 minpoll -2 maxpoll -2 iburst
server 127.0.0.5 port $PC key 9 minpoll -2 maxpoll -2 iburst
server 127.0.0.6 port $PF key 1 minpoll -2 maxpoll -2 iburst
server 127.0.0.7 port $PC key 77 minpoll -2 maxpoll -2 iburst
keyfile $WORK/tempus.keys
port $PT
allow 127.0.0.0/8
pidfile $WORK/tempusd.pid
bindcmdaddress $WORK/tempusd.sock
cmdport 0
CONF
start_bg tempusd "$TEMPUSD" -x -d -u root -f "$WORK/tempusd.conf"
wait_for "$WORK/tempusd.out" 'Loaded 6 symmetric keys' 10 || fail "tempusd did not load its keys"
grep -q 'Key 77 is missing' "$WORK/tempusd.out" || fail "no 'Key 77 is missing' warning"

# 1. The server side, differential: chronyd and tempusd answer the same probes the same way.
#    Each server is probed with the other's key file, so key 9 is a wrong key for both.
CASES=(md5-v4:4:1:md5:16:reply sha1-v4:4:2:sha1:20:reply sha256-v4:4:3:sha256:20:reply
    sha256-v4-whole:4:3:sha256:32:none sha256-v3:3:3:sha256:32:reply
    sha256-v3-truncated:3:3:sha256:20:none sha384-v3:3:5:sha384:48:reply
    sha384-v4:4:5:sha384:20:reply sha512-v3:3:4:sha512:64:reply sha512-v4:4:4:sha512:20:reply
    md5-v3:3:1:md5:16:reply unknown-key-42:4:42:md5:16:none wrong-key-9:4:9:md5:16:none
    bad-digest:4:1:bad:16:none crypto-nak:4:0:nak:0:none)
echo "== chronyd 4.3 (port $PC)"
"$PY" "$AUTHPY" "$PC" "$WORK/tempus.keys" "${CASES[@]}" || fail "chronyd does not behave as expected: the probe's expectations are wrong"
# tempusd answers once it is synchronised (unsynchronised replies carry a MAC too, but the
# probe does not care); wait for the selection so that its log is quiet.
wait_for "$WORK/tempusd.out" 'Selected source 127\.0\.0\.[1-4]' 20 || fail "no source selected"
echo "== tempusd (port $PT)"
"$PY" "$AUTHPY" "$PT" "$WORK/chronyd.keys" "${CASES[@]}" || fail "tempusd answers differently from chronyd"

# 2. tempusd as an authenticating client.
ntpdata() { "$TEMPUSC" -h "$WORK/tempusd.sock" ntpdata "$1"; }
field() { sed -n "s/^$2 *: //p" <<<"$1"; }
ok=0
for _ in $(seq 1 60); do
    ok=1
    for a in 1 2 3 4; do
        nd=$(ntpdata 127.0.0.$a)
        [ "$(field "$nd" Authenticated)" = Yes ] || ok=0
        [[ $(field "$nd" 'NTP tests') =~ ^111\ 111 ]] || ok=0
    done
    nd6=$(ntpdata 127.0.0.6)
    [ "$(field "$nd6" 'Total RX')" -ge 3 ] 2>/dev/null || ok=0
    [ $ok = 1 ] && break
    sleep 0.5
done
for a in 1 2 3 4 5 6 7; do
    echo "-- tempusc ntpdata 127.0.0.$a"
    ntpdata 127.0.0.$a | grep -E 'Version|NTP tests|Authenticated|Total'
done
[ $ok = 1 ] || fail "authenticated sources not all passing (see above)"
want_version() { [ "$(field "$(ntpdata "$1")" Version)" = "$2" ] || fail "$1: version is not $2"; }
want_version 127.0.0.1 4 # MD5
want_version 127.0.0.4 4 # SHA1
want_version 127.0.0.2 3 # SHA256: chronyd's default for digests longer than 20 octets
want_version 127.0.0.3 3 # SHA512
nd=$(ntpdata 127.0.0.5)  # chronyd holds key 9 with another value: drops our requests
[ "$(field "$nd" 'Total TX')" -ge 3 ] && [ "$(field "$nd" 'Total RX')" = 0 ] ||
    fail "wrong key 9: requests not sent or answered"
nd=$(ntpdata 127.0.0.6) # answers without a MAC: test 5 fails, nothing valid
[[ $(field "$nd" 'NTP tests') =~ ^111\ 0 ]] || fail "reply without MAC passed test 5"
[ "$(field "$nd" 'Total valid RX')" = 0 ] || fail "reply without MAC counted valid"
[ "$(field "$nd" Authenticated)" = No ] || fail "reply without MAC authenticated"
nd=$(ntpdata 127.0.0.7) # missing key: nothing sent (chronyd: Total TX 0)
[ "$(field "$nd" 'Total TX')" = 0 ] || fail "a source with a missing key sent requests"
"$TEMPUSC" -h "$WORK/tempusd.sock" -n sources >"$WORK/sources.txt"
cat "$WORK/sources.txt"
grep -Eq '^\^[*+-] 127\.0\.0\.[5-7] ' "$WORK/sources.txt" && fail "an unauthenticated source is selectable"
grep -Eq '^\^\* 127\.0\.0\.[1-4] ' "$WORK/sources.txt" || fail "no authenticated source selected"
"$TEMPUSC" -h "$WORK/tempusd.sock" -n authdata >"$WORK/authdata.txt"
cat "$WORK/authdata.txt"
# chronyc's columns: Mode KeyID Type(hash id: MD5 1, SHA1 2, SHA256 3, SHA512 5) KLen(bits)
for row in '127.0.0.1 SK 1 1 128' '127.0.0.2 SK 3 3 192' '127.0.0.3 SK 4 5 128' \
    '127.0.0.4 SK 2 2 120' '127.0.0.7 SK 77 0 0'; do
    set -- $row
    grep -Eq "^$1 +$2 +$3 +$4 +$5 +- +0 +0 +0 +0$" "$WORK/authdata.txt" || fail "authdata row $row"
done

# 3. chronyd as a client of tempusd.
cat >"$WORK/client.conf" <<CONF
server 127.0.0.1 port $PT key 1 minpoll -2 maxpoll -2 iburst
server 127.0.0.2 port $PT key 4 minpoll -2 maxpoll -2 iburst
server 127.0.0.3 port $PT key 9 minpoll -2 maxpoll -2 iburst
server 127.0.0.7 port $PT key 77 minpoll -2 maxpoll -2 iburst
port 0
cmdport 0
bindcmdaddress $WORK/client.sock
pidfile $WORK/client.pid
keyfile $WORK/chronyd.keys
CONF
start_bg client "$CHRONYD" -x -d -u root -f "$WORK/client.conf"
cnd() { "$CHRONYC" -h "$WORK/client.sock" ntpdata "$1"; }
ok=0
for _ in $(seq 1 60); do
    n1=$(cnd 127.0.0.1) n2=$(cnd 127.0.0.2)
    if [ "$(field "$n1" Authenticated)" = Yes ] && [ "$(field "$n2" Authenticated)" = Yes ] &&
        [ "$(field "$n1" 'Total valid RX')" -ge 3 ] 2>/dev/null; then
        ok=1
        break
    fi
    sleep 0.5
done
for a in 1 2 3; do
    echo "-- chronyc ntpdata 127.0.0.$a (chronyd client of tempusd)"
    cnd 127.0.0.$a | grep -E 'Version|NTP tests|Authenticated|Total'
done
[ $ok = 1 ] || fail "chronyd does not authenticate tempusd's replies"
[ "$(field "$(cnd 127.0.0.2)" Version)" = 3 ] || fail "chronyd did not use NTPv3 for SHA512"
n3=$(cnd 127.0.0.3)
[ "$(field "$n3" 'Total RX')" = 0 ] || fail "tempusd answered a wrong key"
"$CHRONYC" -h "$WORK/client.sock" -n sources | tee "$WORK/csources.txt"
# A missing key (77, minpoll -2): nothing is sent and the poll stays at 0 (1 s, the floor of
# a source not yet proven close) in both daemons' sources (tempusd showed -2 before).
poll_of() { awk -v a="$2" '$2 == a { print $4 }' "$1"; }
cp=$(poll_of "$WORK/csources.txt" 127.0.0.7)
"$TEMPUSC" -h "$WORK/tempusd.sock" -n sources >"$WORK/sources.txt"
tp=$(poll_of "$WORK/sources.txt" 127.0.0.7)
echo "missing key 77, poll: chronyd $cp, tempusd $tp"
[ "$cp" = 0 ] && [ "$tp" = "$cp" ] || fail "missing-key source poll: chronyd $cp, tempusd $tp"
ss=$("$TEMPUSC" -h "$WORK/tempusd.sock" serverstats)
echo "$ss"
auth=$(field "$ss" 'Authenticated NTP packets')
[ "${auth:-0}" -ge 10 ] || fail "serverstats: $auth authenticated packets"

# 3b. authselectmode mix over a run-time source, chronyd (client of tempusd) and tempusd
#     (client of chronyd) side by side: 127.0.0.1 is authenticated in both.
eopts() { awk -v a="$2" '$2 == a { print $3 " " $5 }' "$1"; }
sel() { # sel NAME: both daemons' selectdata into $WORK/sel-{c,t}-NAME.txt
    "$CHRONYC" -h "$WORK/client.sock" -n selectdata >"$WORK/sel-c-$1.txt"
    "$TEMPUSC" -h "$WORK/tempusd.sock" -n selectdata >"$WORK/sel-t-$1.txt"
}
sel before
"$CHRONYC" -h "$WORK/client.sock" add server 127.0.0.8 port "$PT" minpoll -2 maxpoll -2 >/dev/null
"$TEMPUSC" -h "$WORK/tempusd.sock" add server 127.0.0.8 port "$PC" minpoll -2 maxpoll -2 >/dev/null
# sel_is NAME yes|no: one reading of both (sel NAME) lists 127.0.0.8 (or neither does) and
# shows the same options for 127.0.0.1: polled for up to 30 s (a fixed sleep before), the
# checks below judge that reading.
sel_is() {
    local c8 t8
    sel "$1"
    c8=$(eopts "$WORK/sel-c-$1.txt" 127.0.0.8) t8=$(eopts "$WORK/sel-t-$1.txt" 127.0.0.8)
    if [ "$2" = yes ]; then [ -n "$c8" ] && [ -n "$t8" ] || return 1; else [ -z "$c8$t8" ] || return 1; fi
    [ "$(eopts "$WORK/sel-c-$1.txt" 127.0.0.1)" = "$(eopts "$WORK/sel-t-$1.txt" 127.0.0.1)" ]
}
poll_until 30 sel_is added yes
"$CHRONYC" -h "$WORK/client.sock" delete 127.0.0.8 >/dev/null
"$TEMPUSC" -h "$WORK/tempusd.sock" delete 127.0.0.8 >/dev/null
poll_until 30 sel_is deleted no
for s in before added deleted; do
    c=$(eopts "$WORK/sel-c-$s.txt" 127.0.0.1) t=$(eopts "$WORK/sel-t-$s.txt" 127.0.0.1)
    echo "authselectmode mix, $s the run-time source: 127.0.0.1 Auth/EOpts chronyd '$c', tempusd '$t'"
    [ "$c" = "$t" ] || fail "selectdata differs $s the run-time source: chronyd '$c', tempusd '$t'"
done
[ "$(eopts "$WORK/sel-t-added.txt" 127.0.0.1)" = "Y --TR-" ] || fail "mix did not add require+trust"
[ "$(eopts "$WORK/sel-t-added.txt" 127.0.0.8)" = "N -----" ] || fail "run-time source's options"
[ "$(eopts "$WORK/sel-t-deleted.txt" 127.0.0.1)" = "Y -----" ] || fail "mix not undone by delete"

# 4. rekey: key 1 gets a new value in tempusd's file.
sed -i 's/^1 MD5 .*/1 MD5 HEX:F102030405060708090A0B0C0D0E0F1F/' "$WORK/tempus.keys"
"$TEMPUSC" -h "$WORK/tempusd.sock" rekey | grep -q '^200 OK' || fail "rekey refused"
wait_for "$WORK/tempusd.out" 'Loaded 6 symmetric keys.*' 1
echo "== after rekey"
"$PY" "$AUTHPY" "$PT" "$WORK/chronyd.keys" old-key-1:4:1:md5:16:none || fail "old key 1 still accepted"
"$PY" "$AUTHPY" "$PT" "$WORK/tempus.keys" new-key-1:4:1:md5:16:reply sha1:4:2:sha1:20:reply ||
    fail "new key 1 not accepted after rekey"
# The client side follows too: chronyd (old key 1) stops authenticating 127.0.0.1.
rx1=$(field "$(ntpdata 127.0.0.1)" 'Total valid RX')
sleep 2
rx2=$(field "$(ntpdata 127.0.0.1)" 'Total valid RX')
[ "$rx1" = "$rx2" ] || fail "tempusd still takes replies MAC'd with the old key 1 ($rx1 -> $rx2)"
echo "PASS: keyfile, key option, MACs and rekey interoperate with chronyd 4.3"
