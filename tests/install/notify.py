#!/usr/bin/python3
"""tempusd's sd_notify datagrams (src/os/notify.c), as systemd's Type=notify sees them.

Binds an AF_UNIX datagram socket (a path, then an abstract "@name"), runs
`tempusd -x -d -U -f CONF` with NOTIFY_SOCKET pointing at it (no sources, no NTP port, no
cmdport: nothing leaves the machine), expects READY=1 once the control socket exists, then
sends SIGTERM and expects STOPPING=1 before the daemon exits with 0; once more with the
seccomp allow-list (-F 1) when the build has it.
Usage: notify.py TEMPUSD. Exit 0 pass, 1 fail, 77 skip.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 15


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def recv_fields(sock, what):
    try:
        data = sock.recv(4096)
    except socket.timeout:
        fail("no %s datagram within %d s" % (what, TIMEOUT_S))
    lines = data.decode().split("\n")
    fields = dict(l.split("=", 1) for l in lines if "=" in l)
    print("received %r" % data.decode())
    return fields


def run_once(tempusd, tmp, notify_name, bind_addr, extra=(), extra_env=None):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(bind_addr)
    sock.settimeout(TIMEOUT_S)
    cmdsock = os.path.join(tmp, "tempusd.sock")
    conf = os.path.join(tmp, "tempus.conf")
    with open(conf, "w") as f:
        f.write("cmdport 0\nport 0\nbindcmdaddress %s\npidfile %s/tempusd.pid\n" % (cmdsock, tmp))
    env = dict(os.environ, NOTIFY_SOCKET=notify_name, **(extra_env or {}))
    log = open(os.path.join(tmp, "tempusd.log"), "w")
    p = subprocess.Popen([tempusd, "-x", "-d", "-U", *extra, "-f", conf], env=env, stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        f = recv_fields(sock, "READY")
        if f.get("READY") != "1":
            fail("first datagram is not READY=1: %r" % f)
        if not os.path.exists(cmdsock):
            fail("READY=1 came before the control socket %s was open" % cmdsock)
        if p.poll() is not None:
            fail("tempusd exited after READY=1 (status %s)" % p.returncode)
        p.send_signal(signal.SIGTERM)
        f = recv_fields(sock, "STOPPING")
        if f.get("STOPPING") != "1":
            fail("datagram after SIGTERM is not STOPPING=1: %r" % f)
        try:
            rc = p.wait(TIMEOUT_S)
        except subprocess.TimeoutExpired:
            fail("tempusd did not exit within %d s of SIGTERM" % TIMEOUT_S)
        if rc != 0:
            fail("tempusd exited with %d after SIGTERM" % rc)
        # Nothing more: the daemon sent exactly two datagrams.
        sock.settimeout(0.2)
        try:
            extra = sock.recv(4096)
            fail("unexpected extra datagram %r" % extra)
        except socket.timeout:
            pass
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()
        sock.close()
        with open(os.path.join(tmp, "tempusd.log")) as f:
            sys.stdout.write(f.read())


def main():
    if len(sys.argv) != 2:
        print("usage: notify.py TEMPUSD")
        return 1
    tempusd = os.path.abspath(sys.argv[1])
    if not os.access(tempusd, os.X_OK):
        fail("%s is not executable" % tempusd)
    with tempfile.TemporaryDirectory(prefix="tempus-notify-") as tmp:
        path = os.path.join(tmp, "notify")
        print("== NOTIFY_SOCKET=%s" % path)
        run_once(tempusd, tmp, path, path)
        os.unlink(path)
        name = "tempus-notify-test-%d-%d" % (os.getpid(), int(time.time()))
        print("== NOTIFY_SOCKET=@%s" % name)
        run_once(tempusd, tmp, "@" + name, "\0" + name)
        # Both datagrams leave after the -F allow-list is loaded: they must pass it (as root:
        # the filter goes with the privilege drop).
        version = subprocess.run([tempusd, "-v"], capture_output=True, text=True).stdout
        if "+SCFILTER" in version and os.geteuid() == 0:
            print("== NOTIFY_SOCKET=%s with -F 1" % path)
            # LeakSanitizer's exit-time scan (ASan builds) uses calls outside the allow-list:
            # leaks are checked by the two runs above.
            asan = os.environ.get("ASAN_OPTIONS", "")
            run_once(tempusd, tmp, path, path, ("-F", "1"),
                     {"ASAN_OPTIONS": (asan + ":" if asan else "") + "detect_leaks=0"})
        else:
            print("note: no -F 1 run (build without seccomp, or not root)")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
