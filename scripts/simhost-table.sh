#!/bin/bash
# The real binaries in the syscall-level simulator, side by side: each scenario x {tempusd,
# chronyd} x seeds 1..N under scripts/simhost-run.sh, medians over the seeds, as the markdown
# table in docs/BENCHMARKS.md ("The real binaries in a syscall-level simulator").
#
# usage: scripts/simhost-table.sh [N [SCENARIO...]]
#   N          seeds 1..N (default 11)
#   SCENARIO   names in tests/sim (default: the issue-3 set)
# Environment: SIMHOST_BUILD (default ./build), SIMHOST_DURATION (shorter runs),
#   SIMHOST_RAW (file to keep every run's summary line; default /tmp/simhost-table.raw),
#   SIMHOST_TABLE_ONLY=1 (no runs: the table from the lines already in SIMHOST_RAW).
# Columns: medians over the seeds of RMS and max |time error| after the warm-up (30 min), time
# to within 1 ms (s; "never" when it did not settle by the end of warm-up), RMS frequency
# error, steps, packets sent (and per server, each server's median); "sim RMS" is tempus-sim's in-process median on the same worlds
# (the same engine without the daemon around it).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-11}
shift || true
scns=("$@")
if [ ${#scns[@]} -eq 0 ]; then
    scns=(lan wan4 falseticker asymmetric step100 temp failover seed iburst1)
fi
build=${SIMHOST_BUILD:-$root/build}
raw=${SIMHOST_RAW:-/tmp/simhost-table.raw}
fail=0
[ -n "${SIMHOST_TABLE_ONLY:-}" ] && scns_run=() || { scns_run=("${scns[@]}"); : > "$raw"; }
for s in "${scns_run[@]}"; do
    for d in tempusd chronyd; do
        for seed in $(seq 1 "$n"); do
            if ! SIMHOST_BUILD=$build "$root/scripts/simhost-run.sh" "$root/tests/sim/$s.scn" \
                "$d" "$seed" >> "$raw"; then
                echo "simhost-table: $s $d seed $seed failed" >&2
                fail=1
            fi
        done
    done
    if [ -x "$build/tempus-sim" ]; then
        args=(--seeds "$n")
        [ -n "${SIMHOST_DURATION:-}" ] && args+=(--duration "$SIMHOST_DURATION")
        "$build/tempus-sim" "$root/tests/sim/$s.scn" "${args[@]}" | grep '^summary median' |
            sed "s/\$/ daemon=sim scenario=$s/" >> "$raw"
    fi
done
/usr/bin/python3 - "$raw" "$n" "${scns[@]}" <<'PY'
import statistics, sys
raw, n, scns = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = {}
for line in open(raw):
    f = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    runs.setdefault((f["scenario"], f["daemon"]), []).append(f)
def med(rs, k, never=False):
    v = [float(r[k]) for r in rs]
    if never:
        v = [x if x >= 0 else float("inf") for x in v]
    m = statistics.median(v)
    return "never" if m == float("inf") else m
def per_server(rs):
    v = [[int(x) for x in r["per_server"].split("/")] for r in rs if r.get("per_server", "-") != "-"]
    if not v:
        return ""
    return "/".join(f"{statistics.median(c):g}" for c in zip(*v))
print("| scenario | daemon | RMS µs | max µs | within 1 ms s | RMS freq ppm | steps | packets "
      "| per server | sim RMS µs |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in scns:
    sim = runs.get((s, "sim"), [{}])[0]
    for d in ("tempusd", "chronyd"):
        rs = runs.get((s, d))
        if not rs:
            print(f"| {s} | {d} | (failed) |||||||")
            continue
        t1 = med(rs, "t1ms_s", True)
        t1 = t1 if isinstance(t1, str) else f"{t1:.1f}"
        simcol = sim.get("rms_us", "") if d == "tempusd" else ""
        print(f"| {s} | {d} | {med(rs,'rms_us'):.1f} | {med(rs,'max_us'):.0f} | {t1} | "
              f"{med(rs,'rms_freq_ppm'):.3f} | {med(rs,'steps'):g} | {med(rs,'packets'):g} | "
              f"{per_server(rs)} | {simcol} |")
print(f"\nmedians over seeds 1..{n}; every run's summary line: {raw}")
PY
exit $fail
