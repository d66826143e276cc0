#!/usr/bin/env bash
# fetch-busybox.sh DIR: builds a busybox with the ntpd applet from Debian's own busybox source
# package and prints the binary's path (DIR/busybox). Debian 12's busybox and busybox-static
# are built without ntpd (CONFIG_NTPD is off in debian/config/pkg/*), so the interop test
# (interop.sh) needs this one for "busybox's ntpd query mode gets good time from tempusd".
#   - The source comes from the Debian mirror the machine's apt already uses: a PRIVATE apt
#     configuration under DIR/apt (deb-src lines for the Debian entries of `apt-get
#     indextargets`, its own lists and cache) runs `apt-get update` and `apt-get source
#     --download-only busybox`; the machine's apt configuration and lists are untouched.
#     apt checks the files against the signed Sources index.
#   - dpkg-source -x unpacks it with Debian's patches; the configuration is `make allnoconfig`
#     plus NTPD, FEATURE_IPV6 (the test also queries ::1) and TRUE (a second applet makes it a
#     multi-call binary, so `busybox ntpd ...` works as with a full busybox), with usage text.
#     No NTPD_SERVER, NTPD_CONF, NTP_AUTH.
#   - Only DIR/busybox (and DIR/busybox.config, DIR/VERSION) is kept; sources and lists are
#     removed. A second call prints the cached binary at once. DIR.lock serialises concurrent
#     callers (two build directories sharing DIR).
# Needs dpkg-dev (dpkg-source; brings make, patch, bzip2, xz-utils), gcc, libc6-dev and network
# access to the Debian mirror. Exit 1 (with the reason on stderr) when it cannot be built.
set -eu
dir=${1:?usage: fetch-busybox.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin=$dir/busybox

has_ntpd() { [ -x "$1" ] && "$1" ntpd --help 2>&1 | grep -q -- '-w.*only query peers'; }
if has_ntpd "$bin"; then
    echo "$bin"
    exit 0
fi
exec 9>"$dir.lock"
flock 9
if has_ntpd "$bin"; then # built by a concurrent caller meanwhile
    echo "$bin"
    exit 0
fi
for t in dpkg-source make gcc; do
    command -v "$t" >/dev/null || { echo "fetch-busybox: $t missing (dpkg-dev, gcc)" >&2; exit 1; }
done

t0=$(date +%s)
apt=$dir/apt
rm -rf "$apt" "$dir/src"
mkdir -p "$apt/lists/partial" "$apt/cache" "$apt/none" "$dir/src"
# deb-src lines for the Debian repositories apt already uses (URI, suite, main).
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
opt=
[ -r "$keyring" ] && opt="[signed-by=$keyring] "
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax, not the shell's
apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' |
    awk '$1 ~ /debian/ && $3 == "main"' | sort -u |
    while read -r uri suite comp; do echo "deb-src $opt$uri $suite $comp"; done >"$apt/sources.list"
if [ ! -s "$apt/sources.list" ]; then
    echo "fetch-busybox: no Debian repository in apt's configuration" >&2
    exit 1
fi
A=(-q -o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/none"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache")
apt-get "${A[@]}" update >&2 || { echo "fetch-busybox: apt-get update (deb-src) failed" >&2; exit 1; }
# _apt cannot write into a root-owned directory: apt downloads as root and warns (harmless).
(cd "$dir/src" && apt-get "${A[@]}" source --download-only busybox >&2) ||
    { echo "fetch-busybox: apt-get source busybox failed" >&2; exit 1; }
dsc=$(ls "$dir"/src/busybox_*.dsc)
ver=$(sed -n 's/^Version: //p' "$dsc")
dpkg-source -x "$dsc" "$dir/src/busybox" >&2
t1=$(date +%s)

cd "$dir/src/busybox"
# The environment of a sanitizer build (CFLAGS, LDFLAGS) must not leak into busybox's build.
mk() { env -u CFLAGS -u CPPFLAGS -u LDFLAGS -u MAKEFLAGS -u MFLAGS make "$@" </dev/null; }
mk allnoconfig >"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; exit 1; }
# set SYM y|n: edit .config; `make busybox` then runs silentoldconfig, which resolves the rest.
set_sym() {
    sed -i -e "/^CONFIG_$1=/d" -e "/^# CONFIG_$1 is not set/d" .config
    if [ "$2" = y ]; then echo "CONFIG_$1=y" >>.config; else echo "# CONFIG_$1 is not set" >>.config; fi
}
for s in NTPD FEATURE_IPV6 TRUE BUSYBOX SHOW_USAGE FEATURE_VERBOSE_USAGE SH_IS_NONE; do set_sym "$s" y; done
for s in SH_IS_ASH SH_IS_HUSH SHELL_ASH SHELL_HUSH FEATURE_NTPD_SERVER FEATURE_NTPD_CONF \
    FEATURE_NTP_AUTH; do set_sym "$s" n; done
mk -j2 busybox >>"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log" >&2; exit 1; }
grep -qx 'CONFIG_NTPD=y' .config || { echo "fetch-busybox: CONFIG_NTPD did not stick" >&2; exit 1; }
install -m 755 busybox "$bin.new"
cp .config "$dir/busybox.config"
cd "$dir"
has_ntpd "$bin.new" || { echo "fetch-busybox: the built busybox has no ntpd -w" >&2; exit 1; }
mv "$bin.new" "$bin"
echo "$ver" >"$dir/VERSION"
rm -rf "$apt" "$dir/src"
chmod -R a+rX "$dir"
echo "fetch-busybox: busybox $ver with ntpd: fetch $((t1 - t0)) s, build $(($(date +%s) - t1)) s" >&2
echo "$bin"
