#!/usr/bin/python3
"""Runs tempus-sim on one scenario with a fixed seed and checks its summary line against
numeric bounds.

usage: check.py TEMPUS_SIM SCENARIO SEED BOUND...
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
    sim, scn, seed = sys.argv[1:4]
    out = subprocess.run([sim, scn, "--seed", seed], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        print("tempus-sim failed:", out.returncode, out.stderr)
        return 1
    lines = [l for l in out.stdout.splitlines() if l.startswith("summary ")]
    if len(lines) != 1:
        print("no summary line in:\n" + out.stdout)
        return 1
    print(lines[0])
    fields = dict(kv.split("=", 1) for kv in lines[0].split()[1:] if "=" in kv)
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
