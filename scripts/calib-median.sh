#!/bin/bash
# Calibration helper (docs/design/calibration.md): runs a real daemon under the syscall-level
# simulator (scripts/simhost-run.sh) on seeds 1..N of each given scenario FILE (any path, not
# only tests/sim) and prints one line per scenario with the medians over the seeds.
#
# usage: scripts/calib-median.sh N DAEMON SCENARIO_FILE...
#   N       seeds 1..N (the issue's bar: 11)
#   DAEMON  chronyd | tempusd | a path (as scripts/simhost-run.sh)
# Environment: SIMHOST_BUILD (default ./build), CALIB_JOBS (parallel runs, default 2),
#   CALIB_RAW (keep every run's summary line in this file).
# Output: name rms_us (median; min..max over the seeds) max_us t1ms_s rms_freq_ppm steps packets
#   (medians), and with N > 11 also rms11, the median RMS of seeds 1..11 alone.
set -u
if [ $# -lt 3 ]; then
    sed -n '2,11p' "$0" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
n=$1 daemon=$2
shift 2
raw=${CALIB_RAW:-$(mktemp /tmp/calib-raw.XXXXXX)}
[ -n "${CALIB_RAW:-}" ] || trap 'rm -f "$raw"' EXIT
# The inner sh expands its own $0 (root) $1 (daemon) $2 (file) $3 (seed).
# shellcheck disable=SC2016
for scn in "$@"; do
    for seed in $(seq 1 "$n"); do
        printf '%s\t%s\n' "$scn" "$seed"
    done
done | xargs -P "${CALIB_JOBS:-2}" -L 1 sh -c \
    '"$0"/scripts/simhost-run.sh "$2" "$1" "$3" | sed "s|\$| file=$2|"' "$root" "$daemon" >> "$raw" 2>/dev/null
/usr/bin/python3 - "$raw" "$n" "$@" <<'PY'
import statistics, sys
raw, n, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {}
for line in open(raw):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    runs.setdefault(f.get("file"), []).append(f)
def med(rs, k):
    v = [float(r[k]) for r in rs]
    v = [x if x >= 0 else float("inf") for x in v]
    return statistics.median(v)
for fn in files:
    rs = runs.get(fn, [])
    name = fn.rsplit("/", 1)[-1].removesuffix(".scn")
    if len(rs) < n:
        print(f"{name} FAILED ({len(rs)}/{n} runs)")
        if not rs:
            continue
    r = sorted(float(x["rms_us"]) for x in rs)
    first11 = [x for x in rs if int(x["seed"]) <= 11]
    m11 = f" rms11={med(first11,'rms_us'):.1f}" if n > 11 and len(first11) == 11 else ""
    print(f"{name} rms={med(rs,'rms_us'):.1f} ({r[0]:.0f}..{r[-1]:.0f}) max={med(rs,'max_us'):.0f} "
          f"t1ms={med(rs,'t1ms_s'):.1f} freq={med(rs,'rms_freq_ppm'):.3f} steps={med(rs,'steps'):g} "
          f"packets={med(rs,'packets'):g} n={len(rs)}{m11}")
PY
