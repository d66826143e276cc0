#!/usr/bin/env python3
"""Interactive mode on a terminal: tempusc in a pseudo-terminal shows its banner and the
`tempusc> ` prompt, runs a typed command through libedit (with Tab completion of the command
word), and leaves on `quit` with the last command's status. Replays chrony43/tracking.
Usage: tty_check.py TEMPUSC SHARED_DIR
"""
import os
import pty
import select
import sys
import time

tempusc, shared = sys.argv[1], sys.argv[2]
vec = os.path.join(shared, "vectors", "cmdmon", "chrony43", "tracking")


def read_until(fd, needle, timeout=10.0, buf=b""):
    end = time.time() + timeout
    while needle not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


pid, fd = pty.fork()
if pid == 0:
    os.environ["TEMPUS_REPLAY"] = vec
    os.environ["TERM"] = "dumb"
    os.execv(tempusc, [tempusc, "-n"])

ok = True
out = read_until(fd, b"tempusc> ")
if b"tempusc (tempus) version" not in out or b"tempusc> " not in out:
    print("not ok banner and prompt:", out)
    ok = False
os.write(fd, b"track\t\r")  # Tab completes "tracking"
out = read_until(fd, b"Leap status")
out = read_until(fd, b"\ntempusc> ", buf=out)
if b"Reference ID    : CF404DC8 (::1)" not in out or b"Leap status     : Normal" not in out:
    print("not ok command output:", out)
    ok = False
os.write(fd, b"quit\r")
end = time.time() + 10
status = None
while time.time() < end:
    wpid, st = os.waitpid(pid, os.WNOHANG)
    if wpid:
        status = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
        break
    read_until(fd, b"\x00", 0.2)
if status is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    print("not ok quit did not end tempusc")
    ok = False
elif status != 0:
    print("not ok exit status", status)
    ok = False
print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
sys.exit(0 if ok else 1)
