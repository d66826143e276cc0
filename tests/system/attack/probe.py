#!/usr/bin/python3
"""Probes a running tempusd (-x) on loopback with malformed and hostile requests.

Usage: probe.py NTP_PORT CMD_PORT UNIX_SOCKET WORKDIR

NTP (from 127.0.0.1, allowed): every mode 0-7 x version 0-7 x 24 lengths (0..1024 bytes),
plus extension-field and MAC shapes; every reply must be no longer than its request (matched
by the origin timestamp) and mode 6/7 (control/private) requests get nothing. From 127.0.0.2
(denied): nothing at all.

Control protocol over UDP (from 127.0.0.1): every code 0-80 x versions 1,4,5,6,7 x lengths
around the header sizes, the expected length and the 860-byte limit, plus bad pkt_type/res1;
checked against chronyd 4.3's validation order (spec chrony-cmdmon-protocol.md 4.4): no reply
when short (< 28), long (> 860), not a request, res1/res2 set or version <= 4; status 18
(BADPKTVERSION) for versions 5 and 7, 3 (INVALID) for unknown codes, 19 (BADPKTLENGTH) when
shorter than expected, 2 (UNAUTH) for every privileged command, and no reply ever longer than
its request. From 127.0.0.3 (not in cmdallow): nothing at all.
Control protocol over the Unix socket: every code but SHUTDOWN, five lengths: replies no longer
than requests. Then the daemon must still answer tracking on both transports.

Prints one summary line per part; exit 0 pass, 1 fail.
"""
import os
import socket
import struct
import sys
import time

# chronyd 4.3's expected request lengths (absent = not accepted: INVALID), codes 0..71.
EXPECTED = {0: 28, 1: 60, 2: 60, 3: 68, 4: 44, 5: 44, 6: 28, 7: 44, 8: 44, 9: 28, 10: 32,
            11: 40, 13: 28, 14: 32, 15: 76, 16: 28, 17: 44, 18: 44, 19: 44, 20: 44, 21: 44,
            22: 44, 23: 44, 24: 44, 25: 40, 26: 40, 29: 40, 30: 28, 31: 28, 33: 104, 34: 84,
            35: 56, 36: 28, 37: 28, 41: 416, 42: 28, 43: 28, 44: 48, 45: 44, 46: 44, 47: 44,
            48: 28, 49: 28, 50: 28, 51: 52, 52: 28, 53: 28, 54: 72, 56: 36, 57: 152, 62: 28,
            63: 28, 64: 372, 65: 284, 66: 28, 67: 52, 68: 520, 69: 76, 70: 28, 71: 28,
            # tempusd also takes the newer MODIFY_SELECTOPTS (4.4+), MODIFY_OFFSET and LOCAL3
            # (4.6+) with their 4.8 lengths (chronyd 4.3 answers INVALID)
            72: 52, 73: 48, 74: 48}
OPEN_UDP = {0, 10, 14, 15, 33, 34, 35, 41, 44, 51, 65}
SHUTDOWN = 62
UNAUTH, INVALID, BADPKTVERSION, BADPKTLENGTH = 2, 3, 18, 19

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 20:
        print("FAIL:", msg, flush=True)


