#!/usr/bin/env bash
# The fleet rollout, for real: deploy/ansible/site.yml run by ansible-playbook over SSH against
# four test hosts, each in network namespaces of this test's own, with its own filesystem.
#   - a "lab" namespace with a bridge; a controller namespace (192.168.111.2) runs
#     ansible-playbook; hosts srv 192.168.111.10 (tempus_servers: local stratum 10, no
#     upstreams, allow 192.168.111.0/24) and c1..c3 192.168.111.11-13 (tempus_clients);
#   - every host: a private mount and UTS namespace, an overlayfs of / (upper on a tmpfs of
#     its own, so nothing it writes reaches this machine), fresh /proc, /run, /tmp, and an
#     sshd chrooted into that view, with its own host key, on the host's address only: key
#     login for root, no passwords;
#   - the controller uses a key generated here and a known_hosts file built from the hosts'
#     generated public keys (StrictHostKeyChecking=yes).
# Checked: sshd refuses an unknown host key and a password; run 1 of site.yml succeeds on
# every host (binary install from the build dir, tempusd -x started without systemd, waitsync);
# every client's tempusd tracks the server (Reference ID C0A86F0A, stratum 11, leap Normal,
# sources ^* reach > 0) and the server serves its local clock (7F7F0101, stratum 10);
# deploy/fleet-status.sh says so; run 2 changes nothing (PLAY RECAP changed=0 everywhere, same
# PIDs); with c3's tempusd stopped, fleet-status.sh and check.yml report one line per host and
# fail c3 only; run 3 (srv, c1, c3) with c1's server options changed restarts c1 by PID (the
# handler), starts c3 again, leaves the server alone; this machine's /etc/tempus.conf,
# /usr/local/{s,}bin and users are untouched. Prints wall and CPU time.
# Usage: tests/deploy/fleet.sh [BUILD_DIR]   (default $TEMPUS_BUILD, else build-check)
# FLEET_CHECK_MODE=1 first runs site.yml --check --diff on the new hosts (no change made).
# Exit 0 pass, 77 skip (not root, no netns/overlayfs/sshd/ansible), 1 fail.
set -u
SRC=${TEMPUS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${1:-${TEMPUS_BUILD:-$SRC/build-check}}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "SKIP: no build dir $BUILD"; exit 77; }
ANSIBLE_DIR=$SRC/deploy/ansible
SERVER=192.168.111.10
SERVER_HEX=C0A86F0A
CTL_ADDR=192.168.111.2
NAMES=(srv c1 c2 c3)
ADDRS=("$SERVER" 192.168.111.11 192.168.111.12 192.168.111.13)
T_START=$(date +%s)

# shellcheck source=tests/system/lib/common.sh
. "$SRC/tests/system/lib/common.sh"
need_root_netns
for t in unshare chroot ssh ssh-keygen ansible-playbook; do
    command -v "$t" >/dev/null || skip "$t not installed (scripts/deps.sh test)"
