#!/usr/bin/env bash
# Builds the Debian package from a copy of the source tree and installs it into a scratch
# root (scratch-root.sh: an overlayfs over / in private mount and network namespaces,
# entered with chroot), so that nothing of this machine's own root changes. Checks the
# package's files, that apt replaces chrony (Conflicts: time-daemon), the _tempus user and
# directories made by postinst, that the shipped /etc/tempus.conf parses, that the installed
# tempusd -x drops to _tempus and answers tempusc, that remove keeps the conffiles and purge
# removes the user, the directories and the conffiles. Runs lintian on the .deb.
#
# Usage: tests/package/deb.sh            (as root; about 2 minutes, most of it the build)
#   TEMPUS_SRC=dir        source tree (default: this script's checkout)
#   TEMPUS_DEB_KEEP=1     keep the scratch directory (its path is printed)
# Exit: 0 pass, 77 skip (the reason is printed), 1 fail.
set -u

src=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
t0=$(date +%s)

skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*"
    exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root (mount namespace, overlayfs, chroot)"
for tool in dpkg-buildpackage dh dpkg-deb unshare chroot mount; do
    command -v "$tool" >/dev/null || skip "$tool not installed (scripts/deps.sh test installs it)"
done
[ -f "$src/debian/control" ] || fail "no debian/control in $src"

work=$(mktemp -d /tmp/tempus-deb.XXXXXX) || fail "mktemp"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    # The overlay and its tmpfs live only in the unshare'd mount namespace: they are gone
    # once that process has exited, so only plain files remain here.
    if [ "${TEMPUS_DEB_KEEP:-0}" = 1 ]; then
        echo "kept $work"
    else
        rm -rf --one-file-system "$work"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. A copy of the tree: the working tree's tracked and untracked (not ignored) files when it
# is a git checkout, else everything but build products. dpkg-buildpackage writes into
# the tree it builds and into its parent directory, so both are scratch.
mkdir -p "$work/src/tempus"
if [ -n "${TEMPUS_DEB:-}" ]; then
    deb=$TEMPUS_DEB
    t_build=0
    echo "using the prebuilt $deb (TEMPUS_DEB), not building"
