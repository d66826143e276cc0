#!/usr/bin/python3
"""The man pages render cleanly and document what the programs implement.

1. `groff -man -Tutf8 -ww -z` prints no warning for each page (and `man -l` renders it when
   man-db is installed).
2. Every option `tempusd -h` lists has an entry (a .TP/.TQ tag) in tempusd.8's OPTIONS.
3. Every option `tempusc --help` lists, every command word `tempusc help` lists and every
   command of tempusc's command table (src/client/cmd.c all_names) has an entry in tempusc.1.
4. Every directive of tempusd's table (src/daemon/conf_directives.c) plus include/confdir has
   an entry in tempus.conf.5; those the table marks as not implemented are under
   "NOT IMPLEMENTED YET" (obsolete ones under "OBSOLETE DIRECTIVES"), the others are not.
Usage: manpages.py TEMPUSD TEMPUSC MANDIR SRCDIR. Exit 0 pass, 1 fail, 77 skip (no groff).
"""
import os
import re
import shutil
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def entries(path):
    """{section name: set of entry names (.TP/.TQ tags) in that section}."""
    out = {}
    section = ""
    tag_next = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(".SH "):
                section = line[4:].strip().strip('"')
                out.setdefault(section, set())
                continue
            if line in (".TP", ".TQ"):
                tag_next = True
                continue
            if tag_next:
                tag_next = False
                text = re.sub(r"^\.[A-Z]+\s*", "", line)
                text = re.sub(r"\\f[BIRP]", " ", text).replace("\\-", "-").replace('"', " ")
                # The entry's name is the tag's first word; ", " separates alternatives
                # ("-v, --version"). Argument words ("ntsport port") are not names.
                for part in text.split(","):
                    words = [w for w in re.split(r"[\s\[\]]+", part) if w]
                    if words:
                        out.setdefault(section, set()).add(words[0])
    return out


def all_words(sections):
    return set().union(*sections.values()) if sections else set()


def check_render(page):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                       text=True)
    if r.returncode != 0 or r.stderr.strip():
        fail("groff warnings for %s: %s" % (page, r.stderr.strip()))
    if shutil.which("man"):
        r = subprocess.run(["man", "-l", page], capture_output=True, text=True,
                           env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
        if r.returncode != 0 or r.stderr.strip() or len(r.stdout) < 500:
            fail("man -l %s: rc %d, %s" % (page, r.returncode, r.stderr.strip()))


def help_options(text):
    return {m.group(1) for m in re.finditer(r"^\s+(-[\w-]+)", text, re.M)} | \
        {m.group(1) for m in re.finditer(r",\s+(--[\w-]+)", text)}


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 1
    tempusd, tempusc, mandir, srcdir = sys.argv[1:]
    if not shutil.which("groff"):
        print("SKIP: groff is not installed (package groff-base)")
        return 77
    pages = {n: os.path.join(mandir, n) for n in ("tempusd.8", "tempusc.1", "tempus.conf.5")}
    for p in pages.values():
        check_render(p)

    # tempusd's options
    usage = subprocess.run([tempusd, "-h"], capture_output=True, text=True).stdout
    opts = help_options(usage)
    if len(opts) < 15:
        fail("tempusd -h lists only %d options: %r" % (len(opts), sorted(opts)))
    d = entries(pages["tempusd.8"])
    for o in sorted(opts):
        if o not in d.get("OPTIONS", set()):
            fail("tempusd.8 OPTIONS has no entry for %s" % o)

    # tempusc's options and commands
    usage = subprocess.run([tempusc, "--help"], capture_output=True, text=True).stdout
    opts = help_options(usage)
    if len(opts) < 10:
        fail("tempusc --help lists only %d options: %r" % (len(opts), sorted(opts)))
    c = entries(pages["tempusc.1"])
    for o in sorted(opts):
        if o not in c.get("OPTIONS", set()):
            fail("tempusc.1 OPTIONS has no entry for %s" % o)
    helptext = subprocess.run([tempusc, "help"], capture_output=True, text=True).stdout
    cmds = set()
    for m in re.finditer(r"^  (\S+)", helptext, re.M):
        cmds.update(w for w in m.group(1).split("|") if w)
    src = open(os.path.join(srcdir, "src/client/cmd.c")).read()
    table = re.search(r"all_names\[\] = \{(.*?)NULL", src, re.S)
    if not table:
        fail("all_names not found in src/client/cmd.c")
    else:
        cmds.update(re.findall(r'"(\w+)"', table.group(1)))
    if len(cmds) < 50:
        fail("only %d tempusc commands found: %r" % (len(cmds), sorted(cmds)))
    cw = c.get("COMMANDS", set())
    for cmd in sorted(cmds):
        if cmd not in cw:
            fail("tempusc.1 COMMANDS has no entry for %s" % cmd)

    # directives
    src = open(os.path.join(srcdir, "src/daemon/conf_directives.c")).read()
    rows = re.findall(r'^\s*\{"(\w+)", (K_\w+), [^,]+, [^,]+, ([01])\},', src, re.M)
    if len(rows) < 80:
        fail("only %d directives found in conf_directives.c" % len(rows))
    k = entries(pages["tempus.conf.5"])
    documented = all_words(k)
    not_yet = k.get("NOT IMPLEMENTED YET", set())
    obsolete = k.get("OBSOLETE DIRECTIVES", set())
    for name, kind, implemented in rows + [("include", "K_FUNC", "1"), ("confdir", "K_FUNC", "1")]:
        if name not in documented:
            fail("tempus.conf.5 has no entry for %s" % name)
        elif kind == "K_OBSOLETE":
            if name not in obsolete:
                fail("tempus.conf.5: %s belongs under OBSOLETE DIRECTIVES" % name)
        elif implemented == "0" and name not in not_yet:
            fail("tempus.conf.5: %s is not implemented: list it under NOT IMPLEMENTED YET" % name)
        elif implemented == "1" and name in not_yet:
            fail("tempus.conf.5: %s is implemented now: move it out of NOT IMPLEMENTED YET" % name)
    print("checked %d tempusd options, %d tempusc options, %d tempusc commands, %d directives"
          % (len(help_options(subprocess.run([tempusd, "-h"], capture_output=True,
                                             text=True).stdout)), len(opts), len(cmds),
             len(rows) + 2))
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
