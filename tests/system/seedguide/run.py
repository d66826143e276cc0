#!/usr/bin/python3
"""Runs every command of docs/SEED-GUIDE.md in network namespaces of its own.

The guide marks each block it wants run with an HTML comment on the line before the fence:
  <!-- seedguide run HOST -->          a ```sh block: each line is a command run on HOST
  <!-- seedguide file HOST PATH -->    a block whose text is written to PATH on HOST
  <!-- seedguide output -->            a ```text block: what the previous run block printed
HOST is `server` (192.168.111.128), `client` (the three clients 192.168.111.11-13: files and
service commands go to all three, other commands run on the first), or `admin` (the machine
the administrator types on: the test's own, for commands that touch no host of the topology).
Every ```sh block of the guide must be marked, so no command goes unexercised.

Commands that would install packages, drive systemd, a firewall or real hosts cannot run here:
REWRITES below maps each of them, explicitly, to what the test does instead. Everything else
runs literally with sh (with `sudo ` dropped: the test is root) inside the host's namespace,
with the build's tempusd first on PATH and `tempusc` a wrapper that adds `-h` with the host's
control socket (there is no /run/tempus in the test).

Default mode checks: every command exits 0, each output block has the same shape as the
captured output (numbers, dates and column padding masked), and ASSERTIONS hold on the real
output. `--update` rewrites the guide's output blocks from this run, so the guide shows what
tempus really printed. All daemons run with -x (never the clock); the namespaces have no link
to the outside (upstream names are replaced by silent addresses in the test network, never
resolved). Exit 0 pass, 1 fail, 77 skip (no root / ip netns / build).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("TEMPUS_BUILD")
SRC = os.environ.get("TEMPUS_SRC") or os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
GUIDE = os.path.join(SRC, "docs", "SEED-GUIDE.md")
SERVER = "192.168.111.128"
CLIENTS = ["192.168.111.11", "192.168.111.12", "192.168.111.13"]
# The seed's upstream servers: in the test, addresses of the test network where nothing answers.
UPSTREAMS = {
    "ntp.ntsc.ac.cn": "192.168.111.201",
    "ntp.aliyun.com": "192.168.111.202",
    "cn.ntp.org.cn": "192.168.111.203",
    "ntp.tencent.com": "192.168.111.204",
}

# Guide command (regex on the line, `sudo ` already dropped) -> what the test does instead.
# An action is ("skip", why) / ("check", shell command run on the admin side, why) /
# ("daemon", why): start tempusd -x -d on each host of the block with its /etc/tempus.conf /
# ("sub", regex replacement applied to the command, why): the command then runs.
REWRITES = [
    (r"^apt(-get)? install \./tempus_.*\.deb$",
     ("check", 'test -x "$BUILD/tempusd" && test -x "$BUILD/tempusc"',
      "no package install here: the test runs the build's tempusd and tempusc")),
    (r"^(dnf|yum) (-y )?install .*",
     ("check", 'test -x "$BUILD/tempusd" && test -x "$BUILD/tempusc"',
      "no package install here: the test runs the build's tempusd and tempusc")),
    (r"^meson (setup|compile|install) .*",
     ("check", 'test -x "$BUILD/tempusd" && test -x "$BUILD/tempusc"',
      "the build under test is the one meson test runs from")),
    (r"^systemctl enable --now tempusd$",
     ("daemon", "tempusd -x -d -u root -f <host>/tempus.conf in the host's namespace")),
    (r"^systemctl (status|restart|start) tempusd.*",
     ("skip", "no systemd in the test's namespaces; the daemon started above is checked alive")),
    (r"^firewall-cmd .*",
     ("skip", "no firewall in the test's namespaces (nothing blocks port 123 there)")),
    (r"^(nft|ufw) .*", ("skip", "no firewall in the test's namespaces")),
    (r"^(cd deploy/ansible|cp inventory\.example\.ini inventory\.ini|"
     r"ansible-playbook (site|check)\.yml( --check --diff)?)$",
     ("check", '[ -d "$SRC/deploy/ansible" ] || exit 0; '
      'for f in site.yml check.yml inventory.example.ini; do '
      'test -f "$SRC/deploy/ansible/$f" || exit 1; done',
      "not run (needs SSH hosts: tests/deploy runs it); the files the guide names exist")),
    (r"^ssh-(keygen|copy-id|keyscan) .*",
     ("skip", "no SSH hosts here: tests/deploy sets up keys for its test hosts")),
    (r"^tempusd -p$",
     ("sub", r"tempusd -p -f {conf}", "-f: the host's tempus.conf is in the test's directory")),
    (r"^tempusd (-[qQ]) (.*)$",
     ("sub", r"tempusd \1 -x \2", "-x added: never the test machine's clock")),
]

# Shape is not enough for these: facts of the seed's topology the output must show.
ASSERTIONS = {
    ("client", "tempusd -Q 'server 192.168.111.128 iburst'"):
        [r"System clock wrong by -?\d+\.\d+ seconds \(ignored\)"],
    ("client", "tempusd -q 'server 192.168.111.128 iburst'"):
        [r"System clock wrong by -?\d+\.\d+ seconds \(step\)"],
    ("client", "tempusc tracking"):
        [r"(?m)^Reference ID +: C0A86F80 \(192\.168\.111\.128\)$", r"(?m)^Stratum +: 11$",
         r"(?m)^Leap status +: Normal$"],
    ("client", "tempusc ntpdata"):
        [r"(?m)^Remote address +: 192\.168\.111\.128 \(C0A86F80\)$", r"(?m)^Stratum +: 10$",
         r"(?m)^Mode +: Server$", r"(?m)^Reference ID +: 7F7F0101"],
    ("client", "tempusc sources -v"):
        [r"(?m)^\^\* 192\.168\.111\.128 +10 ", r"Source mode +'\^' = server"],
    ("client", "tempusc sources"): [r"(?m)^\^\* 192\.168\.111\.128 +10 "],
    ("client", "tempusc sourcestats"): [r"(?m)^192\.168\.111\.128 +\d+ +\d+ "],
    ("client", "tempusc activity"): [r"1 sources online"],
    ("client", "tempusc -j tracking"): [r'"ref_id":"C0A86F80"', r'"stratum":11'],
    ("server", "tempusd -p"): [r"(?m)^local stratum 10$", r"(?m)^allow 192\.168\.111\.0/24$"],
    ("server", "tempusc tracking"):
        [r"(?m)^Reference ID +: 7F7F0101 \(\)$", r"(?m)^Stratum +: 10$"],
    ("server", "tempusc sources"): [r"(?m)^\^\? 192\.168\.111\.201 "],
    ("server", "tempusc -E sources"): [r"(?m)^\^\? 192\.168\.111\.201 "],
    ("server", "tempusc activity"): [r"4 sources online"],
    ("server", "tempusc clients"): [r"(?m)^192\.168\.111\.11 +[1-9]"],
    ("server", "tempusc serverstats"): [r"(?m)^NTP packets received +: [1-9]"],
}

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!-- seedguide (run|file|output)(?: (\S+))?(?: (\S+))? -->\s*$")


def parse(lines):
    """The guide's blocks in order: dicts with kind, host, path, lang, text, start, end."""
    blocks, i, pending = [], 0, None
    while i < len(lines):
        m = MARK.match(lines[i])
        if m:
            pending = {"kind": m.group(1), "host": m.group(2), "path": m.group(3), "mark": i + 1}
            i += 1
            continue
        f = FENCE.match(lines[i])
        if f and f.group(1):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            b = pending or {"kind": None}
            b.update(lang=f.group(1), text="".join(lines[i + 1:j]), start=i + 1, end=j)
            if pending and pending["mark"] != i:
                raise SystemExit("guide line %d: marker not right above its block" % pending["mark"])
            blocks.append(b)
            pending = None
            i = j + 1
            continue
        i += 1
    return blocks