def udp_from(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((addr, 0))
    return s


def drain(sock, wait_s):
    """All datagrams arriving within wait_s of the last one."""
    out = []
    sock.settimeout(wait_s)
    while True:
        try:
            out.append(sock.recv(4096))
        except (socket.timeout, BlockingIOError):
            return out


def exchange(sock, dest, packets, key, chunk=16, wait_s=0.02):
    """Sends packets (bytes) in chunks; returns {key(request): [replies]} and stray replies."""
    by_key = {key(p): p for p in packets if key(p) is not None}
    got = {}
    stray = []
    for i in range(0, len(packets), chunk):
        # blocking sends: a Unix datagram socket pushes back when tempusd's queue is full
        sock.settimeout(5.0)
        for p in packets[i:i + chunk]:
            sock.sendto(p, dest)
        for r in drain(sock, wait_s):
            k = key(r, reply=True)
            if k in by_key:
                got.setdefault(k, []).append(r)
            else:
                stray.append(r)
    # The rest: until every request has its reply, or nothing came for 2 s (0.3 s before: a
    # daemon that a loaded machine ran late lost its last replies). Only requests that get
    # no reply cost the wait.
    sock.settimeout(2.0)
    while len(got) < len(by_key):
        try:
            r = sock.recv(4096)
        except (socket.timeout, BlockingIOError):
            break
        k = key(r, reply=True)
        if k in by_key:
            got.setdefault(k, []).append(r)
        else:
            stray.append(r)
    # and duplicates or strays right behind them
    for r in drain(sock, 0.05):
        k = key(r, reply=True)
        if k in by_key:
            got.setdefault(k, []).append(r)
        else:
            stray.append(r)
    return by_key, got, stray


# ---- NTP ----------------------------------------------------------------------------------
NTP_LENGTHS = [0, 1, 4, 12, 44, 47, 48, 49, 52, 56, 60, 64, 68, 72, 76, 80, 96, 100, 112, 128,
               200, 256, 512, 1024]


def ntp_packet(mode, version, length, ident):
    p = bytearray(max(length, 48))
    p[0] = (version << 3) | mode
    p[2] = 6  # poll
    p[40:48] = ident
    for i in range(48, len(p)):
        p[i] = (i * 7 + 3) & 0xFF
    return bytes(p[:length])


def ntp_ef_shapes(ident):
    base = bytearray(ntp_packet(3, 4, 48, ident))
    out = []
    for ef_type, ef_len in [(0x0104, 16), (0x0104, 28), (0x0204, 16), (0xF323, 64),
                            (0x0104, 1000), (0x0000, 16), (0x0104, 12), (0x0104, 20)]:
        body = bytes(max(ef_len - 4, 0))
        out.append(bytes(base) + struct.pack("!HH", ef_type, ef_len) + body)
    out.append(bytes(base) + struct.pack("!I", 1) + bytes(16))  # MD5 MAC shape
    out.append(bytes(base) + struct.pack("!I", 1) + bytes(20))  # SHA1 MAC shape
    out.append(bytes(base) + struct.pack("!I", 0))  # crypto-NAK shape
    return out


def ntp_key(p, reply=False):
    if len(p) < 48:
        return None
    return bytes(p[24:32]) if reply else bytes(p[40:48])


def probe_ntp(port):
    s = udp_from("127.0.0.1")
    packets, n = [], 0
    for mode in range(8):
        for version in range(8):
            for length in NTP_LENGTHS:
                n += 1
                packets.append(ntp_packet(mode, version, length, struct.pack("!II", 0x7E000000, n)))
    for k in range(1, 12):
        n += 1
        packets.append(ntp_ef_shapes(struct.pack("!II", 0x7E000000, n))[k - 1])
    short = [p for p in packets if len(p) < 48]
    by_key, got, stray = exchange(s, ("127.0.0.1", port), packets, ntp_key)
    if stray:
        fail(f"NTP: {len(stray)} replies matching no request (short requests answered?)")
    answered = longest = 0
    for k, replies in got.items():
        req = by_key[k]
        mode = req[0] & 7
        if len(replies) > 1:
            fail(f"NTP: {len(replies)} replies to one request (mode {mode}, {len(req)} bytes)")
        for r in replies:
            answered += 1
            longest = max(longest, len(r))
            if len(r) > len(req):
                fail(f"NTP: {len(r)}-byte reply to a {len(req)}-byte request (mode {mode})")
        if mode in (6, 7):
            fail(f"NTP: mode {mode} request answered")
    print(f"NTP from an allowed address: {len(packets)} requests ({len(short)} shorter than"
          f" 48 bytes), {answered} answered, none longer than its request (longest reply"
          f" {longest} bytes), no mode 6/7 answer", flush=True)
    # denied address
    d = udp_from("127.0.0.2")
    good = [ntp_packet(3, 4, 48, struct.pack("!II", 0x7D000000, i)) for i in range(20)]
    _, got, stray = exchange(d, ("127.0.0.1", port), good, ntp_key)
    if got or stray:
        fail(f"NTP: denied address got {sum(map(len, got.values())) + len(stray)} replies")
    print(f"NTP from a denied address: {len(good)} valid requests, 0 replies", flush=True)
    # positive control: the same request from the allowed address is answered
    _, got, _ = exchange(s, ("127.0.0.1", port),
                         [ntp_packet(3, 4, 48, struct.pack("!II", 0x7C000000, 1))], ntp_key)
    if not got:
        fail("NTP: control request from the allowed address not answered")


# ---- control protocol ---------------------------------------------------------------------
seq_counter = [0x10000]


def cmd_packet(code, version, length, pkt_type=1, res1=0):
    seq_counter[0] += 1
    hdr = struct.pack("!BBBBHHIII", version, pkt_type, res1, 0, code, 0, seq_counter[0], 0, 0)
    p = (hdr + bytes(max(0, length - 20)))[:length]
    return p


def cmd_key(p, reply=False):
    if reply:
        return struct.unpack("!I", p[16:20])[0] if len(p) >= 20 else None
    return struct.unpack("!I", p[8:12])[0] if len(p) >= 12 else None


def expected_status(code, version, length, pkt_type, res1, udp):
    """None = no reply, else the status chronyd 4.3 answers with (-1: any)."""
    if length < 28 or length > 860 or pkt_type != 1 or res1 != 0:
        return None
    if version != 6:
        return BADPKTVERSION if version >= 5 else None
    exp = EXPECTED.get(code, 0)
    if exp == 0:
        return INVALID
    if length < exp:
        return BADPKTLENGTH
    if udp and code not in OPEN_UDP:
        return UNAUTH
    return -1


def cmd_variants(codes, versions, udp):
    out = []
    for code in codes:
        exp = EXPECTED.get(code, 28)
        lengths = sorted({0, 1, 12, 19, 20, 27, 28, exp - 1, exp, exp + 1, 860, 861, 1024}
                         if udp else {28, exp - 1, exp, exp + 1, 860})
        for version in versions:
            for length in lengths:
                if length >= 0:
                    out.append((code, version, length, 1, 0))
        out.append((code, 6, exp, 2, 0))  # a reply, not a request
        out.append((code, 6, exp, 1, 1))  # res1 set
    return out


def run_cmd(sock, dest, variants, udp, label):
    packets = [cmd_packet(c, v, n, t, r) for c, v, n, t, r in variants]
    meta = {cmd_key(p): var for p, var in zip(packets, variants) if cmd_key(p) is not None}
    by_key, got, stray = exchange(sock, dest, packets, cmd_key)
    if stray:
        fail(f"{label}: {len(stray)} replies matching no request")
    answered = unauth = 0
    statuses = {}
    for k, req in by_key.items():
        code, version, length, pkt_type, res1 = meta[k]
        replies = got.get(k, [])
        want = expected_status(code, version, length, pkt_type, res1, udp)
        for r in replies:
            answered += 1
            if len(r) > len(req):
                fail(f"{label}: {len(r)}-byte reply to a {len(req)}-byte request (code {code})")
        if len(replies) > 1:
            fail(f"{label}: {len(replies)} replies to one request (code {code})")
        if not udp:
            continue  # over the Unix socket only the length rule is checked
        if want is None:
            if replies:
                fail(f"{label}: code {code} v{version} len {length} type {pkt_type} res1 {res1}"
                     f" answered, chronyd drops it")
            continue
        if not replies:
            if want != -1 or length >= EXPECTED.get(code, 0):
                fail(f"{label}: code {code} v{version} len {length}: no reply, want status"
                     f" {want}")
            continue
        status = struct.unpack("!H", replies[0][8:10])[0]
        statuses[status] = statuses.get(status, 0) + 1
        if want != -1 and status != want:
            fail(f"{label}: code {code} v{version} len {length}: status {status}, want {want}")
        if want == UNAUTH and status == UNAUTH:
            unauth += 1
        if want == -1 and status == UNAUTH:
            fail(f"{label}: open command {code} refused over UDP")
    print(f"{label}: {len(packets)} requests, {answered} answered, none longer than its"
          f" request" + (f"; statuses {dict(sorted(statuses.items()))}; {unauth} privileged"
                         f" requests refused (UNAUTH)" if udp else ""), flush=True)
    return packets


def tracking_ok(sock, dest):
    p = cmd_packet(33, 6, 104)
    sock.sendto(p, dest)
    # its reply, however late a loaded machine runs the daemon (up to 10 s)
    sock.settimeout(10.0)
    while True:
        try:
            r = sock.recv(4096)
        except (socket.timeout, BlockingIOError):
            return False
        if cmd_key(r, reply=True) == cmd_key(p):
            return struct.unpack("!H", r[8:10])[0] == 0


def main():
    ntp_port, cmd_port, unix_path, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    probe_ntp(ntp_port)
    udp = udp_from("127.0.0.1")
    dest = ("127.0.0.1", cmd_port)
    run_cmd(udp, dest, cmd_variants(range(81), [1, 4, 5, 6, 7], True), True, "control/UDP")
    # not in cmdallow
    other = udp_from("127.0.0.3")
    pk = [cmd_packet(c, 6, EXPECTED.get(c, 28)) for c in sorted(OPEN_UDP)]
    _, got, stray = exchange(other, dest, pk, cmd_key)
    if got or stray:
        fail("control/UDP: an address outside cmdallow got replies")
    print(f"control/UDP from outside cmdallow: {len(pk)} open-command requests, 0 replies",
          flush=True)
    # Unix socket: every code but SHUTDOWN
    us = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    client_path = os.path.join(work, "probe.sock")
    us.bind(client_path)
    us.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    codes = [c for c in range(81) if c != SHUTDOWN]
    run_cmd(us, unix_path, cmd_variants(codes, [6], False), False, "control/Unix")
    if not tracking_ok(udp, dest) or not tracking_ok(us, unix_path):
        fail("tempusd no longer answers tracking after the probes")
    else:
        print("after the probes: tracking answered over UDP and the Unix socket", flush=True)
    us.close()
    os.unlink(client_path)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
