#!/usr/bin/env bash
# Checks packaging/rpm/tempus.spec with Debian's rpm: the spec parses (rpmspec -P), its
# version is the project's, rpmbuild -bb builds it from a tarball of the tree (the spec's
# fallback macros stand in for Fedora's %meson and systemd macros), the .rpm holds what
# `meson install` installs, and it installs into a scratch root (scratch-root.sh): %pre
# creates _tempus, the directories belong to it, tempusd runs; rpm -e removes the files and
# keeps an edited config as .rpmsave.
# Not tested here: Fedora's own macros (%meson, %systemd_post ...) and dependency
# resolution by dnf; build-dependencies are not checked (--nodeps: Debian's rpm database is
# empty).
#
# Usage: tests/package/rpm.sh            (as root; about 1-2 minutes, most of it the build)
#   TEMPUS_SRC=dir   source tree (default: this script's checkout)
# Exit: 0 pass, 77 skip (the reason is printed), 1 fail.
set -u

src=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$(cd "$(dirname "$0")" && pwd)
spec=$src/packaging/rpm/tempus.spec
t0=$(date +%s)

skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*"
    exit 1
}

for tool in rpmspec rpmbuild rpm; do
    command -v "$tool" >/dev/null || skip "$tool not installed (Debian package rpm; scripts/deps.sh test)"
done
[ -f "$spec" ] || fail "no $spec"

work=$(mktemp -d /tmp/tempus-rpm.XXXXXX) || fail "mktemp"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1. The spec parses, and says the project's version.
rpmspec -P "$spec" >"$work/parsed" 2>"$work/parse.err" || { cat "$work/parse.err"; fail "rpmspec -P"; }
ver=$(rpmspec -q --srpm --qf '%{version}' "$spec" 2>/dev/null) || fail "rpmspec -q"
proj=$(sed -n "s/^ *version *: *'\\([^']*\\)'.*/\\1/p" "$src/meson.build" | head -1)
[ "$ver" = "$proj" ] || fail "spec Version $ver, but meson.build says $proj"
echo "ok: rpmspec -P parses the spec; Version $ver is the project's"
# The systemd macros come from the systemd package before EL9, from systemd-rpm-macros after.
rpmspec -q --buildrequires --define 'rhel 8' "$spec" 2>/dev/null | grep -qx systemd ||
    fail "EL8: BuildRequires systemd missing"
rpmspec -q --buildrequires --define 'fedora 39' "$spec" 2>/dev/null | grep -qx systemd-rpm-macros ||
    fail "Fedora: BuildRequires systemd-rpm-macros missing"
echo "ok: BuildRequires for EL8 (systemd) and Fedora (systemd-rpm-macros)"

# 2. A source tarball of the tree (tracked and untracked files of a git checkout, else all
# but build products) and the build.
mkdir -p "$work/top/SOURCES"
tarball=$work/top/SOURCES/tempus-$ver.tar.gz
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -z -co --exclude-standard |
        tar --null --ignore-failed-read -T - --transform "s,^,tempus-$ver/," -czf "$tarball" \
            2>/dev/null)
else
    tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
        --exclude=./debian/tempus --exclude=./debian/.debhelper \
        --transform "s,^\\.,tempus-$ver," -czf "$tarball" .
fi
[ -s "$tarball" ] || fail "no source tarball"
if ! rpmbuild -bb --nodeps --define "_topdir $work/top" "$spec" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log"
    fail "rpmbuild -bb (log above)"
