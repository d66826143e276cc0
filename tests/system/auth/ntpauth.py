#!/usr/bin/python3
"""Symmetric-key probes of an NTP server on loopback (tests/system/auth/auth.sh).

usage: ntpauth.py PORT KEYFILE CASE...
Each CASE is NAME:VERSION:KEYID:HASH:DIGESTLEN:EXPECT where EXPECT is 'reply' (a reply must
come, exactly as long as the request, carrying a MAC of the same key id whose digest, over the
reply's 48 octets, checks with the key from KEYFILE) or 'none' (no reply within 0.5 s). HASH
is a hashlib name (md5, sha1, sha256, sha384, sha512); DIGESTLEN the octets sent (a digest
truncated or whole); 'bad' as HASH sends a digest with one bit flipped (MD5), 'nak' a
crypto-NAK (4 zero octets). The key values are read from KEYFILE (chrony's format), so the
probe signs with what the test gave the server, or with a value it changed.
Prints one line per case; exit 1 if any case differs from its expectation.
"""
import hashlib
import os
import socket
import struct
import sys
import time


def load_keys(path):
    keys = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w or w[0][0] in "!;#%":
                continue
            kid, val = int(w[0]), w[-1]
            if val.startswith("HEX:"):
                v = bytes.fromhex(val[4:])
            elif val.startswith("ASCII:"):
                v = val[6:].encode()
            else:
                v = val.encode()
            keys[kid] = v
    return keys


def main():
    port, keys = int(sys.argv[1]), load_keys(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    bad = 0
    for case in sys.argv[3:]:
        name, ver, kid, h, dlen, expect = case.split(":")
        ver, kid, dlen = int(ver), int(kid), int(dlen)
        req = bytearray(48)
        req[0] = ver << 3 | 3
        req[2] = 6
        req[40:48] = os.urandom(8)
        req = bytes(req)
        if h == "nak":
            mac = bytes(4)
        elif h == "bad":
            d = bytearray(hashlib.md5(keys[kid] + req).digest())
            d[0] ^= 1
            mac = struct.pack(">I", kid) + bytes(d)
        else:
            d = hashlib.new(h, keys.get(kid, b"?") + req).digest()[:dlen]
            mac = struct.pack(">I", kid) + d
        s.sendto(req + mac, ("127.0.0.1", port))
        # Our reply (a late one of an earlier case is skipped): up to 5 s when one is expected
        # (a daemon that a loaded machine runs late), 0.5 s of silence otherwise.
        deadline = time.monotonic() + (5.0 if expect == "reply" else 0.5)
        rep = None
        while rep is None and time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                rep, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            if rep[24:32] != req[40:48]:
                rep = None  # not ours
        got = "none"
        detail = "no reply"
        if rep is not None:
            got = "reply"
            rmac = rep[48:]
            ok = (len(rep) == len(req) + len(mac) and struct.unpack(">I", rmac[:4])[0] == kid
                  and rmac[4:] == hashlib.new(h, keys[kid] + rep[:48]).digest()[:dlen])
            detail = f"{len(rep)}-octet reply, MAC {'checks' if ok else 'WRONG'}"
            if not ok:
                got = "bad-reply"
        verdict = "ok" if got == expect else "FAIL"
        if got != expect:
            bad += 1
        print(f"{verdict}: {name} (v{ver}, key {kid}, {len(req) + len(mac)} octets): {detail}",
              flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