done
[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd not installed (openssh-server)"
[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 missing (the hosts' Ansible interpreter)"
for f in tempusd tempusc; do [ -x "$BUILD/$f" ] || skip "$BUILD/$f not built"; done

# Every process in this test's namespaces was started by it (the sshds, their sessions, the
# tempusd daemons Ansible started, the controller's ssh masters): the exit trap stops them by
# PID, 3 s each at most.
work_dir fleet 700
STOP_TENTHS=30
DIE_GLOBS=("*.log" "h-*/sshd.log")
DIE_TAIL=30
TAG=tfl$$
NS_LAB=$TAG-lab NS_CTL=$TAG-ctl
HOST_NS=()
for n in "${NAMES[@]}"; do HOST_NS+=("$TAG-$n"); done
SSHD_PIDS=()

# This machine's files the role would write on a host: they must not change here.
real_state() {
    local f
    for f in /etc/tempus.conf /etc/default/tempus /usr/local/sbin/tempusd /usr/local/bin/tempusc; do
        if [ -e "$f" ]; then echo "$f $(md5sum <"$f")"; else echo "$f absent"; fi
    done
    getent passwd _tempus || echo "_tempus absent"
}
REAL_BEFORE=$(real_state)

# Overlayfs on a tmpfs must work here (a container may forbid it).
if ! unshare -m --propagation private sh -c "mount -t tmpfs none '$WORK' && mkdir '$WORK/u' '$WORK/w' '$WORK/m' &&
    mount -t overlay overlay -o lowerdir=/,upperdir='$WORK/u',workdir='$WORK/w' '$WORK/m'" 2>"$WORK/ovl.err"; then
    skip "cannot mount an overlayfs of / here: $(cat "$WORK/ovl.err")"
fi

# --- the network
netns_new "$NS_LAB" "$NS_CTL" "${HOST_NS[@]}"
bridge_new "$NS_LAB"
plug "$NS_LAB" "$NS_CTL" "$CTL_ADDR/24"
for k in "${!NAMES[@]}"; do plug "$NS_LAB" "${HOST_NS[$k]}" "${ADDRS[$k]}/24"; done

# --- the binaries the role installs: a copy, so that a rebuild of $BUILD while the test runs
# (a 20-30 min test) does not make run 2 or 3 install a new tempusd and restart it.
mkdir -m 700 "$WORK/bin" || die "mkdir $WORK/bin"
cp "$BUILD/tempusd" "$BUILD/tempusc" "$WORK/bin/" || die "copy the binaries"

# --- keys: the controller's login key, one host key per host, known_hosts from those.
ssh-keygen -q -t ed25519 -N '' -C fleet-controller -f "$WORK/id_ed25519" || die "ssh-keygen"
: >"$WORK/known_hosts"
for k in "${!NAMES[@]}"; do
    h=$WORK/h-${NAMES[$k]}
    mkdir -p "$h"
    ssh-keygen -q -t ed25519 -N '' -C "fleet-${NAMES[$k]}" -f "$h/ssh_host_ed25519_key" || die "ssh-keygen"
    echo "${ADDRS[$k]} $(cut -d' ' -f1,2 "$h/ssh_host_ed25519_key.pub")" >>"$WORK/known_hosts"
    cat >"$h/sshd_config" <<CONF
ListenAddress ${ADDRS[$k]}
Port 22
HostKey /etc/ssh/fleet/ssh_host_ed25519_key
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 100
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
CONF
done

# The host's root: runs as `ip netns exec NS unshare -m -u --propagation private`, so every
# mount below exists only in this host's view and goes away with its last process.
cat >"$WORK/host-init.sh" <<'SH'
set -eu
h=$1 name=$2 work=$3
hostname "fleet-$name"
mount -t tmpfs -o mode=0700,size=1g "fleet-$name" "$h/fs"
mkdir "$h/fs/upper" "$h/fs/work" "$h/fs/root"
r=$h/fs/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$h/fs/upper,workdir=$h/fs/work" "$r"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=0755 run "$r/run"
mount -t tmpfs -o mode=1777 tmp "$r/tmp"
# (/tmp above also hides this test's work dir, with the controller's key, from the host.)
mkdir -m 0755 "$r/run/sshd"
mkdir -p -m 0700 "$r/etc/ssh/fleet" "$r/root/.ssh"
cp "$h/ssh_host_ed25519_key" "$h/ssh_host_ed25519_key.pub" "$h/sshd_config" "$r/etc/ssh/fleet/"
chmod 600 "$r/etc/ssh/fleet/ssh_host_ed25519_key"
cp "$work/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
chmod 600 "$r/root/.ssh/authorized_keys"
echo "fleet-$name" >"$r/etc/hostname"
# Without PAM, sshd refuses a locked ("!") root account even for keys: this host's root has
# no password at all ("*").
sed -i 's/^root:[^:]*:/root:*:/' "$r/etc/shadow"
exec chroot "$r" /usr/sbin/sshd -D -e -f /etc/ssh/fleet/sshd_config
SH
for k in "${!NAMES[@]}"; do
    h=$WORK/h-${NAMES[$k]}
    mkdir -p "$h/fs"
    # unshare without -f and sh's exec: $! is the sshd itself.
    ip netns exec "${HOST_NS[$k]}" unshare -m -u --propagation private \
        sh "$WORK/host-init.sh" "$h" "${NAMES[$k]}" "$WORK" >"$h/sshd.log" 2>&1 &
    SSHD_PIDS+=($!)
done
for k in "${!NAMES[@]}"; do
    h=$WORK/h-${NAMES[$k]}
    for _ in $(seq 1 100); do grep -q 'Server listening' "$h/sshd.log" && break; sleep 0.1; done
    grep -q 'Server listening' "$h/sshd.log" || die "sshd of ${NAMES[$k]} did not start"
done
ok "4 hosts up, an sshd each, after $(($(date +%s) - T_START)) s"

# --- SSH as the controller uses it, and what it must refuse.
SSH_OPTS=(-F /dev/null -o BatchMode=yes -o ConnectTimeout=5 -o IdentitiesOnly=yes
          -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes)
ctl() { ip netns exec "$NS_CTL" "$@"; }
out=$(ctl ssh "${SSH_OPTS[@]}" -o UserKnownHostsFile="$WORK/known_hosts" -i "$WORK/id_ed25519" \
    root@"${ADDRS[1]}" 'hostname; cat /etc/hostname' 2>&1)
if [ "$out" = "$(printf 'fleet-c1\nfleet-c1')" ]; then ok "key login to ${ADDRS[1]}: $(head -1 <<<"$out")"
else die "key login to ${ADDRS[1]}: $out"; fi
: >"$WORK/empty_known_hosts"
if out=$(ctl ssh "${SSH_OPTS[@]}" -o UserKnownHostsFile="$WORK/empty_known_hosts" \
    -i "$WORK/id_ed25519" root@"${ADDRS[1]}" true 2>&1); then
    fail "an unknown host key was accepted"
elif grep -q 'Host key verification failed' <<<"$out"; then ok "unknown host key refused"
else fail "unknown host key: unexpected error: $out"; fi
if out=$(ctl ssh "${SSH_OPTS[@]}" -o UserKnownHostsFile="$WORK/known_hosts" \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
    root@"${ADDRS[1]}" true 2>&1); then
    fail "login without the key succeeded"
elif grep -q 'Permission denied (publickey)' <<<"$out"; then ok "password login refused (publickey only)"
else fail "password login: unexpected error: $out"; fi

# --- Ansible: its own config, home and control sockets under the work dir.
mkdir -p "$WORK/ansible-home/tmp" "$WORK/cp"
cat >"$WORK/ansible.cfg" <<CONF
[defaults]
roles_path = $ANSIBLE_DIR/roles
forks = 10
host_key_checking = True
interpreter_python = /usr/bin/python3
nocolor = True
local_tmp = $WORK/ansible-home/tmp
[ssh_connection]
pipelining = True
control_path_dir = $WORK/cp
ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes -o GlobalKnownHostsFile=/dev/null -o UserKnownHostsFile=$WORK/known_hosts -o StrictHostKeyChecking=yes -o PasswordAuthentication=no
CONF
cat >"$WORK/inventory.ini" <<INV
[tempus_servers]
srv ansible_host=$SERVER

[tempus_clients]
c1 ansible_host=${ADDRS[1]}
c2 ansible_host=${ADDRS[2]}
c3 ansible_host=${ADDRS[3]}

[tempus_servers:vars]
tempus_role=server
tempus_upstream_servers=[]
tempus_allow=["192.168.111.0/24"]
tempus_local_stratum=10

[tempus_clients:vars]
tempus_role=client
tempus_server_for_clients=$SERVER

[all:vars]
ansible_user=root
ansible_ssh_private_key_file=$WORK/id_ed25519
ansible_python_interpreter=/usr/bin/python3
tempus_install_method=binary
tempus_binary_dir=$WORK/bin
tempus_extra_options=-x
# The hosts share this machine's PID 1: whatever it is, they have no systemd of their own.
tempus_service_manager=none
INV
ctl_cpu() { # ctl_cpu: CTL_CPU = CPU seconds used by this script's reaped children so far
    # (`times` in this shell: in a $(...) subshell it would report the subshell's children)
    times >"$WORK/times.txt"
    CTL_CPU=$(awk 'NR == 2 {
        n = split($0, a, /[ ms]+/); s = 0
        for (i = 1; i + 1 <= n; i += 2) if (a[i] != "") s += a[i] * 60 + a[i + 1]
        printf "%.1f", s }' "$WORK/times.txt")
}
playbook() { # playbook LOGNAME ARGS...: run ansible-playbook from the controller namespace
    local log=$WORK/$1.log rc t0 c0
    shift
    ctl_cpu
    t0=$(date +%s.%N) c0=$CTL_CPU
    ctl env ANSIBLE_CONFIG="$WORK/ansible.cfg" ANSIBLE_HOME="$WORK/ansible-home" \
        LC_ALL=C.UTF-8 ANSIBLE_FORCE_COLOR=0 \
        ansible-playbook -i "$WORK/inventory.ini" "$@" 2>&1 |
        while IFS= read -r l; do printf '%(%T)T %s\n' -1 "$l"; done >"$log"
    rc=${PIPESTATUS[0]}
    ctl_cpu
    PB_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v c0="$c0" -v c1="$CTL_CPU" \
        'BEGIN{printf "%.1f s, controller CPU %.1f s", b-a, c1-c0}')
    return "$rc"
}
recap() { # recap LOG HOST FIELD: that field of HOST's PLAY RECAP line
    sed -nE "s/^[0-9:]+ $2 +: .*[ ]$3=([0-9]+).*/\1/p" "$1" | tail -1
}
tempusd_pid() { # tempusd_pid K: the PID in host K's PID file (read through its sshd's root)
    cat "/proc/${SSHD_PIDS[$1]}/root/run/tempus/tempusd.pid" 2>/dev/null
}
check_recap() { # check_recap LOG [K...]: hosts K (default all) reached, none failed; sets CHANGED[k]
    local k n log=$1
    shift
    [ $# -gt 0 ] || set -- "${!NAMES[@]}"
    for k in "$@"; do
        n=${NAMES[$k]}
        CHANGED[k]=$(recap "$log" "$n" changed)
        if [ -z "${CHANGED[k]}" ]; then fail "$log: no PLAY RECAP line for $n"; continue; fi
        if [ "$(recap "$log" "$n" unreachable)" != 0 ] || [ "$(recap "$log" "$n" failed)" != 0 ]; then
            fail "$log: $n unreachable or failed: $(grep -E "^[0-9:]+ $n +:" "$log")"
        fi
    done
}
CHANGED=()

# --- optional (FLEET_CHECK_MODE=1): check mode on the new hosts reports changes, makes none.
if [ "${FLEET_CHECK_MODE:-0}" = 1 ]; then
    if playbook check0 "$ANSIBLE_DIR/site.yml" --check --diff; then
        ok "site.yml --check --diff on new hosts: rc 0 in $PB_SECS"
    else fail "site.yml --check --diff failed"; tail -n 30 "$WORK/check0.log"; fi
    check_recap "$WORK/check0.log"
    for k in "${!NAMES[@]}"; do
        r=/proc/${SSHD_PIDS[$k]}/root
        [ "${CHANGED[k]:-0}" -gt 0 ] || fail "check mode reported no change on ${NAMES[$k]}"
        if [ -e "$r/etc/tempus.conf" ] || [ -e "$r/usr/local/sbin/tempusd" ] || [ -n "$(tempusd_pid "$k")" ]; then
            fail "check mode changed ${NAMES[$k]}"
        fi
    done
    grep -q '^[0-9:]* +server 192.168.111.10 iburst' "$WORK/check0.log" ||
        fail "check mode: no config diff for the clients"
fi

# --- run 1: the rollout
if playbook run1 "$ANSIBLE_DIR/site.yml"; then ok "site.yml run 1: rc 0 in $PB_SECS"
else die "site.yml run 1 failed (rc $?)"; fi
check_recap "$WORK/run1.log"
for k in "${!NAMES[@]}"; do
    [ "${CHANGED[k]:-0}" -gt 0 ] || fail "run 1 changed nothing on ${NAMES[$k]}"
done
ok "run 1 recap: $(grep -E '^[0-9:]+ (srv|c[0-9]) +:' "$WORK/run1.log" | awk '{print $2 ":" $5}' | tr '\n' ' ')"

# --- every host's tempusd as this test sees it: the build's tempusc in the host's network
# namespace, over UDP to 127.0.0.1:323 (its Unix socket is in the host's own /run).
field() { sed -nE "s/^$1 *: (.*)$/\1/p" <<<"$out" | head -1; }
PIDS1=()
for k in "${!NAMES[@]}"; do
    n=${NAMES[$k]}
    PIDS1[k]=$(tempusd_pid "$k")
    if [ -z "${PIDS1[k]}" ] || ! kill -0 "${PIDS1[k]}" 2>/dev/null; then
        fail "$n: no running tempusd (PID file: '${PIDS1[k]}')"; continue
    fi
    args=$(tr '\0' ' ' <"/proc/${PIDS1[k]}/cmdline")
    [[ $args == *" -x "* ]] || fail "$n: tempusd runs without -x: $args"
    [ "$(readlink "/proc/${PIDS1[k]}/ns/net")" = "$(readlink "/proc/${SSHD_PIDS[$k]}/ns/net")" ] ||
        fail "$n: tempusd is not in the host's network namespace"
    out=$(ip netns exec "${HOST_NS[$k]}" "$BUILD/tempusc" -n -h 127.0.0.1 tracking 2>&1)
    ref=$(field 'Reference ID') st=$(field Stratum) leap=$(field 'Leap status')
    if [ "$n" = srv ]; then
        if [[ $ref == "7F7F0101 ()" && $st == 10 && $leap == Normal ]]; then
            ok "$n (PID ${PIDS1[k]}: $args) tracking: local, stratum $st, $leap"
        else fail "$n tracking: ref '$ref' stratum '$st' leap '$leap'"; echo "$out"; fi
        continue
    fi
    if [[ $ref == "$SERVER_HEX ($SERVER)" && $st == 11 && $leap == Normal ]]; then
        ok "$n (PID ${PIDS1[k]}) tracking: $ref, stratum $st, $leap"
    else fail "$n tracking: ref '$ref' stratum '$st' leap '$leap'"; echo "$out"; fi
    out=$(ip netns exec "${HOST_NS[$k]}" "$BUILD/tempusc" -n -h 127.0.0.1 sources 2>&1)
    line=$(grep -E "^\^\* +$SERVER " <<<"$out")
    reach=$(awk '{print $5}' <<<"$line")
    if [ -n "$line" ] && [[ $reach =~ ^[0-7]+$ ]] && [ $((8#$reach)) -gt 0 ]; then
        ok "$n sources: $line"
    else fail "$n sources: no '^* $SERVER' with reach > 0"; echo "$out"; fi
    # The config Ansible wrote, in the host's own /etc.
    conf=/proc/${SSHD_PIDS[$k]}/root/etc/tempus.conf
    grep -qx "server $SERVER iburst" "$conf" || fail "$n: no 'server $SERVER iburst' in its /etc/tempus.conf"
    grep -qx 'DAEMON_OPTS="-x"' "/proc/${SSHD_PIDS[$k]}/root/etc/default/tempus" ||
        fail "$n: no DAEMON_OPTS=\"-x\" in its /etc/default/tempus"
done
conf=/proc/${SSHD_PIDS[0]}/root/etc/tempus.conf
if grep -qx 'allow 192.168.111.0/24' "$conf" && grep -qx 'local stratum 10' "$conf" &&
    ! grep -q '^server' "$conf"; then ok "srv /etc/tempus.conf: allow 192.168.111.0/24, local stratum 10, no upstreams"
else fail "srv /etc/tempus.conf:"; cat "$conf"; fi

# --- deploy/fleet-status.sh: the same one line per host over plain SSH
STATUS=("$SRC/deploy/fleet-status.sh" -i "$WORK/id_ed25519" -o IdentitiesOnly=yes
        -o UserKnownHostsFile="$WORK/known_hosts" -o GlobalKnownHostsFile=/dev/null
        -o StrictHostKeyChecking=yes)
status_check() { # status_check WANT_RC C3_WANT: run fleet-status.sh on all hosts, check its lines
    local rc k n want line
    out=$(ctl "${STATUS[@]}" "${ADDRS[@]}" 2>&1)
    rc=$?
    [ "$rc" = "$1" ] || fail "fleet-status.sh: rc $rc, want $1: $out"
    for k in "${!NAMES[@]}"; do
        n=${NAMES[$k]}
        case $n in
        srv) want="${ADDRS[$k]}: local clock, stratum 10, leap Normal" ;;
        c3) want="${ADDRS[$k]}: $2" ;;
        *) want="${ADDRS[$k]}: synchronised to $SERVER ($SERVER_HEX), stratum 11, offset " ;;
        esac
        line=$(grep -E "^${ADDRS[$k]}: " <<<"$out")
        if [[ $line == "$want"* ]]; then ok "fleet-status.sh $line"
        else fail "fleet-status.sh line for $n: '$line' (want '$want...')"; fi
    done
}
status_check 0 "synchronised to $SERVER ($SERVER_HEX), stratum 11, offset "

# --- run 2: nothing to change
if playbook run2 "$ANSIBLE_DIR/site.yml"; then ok "site.yml run 2: rc 0 in $PB_SECS"
else fail "site.yml run 2 failed"; fi
check_recap "$WORK/run2.log"
for k in "${!NAMES[@]}"; do
    n=${NAMES[$k]}
    if [ "${CHANGED[k]:-x}" != 0 ]; then
        fail "run 2 changed ${CHANGED[k]:-?} task(s) on $n: $(grep -E '^[0-9:]+ changed:' "$WORK/run2.log")"
    fi
    [ "$(tempusd_pid "$k")" = "${PIDS1[k]}" ] || fail "run 2 restarted tempusd on $n"
done
ok "run 2 recap: $(grep -E '^[0-9:]+ (srv|c[0-9]) +:' "$WORK/run2.log" | awk '{print $2 ":" $5}' | tr '\n' ' ')"

# --- check.yml, with c3's tempusd stopped (by its PID, as an admin or a crash would): one
# line per host, and c3 fails.
kill "${PIDS1[3]}"
for _ in $(seq 1 50); do kill -0 "${PIDS1[3]}" 2>/dev/null || break; sleep 0.1; done
status_check 1 "unsynchronised: no tracking report"
if playbook check "$ANSIBLE_DIR/check.yml"; then fail "check.yml: rc 0 with c3's tempusd stopped"
else ok "check.yml: rc != 0 with c3's tempusd stopped, in $PB_SECS"; fi
for k in "${!NAMES[@]}"; do
    n=${NAMES[$k]}
    line=$(grep -oE "\"msg\": \"$n: [^\"]*\"" "$WORK/check.log" | head -1)
    case $n in
    srv) want="$n: local clock, stratum 10, leap Normal" ;;
    c3) want="$n: unsynchronised: no tracking report" ;;
    *) want="$n: synchronised to $SERVER ($SERVER_HEX), stratum 11, offset " ;;
    esac
    if [[ $line == "\"msg\": \"$want"* ]]; then ok "check.yml ${line#\"msg\": }"
    else fail "check.yml line for $n: '$line' (want '$want...')"; fi
    f=$(recap "$WORK/check.log" "$n" failed)
    if { [ "$n" = c3 ] && [ "$f" != 1 ]; } || { [ "$n" != c3 ] && [ "$f" != 0 ]; }; then
        fail "check.yml: $n failed=$f"
    fi
