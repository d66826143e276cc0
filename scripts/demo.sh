#!/usr/bin/env bash
# The main job (README, "Quick start"): installs what is missing, builds, and shows tempus at
# work. It grows with the project: today it builds the three programs and runs what exists.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
./build/tempusd -v
./build/tempusc -v
./build/tempus-sim -v
