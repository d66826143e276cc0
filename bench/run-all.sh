#!/usr/bin/env bash
# The whole server comparison in one command: throughput and latency (run-server-bench.sh),
# instructions per reply (run-instr-bench.sh) and memory with 100000 clients
# (run-mem-bench.sh), then tempusd against the bar of the issue "tempusd serves time":
#   throughput >= 95 % of the echo; <= 600 instructions per reply with client log and rate
#   limiting; p99 latency at 10000 requests/s <= chronyd's; less memory than chronyd with
#   100000 clients.
#
#   bench/run-all.sh [BUILDDIR]        (about 4 minutes; output is markdown)
# Exit status: 0 whether or not tempusd meets the bar (a benchmark is not a test); 1 if a
# script failed.
set -u
here=$(dirname "$0")
summary=$(mktemp /tmp/tempus-bench-summary.XXXXXX)
trap 'rm -f "$summary"' EXIT
export SUMMARY=$summary
"$here/run-server-bench.sh" "$@" || exit 1
echo
"$here/run-instr-bench.sh" "$@" || exit 1
echo
"$here/run-mem-bench.sh" "$@" || exit 1
echo
echo "# tempusd against the bar"
get() { awk -v k="$1" '$1 == k {v = $2} END {print v}' "$summary"; }
check() { # NAME VALUE OP LIMIT
    if [ -z "$2" ] || [ -z "$4" ]; then
        echo "- $1: not measured"
    elif awk -v a="$2" -v b="$4" "BEGIN {exit !(a $3 b)}"; then
        echo "- $1: $2 (bar: $3 $4): met"
    else
        echo "- $1: $2 (bar: $3 $4): NOT met"
    fi
}
e=$(get throughput.echo)
check "throughput, replies/s" "$(get throughput.tempusd)" ">=" \
    "$([ -n "$e" ] && awk -v e="$e" 'BEGIN {printf "%.0f", 0.95 * e}')"
check "throughput with nobatchreplies (sendmsg), replies/s" "$(get throughput.tempusd-sendmsg)" \
    ">=" "$([ -n "$e" ] && awk -v e="$e" 'BEGIN {printf "%.0f", 0.95 * e}')"
check "instructions per reply, client log + rate limiting" "$(get instr.tempusd-ratelimit)" "<=" 600
check "instructions per reply, client log + rate limiting, nobatchreplies" \
    "$(get instr.tempusd-sendmsg-ratelimit)" "<=" 600
check "instructions of server_answer() + server_finish() alone (no sockets), client log + rate limiting" \
    "$(get instr.respond-ratelimit)" "<=" 600
check "p99 latency at 10000/s, us" "$(get p99_us.tempusd)" "<=" "$(get p99_us.chronyd)"
check "p99 latency at 10000/s with nobatchreplies, us" "$(get p99_us.tempusd-sendmsg)" "<=" \
    "$(get p99_us.chronyd)"
check "RSS after 100000 clients, kB" "$(get rss_kb.tempusd)" "<" "$(get rss_kb.chronyd)"