done

# --- run 3 on srv, c1 and c3, with a client option changed for c1 only: c1's config is
# rewritten and the handler restarts its tempusd (new PID); c3's config is unchanged but its
# tempusd is not running, so the start task starts it; both synchronise again (the role's
# waitsync); the server is left alone.
sed -i "s/^c1 ansible_host=.*/& tempus_client_server_options=\"iburst minpoll 5\"/" "$WORK/inventory.ini"
if playbook run3 "$ANSIBLE_DIR/site.yml" --limit srv,c1,c3; then
    ok "site.yml run 3 (c1's option changed, c3 stopped): rc 0 in $PB_SECS"
else fail "site.yml run 3 failed"; fi
check_recap "$WORK/run3.log" 0 1 3
for k in 0 1 3; do
    n=${NAMES[$k]} pid=$(tempusd_pid "$k")
    case $n in
    srv)
        if [ "${CHANGED[k]:-x}" != 0 ] || [ "$pid" != "${PIDS1[k]}" ]; then
            fail "run 3 touched the server (changed ${CHANGED[k]:-?}, PID ${PIDS1[k]} -> $pid)"
        else ok "run 3 srv: changed 0, same tempusd"; fi
        ;;
    c1)
        if [ "${CHANGED[k]:-0}" = 2 ] && [ -n "$pid" ] && [ "$pid" != "${PIDS1[k]}" ] &&
            kill -0 "$pid" && ! kill -0 "${PIDS1[k]}" 2>/dev/null &&
            grep -qx "server $SERVER iburst minpoll 5" "/proc/${SSHD_PIDS[$k]}/root/etc/tempus.conf"
        then ok "run 3 c1: changed 2 (config, restart), tempusd PID ${PIDS1[k]} -> $pid, synchronised again"
        else fail "run 3 c1: changed ${CHANGED[k]:-?}, PID ${PIDS1[k]} -> $pid"; fi
        ;;
    c3)
        if [ "${CHANGED[k]:-0}" = 1 ] && [ -n "$pid" ] && [ "$pid" != "${PIDS1[k]}" ] && kill -0 "$pid" &&
            grep -q 'changed: \[c3\]' <(grep -A3 'Start tempusd unless it runs' "$WORK/run3.log")
        then ok "run 3 c3: changed 1 (started), tempusd PID $pid, synchronised again"
        else fail "run 3 c3: changed ${CHANGED[k]:-?}, PID ${PIDS1[k]} -> $pid"; fi
        ;;
    esac
