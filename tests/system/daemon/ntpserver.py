#!/usr/bin/python3
"""A test NTP server whose clock is offset from this host's by a known amount and drifts at a
known rate: true_server_time = host_time + offset + drift_ppm * 1e-6 * (host_time - start).

Answers NTPv4 mode 3 requests with mode 4 (stratum and refid as given) on 127.0.0.1 (or ::1)
and a port; never touches any clock. Used by tests/system/daemon/*.sh to check that tempusd
estimates a known offset (and frequency) and that -Q prints it.

usage: ntpserver.py PORT [--offset S] [--drift-ppm P] [--stratum N] [--v6] [--addr A]
                    [--pidfile F]
--addr: the loopback address to listen on (default 127.0.0.1, or ::1 with --v6).
"""
import argparse
import os
import socket
import struct
import time

NTP_EPOCH = 2208988800


def to_ntp(t):
    sec = int(t // 1)
    frac = int((t - sec) * 4294967296.0) & 0xFFFFFFFF
    return ((sec + NTP_EPOCH) & 0xFFFFFFFF) << 32 | frac


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--offset", type=float, default=0.0)
    ap.add_argument("--drift-ppm", type=float, default=0.0)
    ap.add_argument("--stratum", type=int, default=1)
    ap.add_argument("--v6", action="store_true")
    ap.add_argument("--addr")
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    fam = socket.AF_INET6 if a.v6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a.addr or ("::1" if a.v6 else "127.0.0.1"), a.port))
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    start = time.time()

    def server_time(h=None):
        if h is None:
            h = time.time()
        return h + a.offset + a.drift_ppm * 1e-6 * (h - start)

    # Kernel receive timestamps (SO_TIMESTAMPNS), so that the server's own latency does not
    # become offset error: the receive time is when the datagram arrived, not when Python
    # got to it.
    SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    refid = b"GPS\0" if a.stratum == 1 else bytes([127, 0, 0, 2])
    while True:
        data, anc, _flags, peer = s.recvmsg(1024, 256)
        rx = None
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                rx = sec + nsec * 1e-9
        t2 = server_time(rx)
        if len(data) < 48:
            continue
        li_vn_mode = data[0]
        vn = (li_vn_mode >> 3) & 7
        mode = li_vn_mode & 7
        if mode != 3 or vn < 1 or vn > 4:
            continue
        origin = data[40:48]
        poll = struct.unpack("b", data[2:3])[0]
        ref = to_ntp(t2 - 1.0)
        hdr = struct.pack("!BBbbII4sQ", (0 << 6) | (vn << 3) | 4, a.stratum, poll, -20,
                          0, 16, refid, ref)
        t3 = server_time()
        pkt = hdr + origin + struct.pack("!QQ", to_ntp(t2), to_ntp(t3))
        s.sendto(pkt, peer)


if __name__ == "__main__":
    main()