def mask(text):
    """The shape of an output: what stays the same from run to run."""
    t = re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d+ [\d:]+ \d+", "DATE", text)
    t = re.sub(r"\d{4}-\d\d-\d\dT[\d:]+Z", "DATE", t)
    t = re.sub(r"starting \([^)]*\)", "starting (FEATURES)", t)  # depend on the build's libraries
    t = re.sub(r"\b(fast|slow)\b", "DIR", t)  # the sign of an estimate near zero
    t = re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?(ns|us|ms|s|m|h|d|y)?\b", "#", t)
    t = re.sub(r"#(\[ *#\])?", "#", t)
    return [re.sub(r"[ \t]+", " ", ln).strip() for ln in t.strip("\n").split("\n")]


class Net:
    """The seed's LAN in namespaces: a bridge namespace and one veth per host."""

    def __init__(self, tag):
        self.ns = {"br": tag + "-br", "server": tag + "-srv"}
        for k in range(3):
            self.ns["c%d" % k] = "%s-c%d" % (tag, k)
        self.made = []

    def ip(self, *a):
        subprocess.run(["ip"] + list(a), check=True)

    def up(self):
        for n in self.ns.values():
            self.ip("netns", "add", n)
            self.made.append(n)
        br = self.ns["br"]
        self.ip("-n", br, "link", "add", "br0", "type", "bridge")
        self.ip("-n", br, "link", "set", "br0", "up")
        hosts = [("server", SERVER)] + [("c%d" % k, a) for k, a in enumerate(CLIENTS)]
        for i, (h, addr) in enumerate(hosts):
            ns = self.ns[h]
            self.ip("-n", br, "link", "add", "p%d" % i, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.ip("-n", br, "link", "set", "p%d" % i, "master", "br0", "up")
            self.ip("-n", ns, "link", "set", "lo", "up")
            self.ip("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            self.ip("-n", ns, "link", "set", "eth0", "up")

    def down(self):
        for n in self.made:
            subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)


def main():
    update = "--update" in sys.argv[1:]
    if not BUILD:
        print("TEMPUS_BUILD not set (run through meson test)")
        return 1
    if os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        print("SKIP: ip netns unavailable")
        return 77
    for b in ("tempusd", "tempusc"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            print("SKIP: %s not built" % b)
            return 77
    with open(GUIDE, encoding="utf-8") as f:
        lines = f.readlines()
    blocks = parse(lines)
    fails = []
    for b in blocks:
        if b["lang"] == "sh" and b["kind"] != "run":
            fails.append("guide line %d: a ```sh block without <!-- seedguide run HOST -->" % b["start"])
    if fails:
        print("\n".join("FAIL: " + x for x in fails))
        return 1

    work = tempfile.mkdtemp(prefix="tempus-seedguide.")
    os.chmod(work, 0o700)
    net = Net("tsg%d" % os.getpid())
    daemons = []  # (host, Popen)
    env = dict(os.environ, BUILD=BUILD, SRC=SRC, PATH=BUILD + ":" + os.environ.get("PATH", "/usr/bin:/bin"))

    def hostdir(h):
        d = os.path.join(work, h)
        os.makedirs(os.path.join(d, "sock"), mode=0o700, exist_ok=True)
        return d

    def hosts_of(h, all_clients):
        if h == "client":
            return ["c0", "c1", "c2"] if all_clients else ["c0"]
        return [h]

    def conf_for(h, text):
        """The guide's /etc/tempus.conf for host h, rewritten for the test (see the notes)."""
        d = hostdir(h)
        out = []
        for ln in text.splitlines():
            for name, addr in UPSTREAMS.items():
                ln = re.sub(r"\b%s\b" % re.escape(name), addr, ln)
            ln = re.sub(r"^(driftfile) /var/lib/tempus/(\S+)", r"\1 %s/\2" % d, ln)
            ln = re.sub(r"^(logdir) /var/log/tempus", r"\1 %s/log" % d, ln)
            out.append(ln)
        # test-only additions: the daemon's files in the test's directory
        out += ["pidfile %s/tempusd.pid" % d, "bindcmdaddress %s/sock/tempusd.sock" % d]
        os.makedirs(os.path.join(d, "log"), mode=0o700, exist_ok=True)
        return "\n".join(out) + "\n"

    def run_in(h, cmd):
        """Runs the command line literally with sh in h's namespace; `tempusc` there is a
        wrapper that adds `-h` with h's control socket (the one rewrite every tempusc gets)."""
        d = hostdir(h)
        bindir = os.path.join(d, "bin")
        if not os.path.exists(os.path.join(bindir, "tempusc")):
            os.makedirs(bindir, exist_ok=True)
            with open(os.path.join(bindir, "tempusc"), "w") as f:
                f.write('#!/bin/sh\nexec "%s" -h "%s" "$@"\n' %
                        (os.path.join(BUILD, "tempusc"), os.path.join(d, "sock", "tempusd.sock")))
            os.chmod(os.path.join(bindir, "tempusc"), 0o755)
        henv = dict(env, PATH=bindir + ":" + env["PATH"])
        try:
            p = subprocess.run(["ip", "netns", "exec", net.ns[h], "sh", "-c", cmd], env=henv,
                               capture_output=True, text=True, timeout=120, cwd=d)
        except subprocess.TimeoutExpired as e:
            return 124, "timed out after 120 s: %s\n%s" % (e.stdout or "", e.stderr or "")
        return p.returncode, p.stdout + p.stderr

    captured = {}  # block index -> output text
    try:
        net.up()
        last_run = None
        for bi, b in enumerate(blocks):
            if b["kind"] == "file":
                for h in hosts_of(b["host"], True):
                    path = os.path.join(hostdir(h), "tempus.conf")
                    if b["path"] != "/etc/tempus.conf":
                        fails.append("line %d: only /etc/tempus.conf is known" % b["start"])
                    with open(path, "w") as f:
                        f.write(conf_for(h, b["text"]))
                print("file: %s %s (%d lines)" % (b["host"], b["path"], len(b["text"].splitlines())))
                continue
            if b["kind"] == "output":
                if last_run is None:
                    fails.append("line %d: output block with no run block before it" % b["start"])
                    continue
                got = captured[last_run]
                if not update and mask(got) != mask(b["text"]):
                    fails.append("line %d: output of '%s' differs in shape from the guide" %
                                 (b["start"], blocks[last_run]["text"].strip()))
                    print("---- guide:\n" + b["text"] + "---- this run:\n" + got)
                b["new"] = got
                continue
            if b["kind"] != "run":
                continue
            last_run = bi
            out_all = ""
            for cmd in b["text"].splitlines():
                cmd = cmd.strip()
                if not cmd or cmd.startswith("#"):
                    continue
                c = re.sub(r"^sudo ", "", cmd)
                action, arx = None, None
                for rx, act in REWRITES:
                    if re.match(rx, c):
                        action, arx = act, rx
                        break
                if action and action[0] == "skip":
                    print("not run: %s  (%s)" % (cmd, action[1]))
                    continue
                if action and action[0] == "check":
                    r = subprocess.run(["sh", "-c", action[1]], env=env)
                    print("%s: %s  -> %s  (%s)" % ("ok" if r.returncode == 0 else "FAIL", cmd, action[1], action[2]))
                    if r.returncode:
                        fails.append("%s: test equivalent failed" % cmd)
                    continue
                if action and action[0] == "daemon":
                    for h in hosts_of(b["host"], True):
                        d = hostdir(h)
                        log = open(os.path.join(d, "tempusd.out"), "w")
                        p = subprocess.Popen(["ip", "netns", "exec", net.ns[h], os.path.join(BUILD, "tempusd"),
                                              "-x", "-d", "-u", "root", "-f", os.path.join(d, "tempus.conf")],
                                             stdout=log, stderr=subprocess.STDOUT)
                        daemons.append((h, p))
                        print("ok: %s on %s -> tempusd -x -d -f %s/tempus.conf" % (cmd, h, d))
                    # the control socket is there once the daemon is up
                    for h in hosts_of(b["host"], True):
                        s = os.path.join(hostdir(h), "sock", "tempusd.sock")
                        for _ in range(100):
                            if os.path.exists(s):
                                break
                            time.sleep(0.1)
                    continue
                if action and action[0] == "sub":
                    c = re.sub(arx, action[1], c)
                    print("rewritten: %s -> %s  (%s)" % (cmd, c, action[2]))
                for h in hosts_of(b["host"], False):
                    rc, out = run_in(h, c.replace("{conf}", os.path.join(hostdir(h), "tempus.conf")))
                    out_all += out
                    ok = rc == 0
                    for rx in ASSERTIONS.get((b["host"], cmd.replace("sudo ", "", 1)), []):
                        if not re.search(rx, out):
                            ok = False
                            fails.append("%s on %s: output lacks /%s/" % (cmd, h, rx))
                    if rc != 0:
                        fails.append("%s on %s: exit status %d" % (cmd, h, rc))
                    print("%s: %s on %s%s" % ("ok" if ok else "FAIL", c, h, "" if ok else ":\n" + out))
            captured[bi] = out_all
        for h, p in daemons:
            if p.poll() is not None:
                fails.append("tempusd on %s exited (%s)" % (h, p.returncode))
        unchecked = [k for k in ASSERTIONS if not any(
            b["kind"] == "run" and b["host"] == k[0] and
            k[1] in [re.sub(r"^sudo ", "", x.strip()) for x in b["text"].splitlines()] for b in blocks)]
        for k in unchecked:
            fails.append("assertion for '%s' on %s: the guide has no such command" % (k[1], k[0]))
    finally:
        for h, p in daemons:
            p.send_signal(signal.SIGTERM)
        for h, p in daemons:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
        net.down()
        if fails:
            for h in sorted(set(h for h, _ in daemons)):
                print("---- %s/tempusd.out (last 15 lines)" % h)
                with open(os.path.join(work, h, "tempusd.out")) as f:
                    print("".join(f.readlines()[-15:]), end="")
        if os.environ.get("KEEP_WORK") == "1":
            print("work dir kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    if update and not fails:
        for b in reversed(blocks):
            if b["kind"] == "output" and "new" in b:
                lines[b["start"]:b["end"]] = [ln + "\n" for ln in b["new"].rstrip("\n").split("\n")]
        with open(GUIDE, "w", encoding="utf-8") as f:
            f.writelines(lines)
        print("updated the output blocks of " + GUIDE)
    for x in fails:
        print("FAIL: " + x)
    if fails:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
