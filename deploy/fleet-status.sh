#!/usr/bin/env bash
# One line per host with tempusd's sync state, over SSH, for when Ansible is not at hand
# (ansible-playbook deploy/ansible/check.yml does the same from the inventory).
# Usage: deploy/fleet-status.sh [-l USER] [-i KEY] [-o SSH_OPTION]... HOST...
# Each host runs `tempusc -n -c tracking` (TEMPUSC overrides the command); the line is
#   HOST: synchronised to ADDR (REFID), stratum N, offset X s, leap L
#   HOST: local clock, stratum N, leap L          (a server serving its own clock)
#   HOST: unsynchronised (...) | unreachable (...)
# Exit 0 if no host is unsynchronised or unreachable, 1 otherwise, 2 on a usage error.
# SSH runs in batch mode (keys, no password prompts) and with the user's host key checking.
set -u
user=root
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=10)
while getopts l:i:o:h opt; do
    case $opt in
    l) user=$OPTARG ;;
    i) ssh_opts+=(-i "$OPTARG") ;;
    o) ssh_opts+=(-o "$OPTARG") ;;
    *) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 2; }
remote_cmd=${TEMPUSC:-tempusc -n -c tracking}

bad=0
for host in "$@"; do
    out=$(ssh "${ssh_opts[@]}" -l "$user" "$host" "$remote_cmd" 2>&1 </dev/null)
    rc=$?
    if [ $rc != 0 ]; then
        # ssh's own failures exit 255; anything else is tempusc's answer.
        if [ $rc = 255 ]; then echo "$host: unreachable ($(tail -n 1 <<<"$out"))"
        else echo "$host: unsynchronised: no tracking report (rc $rc: $(tail -n 1 <<<"$out"))"; fi
        bad=1
        continue
    fi
    # chronyc's CSV tracking fields: refid, address, stratum, ref time, system time offset,
    # last offset, RMS offset, frequency, residual freq, skew, root delay, root dispersion,
    # update interval, leap status.
    IFS=, read -r refid addr stratum _ offset _ _ _ _ _ _ _ _ leap <<<"$(tail -n 1 <<<"$out")"
    if [ -z "${leap:-}" ]; then
        echo "$host: unsynchronised: unexpected tracking report: $out"
        bad=1
    elif [ "$refid" = 7F7F0101 ]; then
        echo "$host: local clock, stratum $stratum, leap $leap"
    elif [ "$refid" = 00000000 ] || [ "$leap" = "Not synchronised" ]; then
        echo "$host: unsynchronised (reference $refid, stratum $stratum, leap $leap)"
        bad=1
    else
        echo "$host: synchronised to $addr ($refid), stratum $stratum, offset $offset s, leap $leap"
    fi
done
exit $bad
