#!/bin/bash
# Runs a script as root inside a scratch root: an overlayfs whose lower layer is this
# machine's / and whose upper layer is a tmpfs, in a private mount namespace (every mount
# vanishes with this process: nothing of the real root changes) and an empty network
# namespace (nothing inside reaches any network). No systemd runs inside (/run is empty)
# and policy-rc.d refuses every service start.
#
# Usage: scratch-root.sh WORKDIR PKGDIR SCRIPT
#   The files of PKGDIR and SCRIPT are copied to /tmp/pkg inside; SCRIPT runs there with bash.
#   WORKDIR (empty, on a real filesystem) holds the mount points; after the run,
#   WORKDIR/logs is a copy of /tmp/pkg inside (the packages and the logs SCRIPT wrote).
# Exit: SCRIPT's status; 77 when the scratch root cannot be made (no overlayfs, no
# namespaces: a container without CAP_SYS_ADMIN), before SCRIPT runs.
set -u
[ $# -eq 3 ] || { echo "usage: $0 WORKDIR PKGDIR SCRIPT" >&2; exit 2; }
if [ "${TEMPUS_SCRATCH_INNER:-}" != 1 ]; then
    unshare -m -n --propagation private true 2>/dev/null || {
        echo "scratch-root: no mount/network namespaces here (unshare -m -n)" >&2
        exit 77
    }
    TEMPUS_SCRATCH_INNER=1 exec unshare -m -n --propagation private bash "$0" "$@"
    exit 77
fi
w=$1 pkgdir=$2 script=$3
r=$w/root
setup() {
    mkdir -p "$w/ovl" "$r" &&
        mount -t tmpfs -o size=512m tempus-scratch "$w/ovl" &&
        mkdir "$w/ovl/upper" "$w/ovl/work" &&
        mount -t overlay overlay -o "lowerdir=/,upperdir=$w/ovl/upper,workdir=$w/ovl/work" "$r" &&
        mount -t proc proc "$r/proc" &&
        mount --rbind /dev "$r/dev" &&
        mount -t tmpfs tmpfs "$r/run" &&
        mount -t tmpfs tmpfs "$r/tmp" &&
        mkdir "$r/tmp/pkg" &&
        cp -r "$pkgdir"/. "$r/tmp/pkg/" &&
        cp "$script" "$r/tmp/pkg/inroot.sh" &&
        printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d" &&
        chmod 755 "$r/usr/sbin/policy-rc.d" &&
        # man-db's trigger re-indexes every man page on each dpkg run: slow, not under test.
        rm -f "$r/var/lib/man-db/auto-update"
}
if ! setup; then
    echo "scratch-root: cannot make the overlay root in $w" >&2
    exit 77
fi
chroot "$r" /bin/bash /tmp/pkg/inroot.sh
rc=$?
cp -r "$r/tmp/pkg" "$w/logs" 2>/dev/null
exit $rc
