#!/usr/bin/python3
"""A scripted NTP server on loopback for tempusd's attack tests.

Usage: evil_ntp.py SPEC... (runs until killed, at most --max-s seconds)
SPEC = [ADDR:]PORT[,attack|,attack=KIND+KIND...][,leap=N][,offset=S]
  PORT      UDP port on ADDR (127.0.0.1; 127/8 only) to serve (stratum 2, refid 10.9.8.7, the host's clock)
  attack    around every honest reply, also send from the same address and port (attack=
            a subset: wrongorigin kodspoof dup replay kodlate latebig):
              before it: a reply with a wrong (random) origin and a time 1000 s ahead,
                         spoofed KoD RATE and DENY with wrong (random) origins;
              after it:  the same reply again (duplicate), the previous exchange's reply
                         (replay), a KoD RATE and a KoD DENY with the *right* origin (too late:
                         the exchange is over), a reply with the right origin 1000 s ahead.
  leap=N    leap indicator of the honest replies (1 = insert, 2 = delete)
  offset=S  add S seconds to the honest timestamps

Counts what it sent per port in a line "port P: honest H bogus B" on SIGTERM.
Loopback only; bounded by --max-s.
"""
import os
import select
import signal
import socket
import struct
import sys
import time

NTP_DELTA = 2208988800
KINDS = ("wrongorigin", "kodspoof", "dup", "replay", "kodlate", "latebig")


def ntp_ts(t):
    sec = int(t)
    frac = int((t - sec) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", (sec + NTP_DELTA) & 0xFFFFFFFF, frac)


def header(li, stratum, refid, ref_t, origin, rx_t, tx_t, poll=0):
    first = (li << 6) | (4 << 3) | 4
    return (struct.pack("!BBbb", first, stratum, poll, -20)
            + struct.pack("!II", 0x00000010, 0x00000020)  # root delay/dispersion ~0.25 ms
            + refid + ntp_ts(ref_t) + origin + ntp_ts(rx_t) + ntp_ts(tx_t))


def kod(code, origin):
    t = time.time()
    return header(3, 0, code, 0, origin, t, t)


class Port:
    def __init__(self, spec):
        parts = spec.split(",")
        addr, _, port = parts[0].rpartition(":")
        self.addr = addr or "127.0.0.1"
        assert self.addr.startswith("127."), "loopback only"
        self.port = int(port)
        # attack kinds: wrongorigin kodspoof dup replay kodlate latebig ("attack" = all)
        self.kinds = set()
        for p in parts[1:]:
            if p == "attack":
                self.kinds = set(KINDS)
            elif p.startswith("attack="):
                self.kinds = set(p[7:].split("+"))
                assert self.kinds <= set(KINDS), p
        self.leap = 0
        self.offset = 0.0
        for p in parts[1:]:
            if p.startswith("leap="):
                self.leap = int(p[5:])
            elif p.startswith("offset="):
                self.offset = float(p[7:])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.addr, self.port))
        self.last_reply = None
        self.honest = 0
        self.bogus = 0

    def send(self, data, addr, bogus=True):
        self.sock.sendto(data, addr)
        if bogus:
            self.bogus += 1
        else:
            self.honest += 1

    def handle(self):
        req, addr = self.sock.recvfrom(2048)
        rx = time.time() + self.offset
        if len(req) < 48 or (req[0] & 7) != 3 or not addr[0].startswith("127."):
            return
        origin = req[40:48]
        wrong = os.urandom(8)
        k = self.kinds
        if "wrongorigin" in k:
            self.send(header(0, 2, b"\x0a\x09\x08\x07", rx - 1, wrong, rx + 1000, rx + 1000),
                      addr)
        if "kodspoof" in k:
            self.send(kod(b"RATE", os.urandom(8)), addr)
            self.send(kod(b"DENY", os.urandom(8)), addr)
        tx = time.time() + self.offset
        reply = header(self.leap, 2, b"\x0a\x09\x08\x07", rx - 1, origin, rx, tx)
        self.send(reply, addr, bogus=False)
        if "dup" in k:
            self.send(reply, addr)
        if "replay" in k and self.last_reply:
            self.send(self.last_reply, addr)
        if "kodlate" in k:
            self.send(kod(b"RATE", origin), addr)
            self.send(kod(b"DENY", origin), addr)
        if "latebig" in k:
            t = time.time() + 1000
            self.send(header(0, 2, b"\x0a\x09\x08\x07", t - 1, origin, t, t), addr)
        self.last_reply = reply


def main():
    args = sys.argv[1:]
    max_s = 120.0
    if len(args) >= 2 and args[0] == "--max-s":
        max_s = float(args[1])
        args = args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 1
    ports = [Port(s) for s in args]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    end = time.monotonic() + max_s
    by_fd = {p.sock.fileno(): p for p in ports}
    print("ready", flush=True)
    while not stop and time.monotonic() < end:
        try:
            ready, _, _ = select.select(list(by_fd), [], [], 0.2)
        except InterruptedError:
            continue
        for fd in ready:
            by_fd[fd].handle()
    for p in ports:
        print(f"port {p.port}: honest {p.honest} bogus {p.bogus}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
