#!/usr/bin/env bash
# fetch-ntpsec.sh DIR: puts ntpsec's ntpdig and ntpdate shim under DIR/root without installing
# them: ntpsec-ntpdate's package brings network hooks (if-up.d, dhclient, NetworkManager) that
# set the clock when a link comes up, which this machine must never do. So the packages are
# fetched with `apt-get download` and unpacked with `dpkg -x`; nothing under / changes.
# Needs Debian's package lists (runs `apt-get update` if the download fails). Idempotent.
# Prints DIR/root on success; exit 1 when the packages cannot be fetched.
set -eu
dir=${1:?usage: fetch-ntpsec.sh DIR}
root=$dir/root
pydir=$root/usr/lib/python3/dist-packages
if [ -x "$root/usr/bin/ntpdig" ] && [ -f "$pydir/ntp/libntpc.so" ]; then
    echo "$root"
    exit 0
fi
mkdir -p "$dir/debs"
# _apt cannot write into a root-owned build directory: download as root (apt warns, harmless).
# Without package lists (a machine where deps.sh found nothing missing and so never ran
# `apt-get update`), update them once and retry.
dl() { (cd "$dir/debs" && apt-get download -q ntpsec-ntpdate ntpsec-ntpdig python3-ntp >&2); }
dl || { apt-get update -qq >&2 && dl; }
for deb in "$dir"/debs/*.deb; do dpkg -x "$deb" "$root"; done
# ntp.ntpc looks for libntpc.so next to its own module first: the unpacked copy, so the
# system's /usr/lib/.../ntp (absent) is never needed.
for lib in "$root"/usr/lib/*/ntp/libntpc.so.*.*; do
    cp "$lib" "$pydir/ntp/libntpc.so"
    break
done
[ -x "$root/usr/bin/ntpdig" ] && [ -x "$root/usr/sbin/ntpdate" ]
echo "$root"
