#!/usr/bin/env bash
# Non-interactive command input: tempusc without a command reads commands from stdin (no
# prompt when stdin is not a terminal), runs each, stops at quit, and exits with the status
# of the last command. Replays chrony43/tracking (TEMPUS_REPLAY), so no daemon is needed.
set -u
tempusc=$1 vec=$2/chrony43
out=$(printf '\n# a comment\ntracking\nquit\nactivity\n' |
    TEMPUS_REPLAY=$vec/tracking "$tempusc" -n)
rc=$?
if [ $rc -ne 0 ] || [ "$out" != "$(cat "$vec/tracking.txt")" ]; then
    echo "not ok stdin commands (rc $rc):"; echo "$out"; echo "0 passed, 1 failed"; exit 1
fi
out=$(printf 'nosuchcommand\n' | "$tempusc" -h 127.0.0.1 -p 9 -n 2>&1)
if [ $? -ne 1 ] || [ "$out" != "Unrecognized command" ]; then
    echo "not ok unknown command: $out"; echo "1 passed, 1 failed"; exit 1
fi
echo "2 passed, 0 failed"
