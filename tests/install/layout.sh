#!/usr/bin/env bash
# `meson install` layout (docs/design/install.md): a fresh build configured with
# --prefix=/usr --sysconfdir=/etc, installed with --destdir into a scratch directory, must
# hold exactly the expected files, with the paths substituted in the units; the installed
# example config must parse (tempusd -p); systemd-sysusers and systemd-tmpfiles applied to the
# scratch root create the user and the directories; systemd-analyze verify (with --root, the
# host's units copied beside ours for the targets they name) must print nothing.
# Run once from scripts/check.sh (it configures and builds a tree of its own, ~1-2 minutes).
# Usage: tests/install/layout.sh [SRCDIR]. Exit 0 pass, 1 fail, 77 skip (meson missing).
set -u
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
command -v meson >/dev/null || { echo "SKIP: meson not installed"; exit 77; }
tmp=$(mktemp -d /tmp/tempus-layout.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== configure and build in $tmp/build"
if ! meson setup "$tmp/build" "$src" --prefix=/usr --sysconfdir=/etc -Dtests=false \
        >"$tmp/setup.log" 2>&1; then
    cat "$tmp/setup.log"; echo "FAIL: meson setup"; exit 1
fi
# Only the installed programs are built (the simulator and bench tools are not installed).
if ! meson compile -C "$tmp/build" tempusd tempusc >"$tmp/compile.log" 2>&1; then
    tail -n 40 "$tmp/compile.log"; echo "FAIL: meson compile"; exit 1
fi
if ! meson install -C "$tmp/build" --no-rebuild --destdir "$tmp/dest" >"$tmp/install.log" 2>&1; then
    tail -n 40 "$tmp/install.log"; echo "FAIL: meson install"; exit 1
fi
dest=$tmp/dest

expected="/etc/default/tempus
/etc/logrotate.d/tempus
/etc/tempus.conf
/usr/bin/tempusc
/usr/lib/systemd/ntp-units.d/50-tempus.list
/usr/lib/systemd/system/tempus-wait.service
/usr/lib/systemd/system/tempusd.service
/usr/lib/sysusers.d/tempus.conf
/usr/lib/tmpfiles.d/tempus.conf
/usr/sbin/tempusd
/usr/share/man/man1/tempusc.1
/usr/share/man/man5/tempus.conf.5
/usr/share/man/man8/tempusd.8"
actual=$(cd "$dest" && find . -type f -o -type l | sed 's|^\.||' | LC_ALL=C sort)
if [ "$actual" != "$expected" ]; then
    fail "installed files differ from the expected list:"
    diff <(echo "$expected") <(echo "$actual")
else
    echo "ok: $(echo "$actual" | wc -l) files where they belong"
fi

for f in /usr/sbin/tempusd /usr/bin/tempusc; do
    [ -x "$dest$f" ] || fail "$f is not executable"
done
for f in /etc/tempus.conf /usr/lib/systemd/system/tempusd.service /usr/share/man/man8/tempusd.8; do
    [ "$(stat -c %a "$dest$f" 2>/dev/null)" = 644 ] || fail "$f is not mode 0644"
done
if grep -rl '@[A-Z]*@' "$dest/usr/lib/systemd" "$dest/etc" 2>/dev/null; then
    fail "unsubstituted @VARIABLE@ left in the files above"
fi
# shellcheck disable=SC2016 # $DAEMON_OPTS is literal text of the unit
grep -qx 'ExecStart=!/usr/sbin/tempusd -n $DAEMON_OPTS' "$dest/usr/lib/systemd/system/tempusd.service" ||
    fail "tempusd.service: ExecStart is not !/usr/sbin/tempusd -n \$DAEMON_OPTS"
grep -qx 'ExecStart=/usr/bin/tempusc -h 127.0.0.1,::1 waitsync 0 0.1 0.0 1' \
    "$dest/usr/lib/systemd/system/tempus-wait.service" || fail "tempus-wait.service: ExecStart"
grep -q '/usr/bin/tempusc cyclelogs' "$dest/etc/logrotate.d/tempus" || fail "logrotate: tempusc path"
grep -qx 'tempusd.service' "$dest/usr/lib/systemd/ntp-units.d/50-tempus.list" ||
    fail "ntp-units.d entry does not name tempusd.service"
unit=$dest/usr/lib/systemd/system/tempusd.service
for line in Type=notify Before=time-sync.target Wants=time-sync.target User=_tempus \
        ProtectSystem=strict 'ReadWritePaths=/var/lib/tempus /var/log/tempus /run/tempus'; do
    grep -qx "$line" "$unit" || fail "tempusd.service lacks '$line'"
done
for u in chronyd.service chrony.service ntp.service ntpsec.service systemd-timesyncd.service; do
    grep -q "^Conflicts=.*\b$u\b" "$unit" || fail "tempusd.service does not conflict with $u"
done
grep -q '^RequiredBy=time-sync.target' "$dest/usr/lib/systemd/system/tempus-wait.service" ||
    fail "tempus-wait.service is not RequiredBy=time-sync.target"
if grep -q '^ProtectClock' "$dest/usr/lib/systemd/system/tempusd.service"; then
    fail "tempusd.service has ProtectClock=, which forbids clock control"
fi

# The installed example configuration parses, and sets what the Debian-like example promises.
if out=$("$dest/usr/sbin/tempusd" -p -f "$dest/etc/tempus.conf" 2>&1); then
    for line in 'driftfile /var/lib/tempus/tempus.drift' 'makestep 1 3' 'rtcsync' 'logdir /var/log/tempus'; do
        grep -qx "$line" <<<"$out" || fail "tempusd -p of the example lacks '$line'"
    done
else
    fail "tempusd -p rejects the installed /etc/tempus.conf: $out"
fi

# sysusers.d and tmpfiles.d applied to the scratch root (never to this machine's /).
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    mkdir -p "$dest/run" "$dest/var/lib" "$dest/var/log"
    if systemd-sysusers --root="$dest" "$dest/usr/lib/sysusers.d/tempus.conf" >"$tmp/sysusers.log" 2>&1 &&
            grep -q '^_tempus:' "$dest/etc/passwd"; then
        echo "ok: systemd-sysusers creates _tempus: $(grep '^_tempus:' "$dest/etc/passwd")"
    else
        fail "systemd-sysusers --root: $(cat "$tmp/sysusers.log")"
    fi
    if systemd-tmpfiles --create --root="$dest" "$dest/usr/lib/tmpfiles.d/tempus.conf" \
            >"$tmp/tmpfiles.log" 2>&1; then
        uid=$(awk -F: '$1 == "_tempus" {print $3}' "$dest/etc/passwd")
        for d in /run/tempus /var/lib/tempus /var/log/tempus; do
            got=$(stat -c '%a %u' "$dest$d" 2>/dev/null)
            want="750 $uid"
            [ "$(id -u)" -eq 0 ] || want="750 $(id -u)" # only root can chown
            [ "$got" = "$want" ] || fail "$d: mode/owner '$got', want '$want'"
        done
        echo "ok: systemd-tmpfiles creates /run/tempus /var/lib/tempus /var/log/tempus 0750 _tempus"
    else
        fail "systemd-tmpfiles --create --root: $(cat "$tmp/tmpfiles.log")"
    fi
else
    echo "note: systemd-sysusers/systemd-tmpfiles not installed: sysusers.d/tmpfiles.d not applied"
fi

# systemd-analyze verify works without a running systemd. --root makes it find
# /usr/sbin/tempusd in the scratch root; the targets and units our units name come from the
# host's unit directory, copied beside ours. --man=no: the man pages are checked by
# manpages.py. It exits 0 even on unknown keys, so any output is a failure.
verified=0
if command -v systemd-analyze >/dev/null && [ -d /usr/lib/systemd/system ]; then
    cp -an /usr/lib/systemd/system/. "$dest/usr/lib/systemd/system/" 2>/dev/null
    out=$(systemd-analyze verify --man=no --root="$dest" /usr/lib/systemd/system/tempusd.service \
        /usr/lib/systemd/system/tempus-wait.service 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ -n "$out" ]; then
        fail "systemd-analyze verify (rc $rc): $out"
    else
        echo "ok: systemd-analyze verify prints nothing for tempusd.service and tempus-wait.service"
        verified=1
    fi
else
    echo "note: systemd-analyze not installed (package systemd): units not verified"
fi

# -Dsystemd=false leaves out the units, sysusers.d, tmpfiles.d and ntp-units.d files (what
# would be installed, from meson's introspection: no build needed).
if meson setup "$tmp/nosd" "$src" --prefix=/usr --sysconfdir=/etc -Dtests=false -Dsystemd=false \
        >"$tmp/nosd.log" 2>&1; then
    nosd=$(meson introspect "$tmp/nosd" --installed |
        python3 -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin).values())))')
    want=$(grep -v -e systemd -e sysusers -e tmpfiles <<<"$expected")
    if [ "$nosd" = "$want" ]; then
        echo "ok: -Dsystemd=false installs $(echo "$nosd" | wc -l) files, no systemd ones"
    else
        fail "-Dsystemd=false installs:"
        diff <(echo "$want") <(echo "$nosd")
    fi
else
    fail "meson setup -Dsystemd=false: $(tail -5 "$tmp/nosd.log")"
fi

if [ $fails -gt 0 ]; then
    echo "$fails failures"
    exit 1
fi
if [ $verified -eq 0 ]; then
    echo "SKIP: layout checked, but the units could not be verified without systemd-analyze"
    exit 77
fi
echo PASS