done
grep -qE '^[0-9:]+ c2 +:' "$WORK/run3.log" && fail "run 3 reached c2 despite --limit"

# --- this machine: untouched
if [ "$(real_state)" = "$REAL_BEFORE" ]; then ok "this machine's /etc/tempus.conf, /usr/local and _tempus untouched"
else fail "this machine's files changed: $(diff <(echo "$REAL_BEFORE") <(real_state))"; fi

# CPU used, to compare runs on machines with different loads: this script's children
# (ansible-playbook and everything else the controller ran) plus every live process in the
# hosts' namespaces with what its reaped children used (sshd and the sessions it reaped, the
# tempusd daemons).
cpu_s() { # cpu_s: CPU_LINE = CPU seconds used so far
    local tck p t=0 f
    tck=$(getconf CLK_TCK)
    for n in "${HOST_NS[@]}" "$NS_CTL"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do
            f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
            t=$((t + $(awk '{print $12 + $13 + $14 + $15}' <<<"$f")))
        done
    done
    ctl_cpu
    CPU_LINE=$(awk -v c="$CTL_CPU" -v t="$t" -v tck="$tck" \
        'BEGIN{printf "%.0f s (controller %.0f s, hosts %.0f s)", c + t / tck, c, t / tck}')
}
cpu_s
echo "duration: $(($(date +%s) - T_START)) s wall, CPU $CPU_LINE; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
DIE_GLOBS=("run*.log")
DIE_TAIL=25
finish