fi
rpmfile=$(ls "$work"/top/RPMS/*/tempus-"$ver"-*.rpm 2>/dev/null | head -1)
[ -n "$rpmfile" ] || fail "no .rpm built"
t_build=$(($(date +%s) - t0))
echo "ok: rpmbuild -bb built $(basename "$rpmfile") in ${t_build}s"

# 3. Contents: what meson install installs, with the state directories owned by _tempus.
rpm -qplv "$rpmfile" >"$work/contents" 2>/dev/null || fail "rpm -qplv"
want=(/usr/sbin/tempusd /usr/bin/tempusc /etc/tempus.conf /etc/default/tempus
    /etc/logrotate.d/tempus /usr/lib/systemd/system/tempusd.service
    /usr/lib/systemd/system/tempus-wait.service /usr/lib/systemd/ntp-units.d/50-tempus.list
    /usr/lib/sysusers.d/tempus.conf /usr/lib/tmpfiles.d/tempus.conf
    /usr/share/man/man8/tempusd.8 /usr/share/man/man1/tempusc.1 /usr/share/man/man5/tempus.conf.5)
for f in "${want[@]}"; do
    awk '{print $NF}' "$work/contents" | grep -qx "$f" || fail "rpm lacks $f"
done
for d in /var/lib/tempus /var/log/tempus; do
    grep -Eq "^drwxr-x--- +[0-9]+ +_tempus +_tempus .* $d\$" "$work/contents" ||
        fail "$d is not a _tempus 0750 directory in the rpm"
done
rpm -qp --configfiles "$rpmfile" 2>/dev/null | sort >"$work/conf"
printf '%s\n' /etc/default/tempus /etc/logrotate.d/tempus /etc/tempus.conf | cmp -s - "$work/conf" ||
    fail "config files are: $(tr '\n' ' ' <"$work/conf")"
echo "ok: the rpm holds ${#want[@]} expected files, _tempus 0750 state dirs, 3 config files"

# 4. Install and erase in a scratch root.
mkdir "$work/pkg"
cp "$rpmfile" "$work/pkg/tempus.rpm"
echo "$ver" >"$work/pkg/version"
cat >"$work/inroot.sh" <<'INROOT'
#!/bin/bash
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() { echo "FAIL (in root): $*"; exit 1; }
ok() { echo "ok: $* (${SECONDS}s)"; }
ver=$(cat /tmp/pkg/version)
force=
rpm --help 2>&1 | grep -q -- --force-debian && force=--force-debian
# The libraries are Debian's, unknown to rpm's empty database: --nodeps.
rpm -i --nodeps $force /tmp/pkg/tempus.rpm >/tmp/pkg/install.log 2>&1 ||
    { cat /tmp/pkg/install.log; fail "rpm -i"; }
rpm -q tempus | grep -q "^tempus-$ver-" || fail "rpm -q tempus"
pw=$(getent passwd _tempus) || fail "%pre did not create _tempus"
IFS=: read -r _ _ uid gid _ home _ <<<"$pw"
[ "$home" = /var/lib/tempus ] || fail "_tempus home is $home"
[ "$(getent group _tempus | cut -d: -f3)" = "$gid" ] || fail "_tempus's group"
ok "rpm -i: %pre created _tempus ($uid:$gid, home $home)"
for d in /var/lib/tempus /var/log/tempus; do
    [ "$(stat -c '%U:%G %a' "$d")" = "_tempus:_tempus 750" ] || fail "$d: $(stat -c '%U:%G %a' "$d")"
done
ok "/var/lib/tempus and /var/log/tempus are _tempus:_tempus 0750"
v=$(/usr/sbin/tempusd -v) || fail "tempusd -v"
[[ $v == "tempusd (tempus) version $ver "* ]] || fail "tempusd -v said: $v"
/usr/sbin/tempusd -p -f /etc/tempus.conf >/dev/null 2>&1 || fail "tempusd -p -f /etc/tempus.conf"
ok "$v; the shipped config parses"
echo "# local edit" >>/etc/tempus.conf
rpm -e --nodeps $force tempus >/tmp/pkg/erase.log 2>&1 || { cat /tmp/pkg/erase.log; fail "rpm -e"; }
for f in /usr/sbin/tempusd /usr/bin/tempusc /usr/lib/systemd/system/tempusd.service \
    /etc/default/tempus /etc/tempus.conf; do
    [ ! -e "$f" ] || fail "rpm -e left $f"
done
grep -q '# local edit' /etc/tempus.conf.rpmsave || fail "the edited config was not saved as .rpmsave"
ok "rpm -e: files gone, edited /etc/tempus.conf kept as /etc/tempus.conf.rpmsave"
INROOT
t1=$(date +%s)
"$here/scratch-root.sh" "$work/scratch" "$work/pkg" "$work/inroot.sh"
rc=$?
[ $rc -eq 77 ] && skip "cannot make the scratch root (mount namespace + overlayfs over /)"
[ $rc -eq 0 ] || fail "install/erase in the scratch root (see above)"

echo "PASS: rpm built in ${t_build}s, scratch-root install/erase in $(($(date +%s) - t1))s," \
    "total $(($(date +%s) - t0))s"
exit 0
