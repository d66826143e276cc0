#!/usr/bin/python3
"""Runs tempus-sim on one scenario with fixed seeds and checks its summary line against
numeric bounds.

usage: check.py TEMPUS_SIM SCENARIO NSEEDS BOUND...
NSEEDS 1 runs seed 1 alone; NSEEDS N > 1 runs seeds 1..N and checks the median line (less
sensitive to one seed's luck when the engine changes).
A BOUND is FIELD<=VALUE, FIELD>=VALUE or FIELD==VALUE over the summary's fields
(t1ms_s rms_us max_us rms_freq_ppm steps late_steps packets liar_sel_s unsync_s final_us).
t1ms_s is -1 when the clock never settled within 1 ms: a t1ms_s<= bound fails then.
"""
import re
import subprocess
import sys


def main():
    if len(sys.argv) < 5:
        print(__doc__)
        return 2
    sim, scn, nseeds = sys.argv[1:4]
    args = ["--seed", "1"] if int(nseeds) == 1 else ["--seeds", nseeds]
    out = subprocess.run([sim, scn] + args, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        print("tempus-sim failed:", out.returncode, out.stderr)
        return 1
    want = "summary seed=1 " if int(nseeds) == 1 else "summary median "
    lines = [l for l in out.stdout.splitlines() if l.startswith(want)]
    if len(lines) != 1:
        print("no summary line in:\n" + out.stdout)
        return 1
    print(lines[0])
    fields = dict(kv.split("=", 1) for kv in lines[0].split()[1:] if "=" in kv)
    fields.pop("seed", None)
    fields.pop("seeds", None)
    bad = 0
    for b in sys.argv[4:]:
        m = re.fullmatch(r"([a-z0-9_]+)(<=|>=|==)(-?[0-9.]+)", b)
        if not m or m.group(1) not in fields:
            print("bad bound:", b)
            return 2
        name, op, lim = m.group(1), m.group(2), float(m.group(3))
        v = float(fields[name])
        if name == "t1ms_s" and v < 0 and op == "<=":
            ok = False
        else:
            ok = {"<=": v <= lim, ">=": v >= lim, "==": v == lim}[op]
        print(("ok   " if ok else "FAIL ") + f"{name} = {v:g} (bound {op} {lim:g})")
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
