#!/usr/bin/python3
"""Differential test of the config parser: every case goes through `chronyd -x -p -f FILE`
(chrony 4.3, the reference) and `tempusd -p -f FILE`; they must agree on

  - acceptance (exit status 0 / 1),
  - what is printed on stdout (the normalized lines),
  - the error: same message, line and file (tempus may add " at line N in file F" where
    chronyd names no line, e.g. for a missing include).

Both run in a fresh network namespace (unshare -n): chronyd resolves allow/deny/initstepslew
names while parsing, and no query may leave this machine. Skipped (77) without chronyd,
unshare or root.

Usage: difftest.py TEMPUSD [CASES_FILE] [-v]
Cases: cases.txt beside this script, plus generated families (every directive with good and
bad argument shapes, every server option with good and bad values), seeded random lines
(TEMPUS_DIFFTEST_SEED, TEMPUS_DIFFTEST_RANDOM=count), and with TEMPUS_DIFFTEST_SWEEP=1 every
keyword of chrony.conf(5) in every keyword position.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
JOBS = max(2, min(16, 2 * (os.cpu_count() or 2)))
LOC = re.compile(r" at line (\d+)(?: in file (.*))?$")


def load_cases(path):
    """=== name [noeol] [esc] [args] blocks; content lines follow."""
    cases = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("=== "):
                parts = line[4:].split()
                cur = {"name": parts[0], "flags": set(parts[1:]), "lines": []}
                cases.append(cur)
            elif line.startswith("#=") or cur is None:
                continue
            else:
                cur["lines"].append(line)
    out = []
    for c in cases:
        lines = c["lines"]
        if "esc" in c["flags"]:
            lines = [l.encode("latin-1", "backslashreplace").decode("unicode_escape") for l in lines]
        if "args" in c["flags"]:
            out.append({"name": c["name"], "args": lines})
            continue
        text = "\n".join(lines) + ("" if "noeol" in c["flags"] else "\n")
        out.append({"name": c["name"], "text": text})
    return out


def generated_cases():
    cases = []
    directives = """acquisitionport authselectmode bindacqaddress bindacqdevice bindaddress
        bindcmdaddress bindcmddevice binddevice broadcast clientloglimit clockprecision cmdallow
        cmddeny cmdport cmdratelimit combinelimit commandkey corrtimeratio deny driftfile dscp
        dumpdir dumponexit fallbackdrift generatecommandkey hwclockfile hwtimestamp include
        initstepslew keyfile leapsecmode leapsectz linux_freq_scale linux_hz local lock_all log
        logbanner logchange logdir mailonchange makestep manual maxchange maxclockerror
        maxdistance maxdrift maxjitter maxntsconnections maxsamples maxslewrate maxupdateskew
        minsamples minsources nocerttimecheck noclientlog nosystemcert ntpsigndsocket
        ntscachedir ntsdumpdir ntsntpserver ntsport ntsprocesses ntsratelimit ntsrefresh
        ntsrotate ntsservercert ntsserverkey ntstrustedcerts peer pidfile pool port ptpport
        ratelimit refclock reselectdist rtcautotrim rtcdevice rtcfile rtconutc rtcsync
        sched_priority server smoothtime sourcedir stratumweight tempcomp user allow confdir
        maxdelay minpoll""".split()
    # Argument shapes; no host names (a name would be looked up).
    shapes = ["", "1", "1x", "1 2", "1 2 3", "1 2 3 4 5 6", "-1", "1.5", "/nonexistent-dir",
              "1e"]
    for d in directives:
        for s in shapes:
            if d == "include" and s and not s.startswith("/"):
                continue  # would include a file named like a number from the cwd: fine but noisy
            cases.append({"name": "gen-%s-[%s]" % (d, s), "text": ("%s %s" % (d, s)).strip() + "\n"})
    opts_int = ["minpoll", "maxpoll", "presend", "minstratum", "polltarget", "version",
                "minsamples", "maxsamples", "filter", "maxsources", "port", "ntsport", "key",
                "certset"]
    opts_dbl = ["maxdelay", "maxdelayratio", "maxdelaydevratio", "maxdelayquant", "mindelay",
                "asymmetry", "offset"]
    values = ["", "4", "-4", "+4", "4x", "4.5", "0", "99999999999", "4294967295", "4294967296",
              "1e3", "0x10", "nan", "-"]
    for o in opts_int + opts_dbl + ["extfield"]:
        for v in values + (["F323", "f323", "0xF323", "F324"] if o == "extfield" else []):
            for kind in ("server", "pool", "peer") if v in ("4", "4x") else ("server",):
                cases.append({"name": "gen-%s-%s-[%s]" % (kind, o, v),
                              "text": ("%s 192.0.2.1 %s %s" % (kind, o, v)).strip() + "\n"})
    for flag in ["iburst", "burst", "prefer", "noselect", "trust", "require", "xleave", "nts",
                 "copy", "offline", "auto_offline", "IBURST", "Prefer", "iburst1", "#"]:
        cases.append({"name": "gen-flag-%s" % flag, "text": "server 192.0.2.1 %s\n" % flag})
        cases.append({"name": "gen-flag-%s-arg" % flag, "text": "pool pool.example %s 1\n" % flag})
    return cases


def random_cases(seed, count):
    """Seeded random lines from a pool of directive words, option words and odd numbers:
    finds disagreements no one thought to write down. Reproducible from the seed."""
    rng = random.Random(seed)
    words = """server pool peer allow deny cmdallow local makestep maxchange log refclock
        hwtimestamp ratelimit smoothtime tempcomp broadcast bindaddress bindcmdaddress
        leapsecmode authselectmode ntstrustedcerts fallbackdrift mailonchange initstepslew
        maxupdateskew port driftfile rtcsync manual confdir sourcedir SERVER Local LOG""".split()
    opts = """iburst burst minpoll maxpoll key prefer noselect stratum orphan distance interval
        burst leak poll dpoll refid lock offset delay filter rate precision tai pps all
        leaponly tracking measurements rxfilter nocrossts minsamples maxsources extfield
        version polltarget presend port maxdelay asymmetry ntp slew mix""".split()
    vals = ["0", "1", "-1", "+2", "3x", "1e", "1e3", "0x10", "1.5", ".5", "nan", "inf", "16",
            "255", "256", "4294967296", "10/8", "10.1.2", "192.0.2.1", "::1", "2001:db8::/32",
            "1.2.3.4/33", "F323", "GPS", "ABCDE", "/dev/pps0", "a:b", "", "x", "#", "!"]
    cases = []
    for i in range(count):
        lines = []
        for _ in range(rng.randint(1, 3)):
            toks = [rng.choice(words)]
            for _ in range(rng.randint(0, 5)):
                toks.append(rng.choice(opts) if rng.random() < 0.5 else rng.choice(vals))
            lines.append(" ".join(t for t in toks if t))
        cases.append({"name": "rand-%d-%d" % (seed, i), "text": "\n".join(lines) + "\n"})
    return cases


def sweep_cases():
    """Every bold word of chrony.conf(5) in every position a keyword can take (directive,
    server/refclock/hwtimestamp/local/ratelimit option, log/leapsecmode/authselectmode value,
    allow argument): catches a keyword chronyd knows and tempus does not. ~2900 cases, so
    only with TEMPUS_DIFFTEST_SWEEP=1."""
    import gzip
    man = "/usr/share/man/man5/chrony.conf.5.gz"
    if not os.path.exists(man):
        return []
    with gzip.open(man, "rt", errors="replace") as f:
        words = sorted(set(re.findall(r"\\fB([a-zA-Z_0-9-]+)\\fP", f.read())))
    templates = ["%s", "%s 1", "server 192.0.2.1 %s", "server 192.0.2.1 %s 1",
                 "refclock SHM 0 %s", "refclock SHM 0 %s 1", "hwtimestamp eth0 %s 1",
                 "hwtimestamp eth0 %s", "local %s 1", "ratelimit %s 1", "log %s",
                 "leapsecmode %s", "authselectmode %s", "smoothtime 1 2 %s", "allow %s"]
    return [{"name": "sweep-[%s]" % (t % w), "text": (t % w) + "\n"}
            for w in words for t in templates]


def make_fixtures(root):
    """Files the include/confdir/sourcedir cases refer to (as @D@/...)."""
    def w(rel, text):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
    w("d1/a.conf", "manual\n")
    w("d1/b.conf", "rtcsync\n")
    w("d2/a.conf", "noclientlog\n")
    w("d2/c.conf", "lock_all\n# comment\n\n  port   5\n")
    w("d2/readme", "not a conf\n")
    w("d2/x.sources", "server 192.0.2.9 iburst\nnonsense line\n")
    w("d3/bad.conf", "rtcsync\n\nbogus directive\n")
    w("d4/z.conf", "makestep 1\n")
    os.makedirs(os.path.join(root, "empty"), exist_ok=True)
    w("inc/good.inc", "cmdport 5\nmaxupdateskew 100\n")
    w("inc/bad.inc", "logdir /var/log/x\n\nfoo\n")
    w("inc/nested.inc", "include @D@/inc/good.inc\nrtcsync\n")
    w("inc/long.inc", "driftfile /" + "a" * 2040 + "\n")
    for i in range(14):
        w("chain/c%d.conf" % i, "include @D@/chain/c%d.conf\n" % (i + 1))
    w("chain/c14.conf", "rtcsync\n")
    w("self.conf", "include @D@/self.conf\n")
    # @D@ inside fixture files
    for dirpath, _, files in os.walk(root):
        for fn in files:
            p = os.path.join(dirpath, fn)
            with open(p) as f:
                t = f.read()
            if "@D@" in t:
                with open(p, "w") as f:
                    f.write(t.replace("@D@", root))


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    out = p.stdout.decode("utf-8", "replace")
    fatal = None
    for l in p.stderr.decode("utf-8", "replace").splitlines():
        l = STAMP.sub("", l)
        if l.startswith("Fatal error : "):
            fatal = l[len("Fatal error : "):]
    return p.returncode, out, fatal


def compare(ref, got):
    """Returns None when tempus agrees with chronyd, else a reason."""
    (rrc, rout, rerr), (grc, gout, gerr) = ref, got
    if rrc != grc:
        return "exit %d vs %d (chronyd error: %s; tempus error: %s)" % (rrc, grc, rerr, gerr)
    if rout != gout:
        return "stdout differs:\n--- chronyd\n%s--- tempus\n%s" % (rout, gout)
    if (rerr is None) != (gerr is None):
        return "error presence differs: %r vs %r" % (rerr, gerr)
    if rerr is not None and rerr != gerr:
        # chronyd names no line for some errors (missing include, include depth); tempus may.
        if LOC.search(rerr) or not (gerr.startswith(rerr) and LOC.search(gerr)):
            return "error differs: %r vs %r" % (rerr, gerr)
    return None


def run_case(c, root, wdir, tempusd):
    """Runs one case through both daemons in wdir; returns (chronyd's result, reason)."""
    if "args" in c:
        lines = [l.replace("@D@", root) for l in c["args"]]
        ref = run([CHRONYD, "-x", "-p"] + lines, wdir)
        got = run([tempusd, "-p"] + lines, wdir)
    else:
        with open(os.path.join(wdir, "t.conf"), "wb") as f:
            f.write(c["text"].replace("@D@", root).encode("utf-8", "surrogateescape"))
        ref = run([CHRONYD, "-x", "-p", "-f", "t.conf"], wdir)
        got = run([tempusd, "-p", "-f", "t.conf"], wdir)
    return ref, compare(ref, got)


def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    if not args:
        print(__doc__)
        return 2
    tempusd = os.path.abspath(args[0])
    cases_file = args[1] if len(args) > 1 else os.path.join(HERE, "cases.txt")
    if not os.access(CHRONYD, os.X_OK):
        print("SKIP: chronyd not installed")
        return 77
    if os.geteuid() != 0 or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        print("SKIP: needs root and unshare -n (chronyd resolves names while parsing)")
        return 77

    if os.environ.get("TEMPUS_DIFFTEST_NETNS") != "1":
        # Everything below runs in one fresh network namespace (one unshare, not thousands).
        env = dict(os.environ, TEMPUS_DIFFTEST_NETNS="1")
        return subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__)] +
                              sys.argv[1:], env=env).returncode

    seed = int(os.environ.get("TEMPUS_DIFFTEST_SEED", "4321"))
    count = int(os.environ.get("TEMPUS_DIFFTEST_RANDOM", "300"))
    cases = load_cases(cases_file) + generated_cases() + random_cases(seed, count)
    if os.environ.get("TEMPUS_DIFFTEST_SWEEP") == "1":
        cases += sweep_cases()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="tempus-conf-") as root:
        make_fixtures(root)
        # A private copy: rebuilding the tree while the test runs cannot swap it out.
        binary = os.path.join(root, "tempusd-under-test")
        shutil.copy2(tempusd, binary)
        results = [None] * len(cases)

        def work(k):
            wdir = os.path.join(root, "w%d" % k)
            os.makedirs(wdir)
            os.symlink(os.path.join(root, "inc"), os.path.join(wdir, "inc"))
            for i in range(k, len(cases), JOBS):
                try:
                    results[i] = run_case(cases[i], root, wdir, binary)
                except Exception as e:  # a harness failure is a failure, not a crash
                    results[i] = ((None, "", None), "harness: %r" % e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(JOBS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for c, (ref, why) in zip(cases, results):
            if why is not None:
                failures += 1
                print("FAIL %s: %s" % (c["name"], why))
            elif verbose:
                print("ok   %s: exit %s %s" % (c["name"], ref[0], ref[2] or ""))
        # Whole real-world files: chronyd's and ours must accept them identically.
        # Whole real-world files, and our examples/: both must accept them, identically.
        examples = os.path.join(HERE, "..", "..", "..", "examples")
        reals = ["/etc/chrony/chrony.conf", "/usr/share/chrony/chrony.conf"] + sorted(
            os.path.join(examples, f) for f in os.listdir(examples) if f.endswith(".conf"))
        for real in reals:
            if os.path.exists(real):
                ref = run([CHRONYD, "-x", "-p", "-f", real], root)
                got = run([binary, "-p", "-f", real], root)
                why = compare(ref, got) or (None if got[0] == 0 else "rejected: %s" % got[2])
                if why is not None:
                    failures += 1
                    print("FAIL %s: %s" % (real, why))
    print("%d cases, %d failures" % (len(cases) + len(reals), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
