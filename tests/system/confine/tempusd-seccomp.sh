#!/bin/sh
# tempusd with the level-1 seccomp filter on, for running other system tests under it
# (TEMPUSD_BIN=this script; tests/system/daemon/lib.sh honours it). LeakSanitizer's exit-time
# thread would be killed by the filter, so leak detection is off in these runs.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
exec "${TEMPUS_BUILD:?}/tempusd" -F 1 "$@"
