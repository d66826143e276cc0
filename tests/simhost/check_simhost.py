#!/usr/bin/python3
"""The syscall-level simulator end to end: the real daemon (tempusd, or Debian's chronyd) under
libtempus-simhost.so in the iburst1 world (one LAN server, the clock 2 s off, makestep 1.0 3,
1 h) and for 1 h of stratum2 (a tempus engine server in between), checked against bounds;
and the safety nets: the library refuses a process that holds
CAP_SYS_TIME, the daemon ran without it, no clock-setting system call reached the kernel
(strace, with a positive control), and the same seed gives the same run.

usage: check_simhost.py tempusd|chronyd
Environment (meson's test_env): TEMPUS_SRC, TEMPUS_BUILD.
Exit 0 pass, 1 fail, 77 skip (not root, chronyd or the library missing).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

BOUNDS = {
    # tempusd: seeds 1..11 with the shadow's runs test in chronyd's form (session 5) gave RMS
    # 3.3 .. 17.3 us (seed 1: 4.8; median 5.3) and 29-41 packets (median 36); chronyd on the
    # same seeds 29-45 (median 39), seed 1 40. Per seed the shadow polls as chronyd does to
    # within a request or two (seed 1: 41, seed 7: 37 vs 35, seed 11: 29 vs 45), so the bound
    # is chronyd's seed-1 count + 1.
    "tempusd": ["t1ms_s<=8", "rms_us<=25", "max_us<=100", "steps==1", "late_steps==0",
                "packets<=41", "unsupported==0"],
    # chronyd 4.3 as measured here (seed 1: within 1 ms at 4.3 s, RMS 7.6 us, 40 packets):
    # the simulator must keep running the real chronyd the way it did.
    "chronyd": ["t1ms_s<=8", "rms_us<=20", "max_us<=60", "steps==1", "late_steps==0",
                "packets>=30", "packets<=50", "unsupported==0"],
}
# stratum2 for 1 h: the client's server 2 is a tempus engine on its own clock syncing from
# server 1 (the library's engine servers). Seed 1 measured: tempusd 5.0 us, 73 requests
# (35/38), chronyd 13.3 us, 78 (40/38); every request answered (no loss in this world).
# With the shadow, seeds 1..8: tempusd 5.4 .. 32 us (seed 1: 6.4), 61-70 requests; a change
# that reshuffles the trajectories can move seed 1 anywhere in that range. Packets: at most
# chronyd's on seed 1 (78).
STRATUM2 = {
    "tempusd": ["rms_us<=20", "steps==0", "packets<=78", "unsupported==0"],
    "chronyd": ["rms_us<=40", "steps==0", "packets<=100", "unsupported==0"],
}
CAP_SYS_TIME = 25


def has_cap(bit):
    for line in open("/proc/self/status"):
        if line.startswith("CapEff:"):
            return (int(line.split()[1], 16) >> bit) & 1
    return 0


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def check_bounds(f, bounds):
    bad = 0
    for b in bounds:
        m = re.fullmatch(r"([a-z0-9_]+)(<=|>=|==)(-?[0-9.]+)", b)
        name, op, lim = m.group(1), m.group(2), float(m.group(3))
        v = float(f[name])
        ok = {"<=": v <= lim, ">=": v >= lim, "==": v == lim}[op]
        if name == "t1ms_s" and v < 0:
            ok = False
        print(("ok   " if ok else "FAIL ") + f"{name} = {v:g} (bound {op} {lim:g})")
        bad += not ok
    return bad


def run(runner, scn, daemon, seed, outdir, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run([runner, scn, daemon, str(seed), outdir], capture_output=True,
                       text=True, env=env, timeout=300)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        return None
    return p.stdout.strip()


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in BOUNDS:
        print(__doc__)
        return 2
    daemon = sys.argv[1]
    src = os.environ.get("TEMPUS_SRC", os.path.dirname(os.path.abspath(__file__)) + "/../..")
    build = os.environ.get("TEMPUS_BUILD", src + "/build")
    lib = build + "/tests/simhost/libtempus-simhost.so"
    runner = src + "/scripts/simhost-run.sh"
    scn = src + "/tests/sim/iburst1.scn"
    if os.geteuid() != 0:
        print("SKIP: needs root (setpriv drops CAP_SYS_TIME from the bounding set)")
        return 77
    if not os.path.exists(lib):
        print("SKIP: no", lib, "(sanitizer build?)")
        return 77
    if daemon == "chronyd" and not os.access("/usr/sbin/chronyd", os.X_OK):
        print("SKIP: no /usr/sbin/chronyd")
        return 77
    if not shutil.which("setpriv"):
        print("SKIP: no setpriv")
        return 77
    os.environ["SIMHOST_BUILD"] = build
    bad = 0
    with tempfile.TemporaryDirectory(prefix="simhost-test.") as tmp:
        # 1. The library's own guard: a process holding CAP_SYS_TIME is refused before main()
        #    (checkable only where this test holds it: not in a container without it).
        if has_cap(CAP_SYS_TIME):
            p = subprocess.run(["/bin/true"], capture_output=True, text=True,
                               env=dict(os.environ, LD_PRELOAD=lib, SIMHOST_SCENARIO=scn))
            ok = p.returncode != 0 and "CAP_SYS_TIME" in p.stderr
            print(("ok   " if ok else "FAIL ") + "the library refuses a process with CAP_SYS_TIME")
            bad += not ok
        else:
            print("note: this test has no CAP_SYS_TIME: the library's refusal is not checked")

        # 2. The run, under strace when it is usable.
        trace = tmp + "/strace"
        use_strace = False
        if shutil.which("strace"):
            ctl = subprocess.run(
                ["strace", "-f", "-qq", "-o", tmp + "/control", "-e", "trace=adjtimex,clock_adjtime",
                 "/usr/bin/python3", "-c",
                 "import ctypes; b = ctypes.create_string_buffer(512); "
                 "ctypes.CDLL(None).adjtimex(b)"],  # modes 0: a read
                capture_output=True, text=True)
            control = open(tmp + "/control").read() if os.path.exists(tmp + "/control") else ""
            use_strace = ctl.returncode == 0 and re.search(r"\b(adjtimex|clock_adjtime)\(", control)
            if not use_strace:
                print("note: strace cannot trace here (positive control failed): no strace check")
        line = run(runner, scn, daemon, 1, tmp + "/a",
                   {"SIMHOST_STRACE": trace} if use_strace else None)
        if line is None:
            print("FAIL: the run failed")
            return 1
        print(line)
        f = fields(line)
        bad += check_bounds(f, BOUNDS[daemon])
        for key in ("capeff", "capprm"):
            ok = not (int(f[key], 16) >> CAP_SYS_TIME) & 1
            print(("ok   " if ok else "FAIL ") + f"{key} {f[key]}: no CAP_SYS_TIME")
            bad += not ok
        if use_strace:
            calls = [l for l in open(trace) if re.search(
                r"\b(clock_adjtime|adjtimex|clock_settime|settimeofday)\(", l)]
            ok = not calls
            print(("ok   " if ok else "FAIL ") +
                  f"no clock-setting system call reached the kernel ({len(calls)} seen)")
            for l in calls[:5]:
                print("    " + l.rstrip())
            bad += not ok

        # 3. Engine servers: a stratum-2 tempus engine between the daemon and the reference.
        line2 = run(runner, src + "/tests/sim/stratum2.scn", daemon, 1, tmp + "/s2",
                    {"SIMHOST_DURATION": "1h"})
        if line2 is None:
            print("FAIL: the stratum2 run failed")
            return 1
        print(line2)
        f2 = fields(line2)
        bad += check_bounds(f2, STRATUM2[daemon])
        per = [int(x) for x in f2["per_server"].split("/")]
        # (one request may still be in flight when the hour ends)
        ok = len(per) == 2 and min(per) > 0 and 0 <= int(f2["packets"]) - int(f2["replies"]) <= 1
        print(("ok   " if ok else "FAIL ") +
              f"both servers polled ({f2['per_server']}) and every request answered "
              f"({f2['replies']} of {f2['packets']})")
        bad += not ok

        # 4. leapsectz: the daemon gives the kernel TAI - UTC (ADJ_TAI, chronyd's leapsecmode
        #    system). The scenario's epoch is 2026: 37 s.
        if os.path.exists("/usr/share/zoneinfo/right/UTC"):
            line3 = run(runner, scn, daemon, 1, tmp + "/tai",
                        {"SIMHOST_DURATION": "20m", "SIMHOST_CONF": "leapsectz right/UTC"})
            if line3 is None:
                print("FAIL: the leapsectz run failed")
                return 1
            f3 = fields(line3)
            ok = f3.get("tai") == "37" and f3.get("unsupported") == "0"
            print(("ok   " if ok else "FAIL ") +
                  f"leapsectz right/UTC: kernel TAI offset {f3.get('tai')} (37), "
                  f"unsupported {f3.get('unsupported')}")
            bad += not ok
        else:
            print("note: no /usr/share/zoneinfo/right/UTC: leapsectz's TAI offset not checked")

        # 5. Deterministic: the same seed again gives the same CSV.
        if run(runner, scn, daemon, 1, tmp + "/b") is None:
            print("FAIL: the second run failed")
            return 1
        same = open(tmp + "/a/run.csv").read() == open(tmp + "/b/run.csv").read()
        print(("ok   " if same else "FAIL ") + "the same seed twice gives the same CSV")
        bad += not same
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
