#!/usr/bin/python3
"""Checks tempus-sim's command line: version/help, errors, --csv rows, --seeds medians.

usage: check_cli.py TEMPUS_SIM SCENARIO
"""
import os
import subprocess
import sys
import tempfile


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def main():
    sim, scn = sys.argv[1:3]
    fails = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails.append(what)

    r = run(sim, "--version")
    check(r.returncode == 0 and r.stdout.startswith("tempus-sim (tempus) version "), "--version")
    r = run(sim, "--help")
    check(r.returncode == 0 and "--seeds N" in r.stdout, "--help")
    r = run(sim)
    check(r.returncode == 1 and "Usage" in r.stderr, "no scenario: usage, exit 1")
    r = run(sim, "/nonexistent.scn")
    check(r.returncode == 1 and "cannot read" in r.stderr, "missing file: exit 1")
    with tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False) as f:
        f.write("duration = 1h\n[server]\nlink = 1ms bogus 2ms\n")
    try:
        r = run(sim, f.name)
        check(r.returncode == 1 and "line 3: bad value for 'link'" in r.stderr,
              "bad scenario: file:line error, exit 1")
    finally:
        os.unlink(f.name)

    # Every scenario file has bounds in tests/sim/meson.build.
    here = os.path.dirname(os.path.abspath(__file__))
    mesonfile = open(os.path.join(here, "meson.build")).read()
    for name in sorted(os.listdir(here)):
        if name.endswith(".scn"):
            check("'%s' :" % name[:-4] in mesonfile, name + " is a test with bounds")

    # The example in docs/design/simulator.md parses and runs.
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                       "design", "simulator.md")
    text = open(doc).read()
    block = text.split("## Scenario files", 1)[1].split("```\n", 2)[1]
    with tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False) as f:
        f.write(block)
    try:
        r = run(sim, f.name, "--duration", "5m")
        check(r.returncode == 0 and r.stdout.startswith("summary seed=1 "),
              "the design note's example scenario runs: " + r.stderr.strip())
    finally:
        os.unlink(f.name)

    r = run(sim, scn, "--csv", "--seeds", "2")
    check(r.returncode == 1 and "--csv needs a single run" in r.stderr, "--csv with --seeds")

    r = run(sim, scn, "--csv", "--duration", "60s", "--warmup", "0")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[0] ==
          "t_s,offset_s,freq_err_ppm,poll_log2,selected,steps,packets", "--csv header")
    rows = [l.split(",") for l in lines[1:] if not l.startswith("summary")]
    check(len(rows) == 61 and all(len(x) == 7 for x in rows), "--csv: 61 rows of 7 fields")
    check(rows and float(rows[-1][0]) == 60.0 and int(rows[-1][6]) > 0,
          "--csv: last row at 60 s with packets sent")
    check(lines[-1].startswith("summary seed=1 "), "--csv: summary line last")

    r = run(sim, scn, "--log", "--duration", "10m")
    check(r.returncode == 0 and " s: selected server 1 (" in r.stderr, "--log: selection")

    r = run(sim, scn, "--seeds", "3", "--duration", "20m", "--warmup", "5m")
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and len(lines) == 4 and
          [l.split()[1] for l in lines] == ["seed=1", "seed=2", "seed=3", "median"],
          "--seeds 3: three summaries and the median")
    rms = sorted(float(l.split("rms_us=")[1].split()[0]) for l in lines[:3])
    med = float(lines[3].split("rms_us=")[1].split()[0])
    check(med == rms[1], "--seeds: median rms is the middle one")
    a = run(sim, scn, "--seed", "2", "--duration", "20m", "--warmup", "5m").stdout
    check(a.split()[2:] == lines[1].split()[2:], "--seed 2 repeats seeds' second run exactly")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
