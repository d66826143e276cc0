#!/usr/bin/env bash
# Installs what building (and, with "test", testing) tempus needs on Debian 12.
# Usage: scripts/deps.sh [build|test]
# Installs only what is missing, so a second run costs nothing.
set -eu
mode=${1:-build}

# What tempusd and tempusc need to build.
build_pkgs=(meson ninja-build gcc pkg-config libcap-dev libedit-dev libseccomp-dev)
# What the tests need on top: unit tests, sanitizer and fuzz builds, format check, and the
# real peers of the system tests (chrony, python3-ntplib, busybox), util-linux's unshare and
# setpriv (already on every Debian), valgrind for the instruction benchmarks.
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev clang-format binutils python3 iproute2
           chrony python3-ntplib busybox valgrind procps
           openssh-server ansible-core)  # tests/deploy/fleet.sh: sshd per netns host, playbook
test_pkgs+=(groff-base man-db systemd nftables)  # tests/install: man pages, units (systemd-analyze), docs/FIREWALL.md (nft)
test_pkgs+=(debhelper dpkg-dev lintian rpm)  # tests/package: deb.sh builds, installs and lints the .deb; rpm.sh checks packaging/rpm/tempus.spec
test_pkgs+=(cppcheck clang-tidy strace)  # check-static.sh; interop's strace watch that busybox ntpd makes no clock call
test_pkgs+=(tzdata)  # leapsectz: core_tzif and daemon_cli read /usr/share/zoneinfo/right/UTC

pkgs=("${build_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# A time daemon package must not start its service: it would steer this machine's clock.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