else
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z -co --exclude-standard |
            tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
            tar -xf - -C "$work/src/tempus" || fail "copying the tree (git ls-files)"
    else
        tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
            --exclude=./debian/tempus --exclude=./debian/.debhelper --exclude=./debian/tmp \
            -cf - . | tar -xf - -C "$work/src/tempus" || fail "copying the tree (tar)"
    fi

    # A git snapshot of the copy, so that what the build leaves behind can be listed: only
    # git-ignored products (obj-*/, debian/tempus/, ...) may remain.
    snap=0
    if command -v git >/dev/null &&
        git -C "$work/src/tempus" init -q &&
        git -C "$work/src/tempus" add -A &&
        git -C "$work/src/tempus" -c user.name=t -c user.email=t@t commit -q -m snapshot; then
        snap=1
    fi

    # 2. The build, as a user would run it. Missing build dependencies are a failure: the
    # package declares them and scripts/deps.sh installs them.
    echo "building the .deb in $work/src/tempus"
    if ! (cd "$work/src/tempus" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
        tail -40 "$work/build.log"
        fail "dpkg-buildpackage -b -us -uc (log above)"
    fi
    deb=$(ls "$work"/src/tempus_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "no tempus_*.deb built"
    t_build=$(($(date +%s) - t0))
    echo "built $(basename "$deb") in ${t_build}s"
    if [ $snap = 1 ]; then
        left=$(git -C "$work/src/tempus" status --porcelain)
        [ -z "$left" ] || fail "the build leaves files .gitignore does not cover: $left"
        echo "ok: the build leaves only git-ignored files in the tree"
    fi
fi


# The package's version is the project's (meson.build), with Debian revision -N.
ver=$(dpkg-deb -f "$deb" Version) || fail "dpkg-deb -f"
proj=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
[ "${ver%-*}" = "$proj" ] || fail "package version $ver, but meson.build says $proj (debian/changelog)"

# 3. What the package holds (dpkg-deb -c: "./path"). Everything `meson install` installs
# goes into the package (one binary package, dh_auto_install's destdir is debian/tempus).
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents" || fail "dpkg-deb -c"
want=(/usr/sbin/tempusd /usr/bin/tempusc /etc/tempus.conf /etc/default/tempus
    /etc/logrotate.d/tempus /lib/systemd/system/tempusd.service
    /lib/systemd/system/tempus-wait.service /usr/lib/systemd/ntp-units.d/50-tempus.list
    /usr/lib/sysusers.d/tempus.conf /usr/lib/tmpfiles.d/tempus.conf
    /usr/share/doc/tempus/copyright /usr/share/doc/tempus/changelog.Debian.gz)
# Man pages once the tree installs them (man/meson.build hooked into the top meson.build).
if grep -qs "subdir('man')" "$work/src/tempus/meson.build"; then
    want+=(/usr/share/man/man8/tempusd.8.gz /usr/share/man/man1/tempusc.1.gz
        /usr/share/man/man5/tempus.conf.5.gz)
fi
for f in "${want[@]}"; do
    grep -qx "$f" "$work/contents" || fail "package lacks $f"
done
dpkg-deb -e "$deb" "$work/control" || fail "dpkg-deb -e"
for f in /etc/tempus.conf /etc/default/tempus /etc/logrotate.d/tempus; do
    grep -qx "$f" "$work/control/conffiles" || fail "$f is not a conffile"
done
echo "ok: package holds ${#want[@]} expected files; /etc files are conffiles"

# 4. Install, use, remove and purge in a scratch root (scratch-root.sh: an overlay of / in
# private mount and network namespaces). The script below runs inside; each check prints
# what it checked.
mkdir "$work/pkg"
cp "$deb" "$work/pkg/"
echo "${ver%-*}" >"$work/pkg/version"
cat >"$work/inroot.sh" <<'INROOT'
#!/bin/bash
set -u
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "FAIL (in root): $*"; exit 1; }
ok() { echo "ok: $* (${SECONDS}s)"; }
deb=$(ls /tmp/pkg/tempus_*.deb)
ver=$(cat /tmp/pkg/version)

# No service may start: no systemd runs here (/run is empty), and policy-rc.d vetoes.
[ ! -d /run/systemd/system ] || fail "/run/systemd/system exists in the scratch root"
[ -x /usr/sbin/policy-rc.d ] || fail "no policy-rc.d"

# Conflicts: time-daemon, as chrony: dpkg alone refuses while chrony is installed; apt
# replaces it. The root has no network (its own empty network namespace): the dependencies
# are installed on a host that built the package, nothing is downloaded.
if dpkg-query -W -f='${Status}' chrony 2>/dev/null | grep -q 'ok installed'; then
    if dpkg -i "$deb" >/tmp/pkg/dpkg-i.log 2>&1; then
        fail "dpkg -i installed tempus beside chrony (Conflicts: time-daemon ignored)"
    fi
    grep -q 'conflicts with time-daemon\|conflicting packages' /tmp/pkg/dpkg-i.log ||
        { cat /tmp/pkg/dpkg-i.log; fail "dpkg -i failed, but not on the conflict"; }
    dpkg --configure -a >/dev/null 2>&1
    ok "dpkg -i refuses tempus while chrony is installed"
fi
apt-get install -y -q -o Dpkg::Use-Pty=0 "$deb" >/tmp/pkg/apt.log 2>&1 ||
    { tail -30 /tmp/pkg/apt.log; fail "apt-get install ./tempus.deb"; }
dpkg-query -W -f='${Status} ${Version}\n' tempus | grep -q "^install ok installed $ver-" ||
    fail "tempus not installed"
if dpkg-query -W -f='${Status}' chrony 2>/dev/null | grep -q 'ok installed'; then
    fail "chrony still installed beside tempus"
fi
ok "apt-get install ./tempus.deb (replacing any time-daemon)"

pw=$(getent passwd _tempus) || fail "no user _tempus"
IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
[ "$uid" -lt 1000 ] || fail "_tempus uid $uid is not a system uid"
[ "$home" = /var/lib/tempus ] || fail "_tempus home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "_tempus shell is $shell"
[ "$(getent group _tempus | cut -d: -f3)" = "$gid" ] || fail "_tempus's group is not _tempus"
ok "user and group _tempus ($uid:$gid, home $home, shell $shell)"

for d in /var/lib/tempus /var/log/tempus; do
    [ "$(stat -c '%U:%G %a' "$d" 2>/dev/null)" = "_tempus:_tempus 750" ] ||
        fail "$d is '$(stat -c '%U:%G %a' "$d" 2>&1)', want _tempus:_tempus 750"
done
ok "/var/lib/tempus and /var/log/tempus are _tempus:_tempus 0750"
# dh_installtmpfiles's snippet (debhelper 13.11) runs systemd-tmpfiles whenever it is
# installed, after the user exists: then /run/tempus comes from usr/lib/tmpfiles.d.
if command -v systemd-tmpfiles >/dev/null; then
    [ "$(stat -c '%U:%G %a' /run/tempus 2>/dev/null)" = "_tempus:_tempus 750" ] ||
        fail "/run/tempus after install: '$(stat -c '%U:%G %a' /run/tempus 2>&1)'"
    ok "systemd-tmpfiles made /run/tempus _tempus:_tempus 0750 at install"
fi

[ -x /usr/sbin/tempusd ] && [ -x /usr/bin/tempusc ] || fail "binaries not installed"
v=$(/usr/sbin/tempusd -v) || fail "tempusd -v"
[[ $v == "tempusd (tempus) version $ver "* ]] || fail "tempusd -v said: $v"
c=$(/usr/bin/tempusc -v) || fail "tempusc -v"
[[ $c == "tempusc (tempus) version $ver "* ]] || fail "tempusc -v said: $c"
ok "$v"
# The shipped example configuration parses (chronyd -p: print the config and exit).
/usr/sbin/tempusd -p -f /etc/tempus.conf >/tmp/pkg/p.out 2>&1 ||
    { cat /tmp/pkg/p.out; fail "tempusd -p -f /etc/tempus.conf"; }
grep -q '^driftfile /var/lib/tempus/' /tmp/pkg/p.out || fail "shipped config: no driftfile in /var/lib/tempus"
ok "tempusd -p parses the shipped /etc/tempus.conf"

# dh_installsystemd enabled tempusd.service (and its alias) without a running systemd;
# tempus-wait.service is installed but left disabled.
[ -L /etc/systemd/system/multi-user.target.wants/tempusd.service ] ||
    fail "tempusd.service not enabled"
[ "$(readlink /etc/systemd/system/tempus.service)" = /lib/systemd/system/tempusd.service ] ||
    fail "the alias tempus.service (Alias= in [Install]) is not linked"
[ ! -e /etc/systemd/system/multi-user.target.wants/tempus-wait.service ] ||
    fail "tempus-wait.service enabled"
ok "tempusd.service enabled (and its alias tempus.service), tempus-wait.service not"

# The installed tempusd runs with the package's user and directories: started as root with
# -x (no clock control), it drops to _tempus, has its socket in /run/tempus (made by
# tmpfiles above, else by tempusd itself) and answers tempusc over the Unix socket and UDP
# 323 on loopback (the root's own network namespace). -t 30 bounds its life even if this
# script dies; the trap stops it.
ip link set lo up || fail "ip link set lo up"
cat >/tmp/pkg/run.conf <<'CONF'
driftfile /var/lib/tempus/tempus.drift
local stratum 10
CONF
/usr/sbin/tempusd -x -d -t 30 -f /tmp/pkg/run.conf >/tmp/pkg/tempusd.log 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; wait $dpid 2>/dev/null' EXIT
for _ in $(seq 100); do
    [ -S /run/tempus/tempusd.sock ] &&
        [ "$(awk '/^Uid:/ {print $2}' /proc/$dpid/status 2>/dev/null)" = "$uid" ] && break
    sleep 0.1
done
[ "$(awk '/^Uid:/ {print $2}' /proc/$dpid/status 2>/dev/null)" = "$uid" ] ||
    { cat /tmp/pkg/tempusd.log; fail "tempusd does not run as _tempus ($uid)"; }
[ "$(stat -c '%U %a' /run/tempus)" = "_tempus 750" ] || fail "/run/tempus: $(stat -c '%U %a' /run/tempus)"
for h in /run/tempus/tempusd.sock 127.0.0.1; do
    /usr/bin/tempusc -h "$h" tracking >/tmp/pkg/tracking.out 2>&1 ||
        { cat /tmp/pkg/tracking.out /tmp/pkg/tempusd.log; fail "tempusc -h $h tracking"; }
    grep -q '^Stratum *: 10$' /tmp/pkg/tracking.out ||
        { cat /tmp/pkg/tracking.out; fail "tempusc -h $h tracking: not the local stratum 10"; }
done
kill "$dpid"
wait "$dpid" 2>/dev/null
trap - EXIT
ok "tempusd -x runs as _tempus, answers tempusc (socket in /run/tempus, and UDP 323)"

# Reinstalling runs postinst again with the user and directories present.
dpkg -i "$deb" >/tmp/pkg/reinst.log 2>&1 || { cat /tmp/pkg/reinst.log; fail "reinstall"; }
[ "$(getent passwd _tempus | cut -d: -f3)" = "$uid" ] || fail "reinstall changed _tempus"
ok "reinstall keeps _tempus ($uid)"

# What tempusd writes at run time (drift file, statistics log), as _tempus.
setpriv --reuid=_tempus --regid=_tempus --clear-groups \
    sh -c 'echo "1.0 0.1" >/var/lib/tempus/tempus.drift && echo x >/var/log/tempus/measurements.log' ||
    fail "_tempus cannot write its drift file and log"
echo "# local edit" >>/etc/tempus.conf

dpkg -r tempus >/tmp/pkg/remove.log 2>&1 || { cat /tmp/pkg/remove.log; fail "dpkg -r"; }
[ ! -e /usr/sbin/tempusd ] || fail "remove left /usr/sbin/tempusd"
grep -q '# local edit' /etc/tempus.conf || fail "remove did not keep the edited /etc/tempus.conf"
getent passwd _tempus >/dev/null || fail "remove deleted _tempus (only purge should)"
[ -f /var/lib/tempus/tempus.drift ] || fail "remove deleted the drift file (only purge should)"
ok "remove: binaries gone; conffiles, user, drift file kept"

dpkg --purge tempus >/tmp/pkg/purge.log 2>&1 || { cat /tmp/pkg/purge.log; fail "dpkg --purge"; }
for f in /etc/tempus.conf /etc/default/tempus /etc/logrotate.d/tempus /var/lib/tempus \
    /var/log/tempus /etc/systemd/system/multi-user.target.wants/tempusd.service \
    /etc/systemd/system/tempus.service \
    /lib/systemd/system/tempusd.service; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || fail "purge left $f"
done
! getent passwd _tempus >/dev/null || fail "purge left user _tempus"
! getent group _tempus >/dev/null || fail "purge left group _tempus"
dpkg-query -W -f='${Status}' tempus 2>/dev/null | grep -q 'not-installed' ||
    [ -z "$(dpkg-query -W -f='${Status}' tempus 2>/dev/null)" ] || fail "tempus still known to dpkg"
ok "purge: conffiles, /var/lib/tempus, /var/log/tempus, unit links, user and group gone"
INROOT

t1=$(date +%s)
"$(dirname "$0")/scratch-root.sh" "$work/scratch" "$work/pkg" "$work/inroot.sh"
rc=$?
[ $rc -eq 77 ] && skip "cannot make the scratch root (mount namespace + overlayfs over /)"
[ $rc -eq 0 ] || fail "install/remove/purge in the scratch root (see above)"
t_root=$(($(date +%s) - t1))

# 5. lintian, when installed: errors fail, warnings are printed.
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1
    cat "$work/lintian.log"
    if grep -q '^E:' "$work/lintian.log"; then
        fail "lintian errors"
    fi
    echo "ok: lintian: no errors ($(grep -c '^W:' "$work/lintian.log") warnings)"
else
    echo "note: lintian not installed, not run"
fi

echo "PASS: .deb built in ${t_build}s, scratch-root install/remove/purge in ${t_root}s," \
    "total $(($(date +%s) - t0))s"
exit 0
