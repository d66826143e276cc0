#!/usr/bin/env python3
"""Regenerates the seed corpora tests/fuzz/corpus/<target>/ from ../shared/vectors, the
example configs and the seed scenario. Files are named by the SHA-1 of their content, so
running it again (or merging fuzzer finds with scripts/fuzz.sh --merge) never duplicates.
Usage: tests/fuzz/make_corpus.py [SHARED_DIR]  (default: ../shared beside the checkout)."""
import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, '..', 'shared')
CORPUS = os.path.join(HERE, 'corpus')
MAX_PER_TARGET = 150


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def hex_pairs(paths):
    """(kind, bytes) for every 'request <hex>' / 'reply <hex>' line."""
    out = []
    for p in sorted(paths):
        with open(p) as f:
            for line in f:
                parts = line.split()
                if (len(parts) == 2 and parts[0] in ('request', 'reply')
                        and parts[1] != '(none)'):
                    out.append((parts[0], bytes.fromhex(parts[1])))
    return out


def uniq(seq):
    seen, out = set(), []
    for x in seq:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def spread(items, n):
    """At most n items, spread evenly over the list (keeps variety of commands)."""
    if len(items) <= n:
        return items
    return [items[i * len(items) // n] for i in range(n)]


ntp = hex_pairs(glob.glob(os.path.join(SHARED, 'vectors', 'ntp', '*.hex')))
ntp_req = uniq([b for k, b in ntp if k == 'request'])
ntp_rep = uniq([b for k, b in ntp if k == 'reply'])

# Hand-made shapes the captures lack: extension fields, MACs, crypto-NAK, NTPv3 with a long
# MAC, a short packet, an unaligned one, an NTS unique-identifier field.
base = ntp_req[0]
ef = lambda t, body: struct.pack('>HH', t, 4 + len(body)) + body
extra = [
    base + ef(0xF323, b'\xf5\xbe\xdd\x9a' + bytes(24)),
    base + ef(0x0104, bytes(32)),
    base + ef(0x0104, bytes(12)) + ef(0x0204, bytes(24)),
    base + struct.pack('>I', 1) + bytes(16),
    base + struct.pack('>I', 7) + bytes(20),
    base + bytes(4),
    bytes([0x1b]) + base[1:] + struct.pack('>I', 1) + bytes(64),
    bytes([0xe3]) + base[1:],
    bytes([0x0b]) + base[1:],
    bytes([0x21]) + base[1:],
    base[:44],
    base + b'\x00\x00',
]

# fuzz_ntp_parse: raw datagrams.
for b in ntp_req + ntp_rep + extra:
    put('fuzz_ntp_parse', b)

# fuzz_server: 4 option bytes, then records [ctl][len/4 | 0x80 tx][datagram].
def rec(pkt, ctl=0, tx=False):
    return bytes([ctl | (len(pkt) & 3), (len(pkt) >> 2) | (0x80 if tx else 0)]) + pkt

reqs = ntp_req + extra
for opts in (b'\x01\x00\x00\x01', b'\x00\x00\x00\x01', b'\x03\x31\x02\x01', b'\x01\x01\x13\x03',
             b'\x01\x00\x01\x05'):
    put('fuzz_server', opts + b''.join(rec(p, 0x40) for p in reqs))
    put('fuzz_server', opts + b''.join(rec(p, 0x80 | (i % 8) << 3, tx=True)
                                       for i, p in enumerate(ntp_req * 3)))
# Interleaved: the second request's origin is the first reply's receive timestamp, which the
# target cannot know; the fuzzer gets there through the comparison hints.
for p in reqs:
    put('fuzz_server', b'\x01\x00\x00\x01' + rec(p))

# fuzz_engine_reply: 2 option bytes, then records [ctl][len/4][datagram] (see the target).
def erec(pkt, ctl):
    return bytes([ctl, len(pkt) >> 2]) + pkt

def rel(pkt, rx_off_ns, tx_delay_ns):
    b = bytearray(pkt)
    b[32:36] = struct.pack('>i', rx_off_ns)
    b[40:44] = struct.pack('>I', tx_delay_ns << 8)
    return bytes(b)

for i, p in enumerate(ntp_rep):
    put('fuzz_engine_reply', b'\x00\x00' + erec(p, 0x0a))
    seq = b''.join(erec(rel(p, 100000 + 997 * k, 20000), 0x0e | (k & 1)) for k in range(12))
    put('fuzz_engine_reply', bytes([i * 0x11 & 0xff, i]) + seq)
    put('fuzz_engine_reply', b'\x01\x00' + erec(rel(p, 2000000000, 20000), 0x0e) * 6)

# cmdmon: raw request datagrams; replies behind one option byte (output mode).
cm = hex_pairs(glob.glob(os.path.join(SHARED, 'vectors', 'cmdmon', '**', '*.hex'),
                         recursive=True))
cm_req = spread(uniq([b for k, b in cm if k == 'request']), MAX_PER_TARGET)
cm_rep = uniq([b for k, b in cm if k == 'reply'])
# Keep every reply code, then fill up with others.
by_code, rest = {}, []
for b in cm_rep:
    code = b[6:8] if len(b) >= 8 else b''
    if code not in by_code:
        by_code[code] = b
    else:
        rest.append(b)
cm_rep = list(by_code.values()) + spread(rest, MAX_PER_TARGET - len(by_code))
for b in cm_req:
    put('fuzz_cmdmon_request', b)
for i, b in enumerate(cm_rep):
    put('fuzz_cmdmon_reply', bytes([i % 3]) + b)

# fuzz_conf: config texts; files of one input are separated by a line "@@@" (see the target).
for p in sorted(glob.glob(os.path.join(SRC, 'examples', '*.conf'))):
    with open(p, 'rb') as f:
        put('fuzz_conf', f.read())
for p in sorted(glob.glob(os.path.join(SHARED, 'vectors', 'cmdmon', 'setup', '*.conf'))):
    with open(p, 'rb') as f:
        put('fuzz_conf', f.read())
put('fuzz_conf', b'include /f/1.conf\nconfdir /f\nsourcedir /f\n@@@\nserver a.example iburst\n'
    b'@@@\npool b.example maxsources 2\n@@@\nserver 192.0.2.1 minpoll 2\n')
put('fuzz_conf', b'allow 192.168.0.0/16\ndeny 192.168.1/24\ncmdallow localhost\nallow all\n'
    b'ratelimit interval 1 burst 4 leak 2\nclientloglimit 10000\nlocal stratum 10 orphan\n'
    b'makestep 1 3\nmaxupdateskew 100\nrefclock PPS /dev/pps0 lock NMEA refid GPS\n'
    b'hwtimestamp eth0 rxfilter all\nlog measurements statistics tracking\nleapsecmode slew\n')
put('fuzz_conf', b'peer 192.0.2.2 key 1 xleave\nbindcmdaddress ::1\nport 0\ncmdport 0\n'
    b'server [fe80::1%eth0] nts ntsport 123 certset 2 extfield F323 maxdelay 0.1\n')


# fuzz_dump: dump files (src/daemon/dump.h) with a valid check line, and damaged ones.
def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h


def dump_text(source, saved, samples):
    body = b'tempus-dump 1\nsource %s\nsaved %d\nsamples %d\n' % (source, saved, len(samples))
    for s in samples:
        body += b'%d %r %r %r %r %r %d %d\n' % s
    return body + b'check %016x\n' % fnv1a64(body)


T0 = 1795564800000000000
good = [(T0 - (20 - k) * 16000000000, -2.5e-05 + k * 1e-07, 4.1e-05, 1.9e-06, 0.0101,
         0.0021, 2, 0) for k in range(20)]
put('fuzz_dump', dump_text(b'127.0.0.1', T0, good))
put('fuzz_dump', dump_text(b'2001:db8::1', T0, good[:1]))
put('fuzz_dump', dump_text(b'192.0.2.1', T0, [(T0 - 1, 0.25, 0.0, 0.0, 0.0, 0.0, 16, 3)]))
put('fuzz_dump', dump_text(b'192.0.2.1', T0, [(T0 - 1000 * k, 1e300, 1e-300, 0.5, 2.0, 3.0, 1, 1)
                                             for k in range(3, 0, -1)]))
put('fuzz_dump', dump_text(b'192.0.2.1', T0, [(T0, 1.0, 0.0, 0.0, 0.0, 0.0, 2, 0)] * 2))
full = dump_text(b'127.0.0.1', T0, good)
put('fuzz_dump', full[:len(full) // 2])
put('fuzz_dump', full.replace(b'tempus-dump 1', b'tempus-dump 2'))
put('fuzz_dump', full.replace(b'samples 20', b'samples 21'))


# fuzz_tzif: zoneinfo files: the system's right/UTC and UTC when tzdata has them, and a
# version 1 table built here (one inserted second), cut short.
for z in ('right/UTC', 'UTC', 'right/Europe/Paris'):
    p = os.path.join('/usr/share/zoneinfo', z)
    if os.path.exists(p):
        with open(p, 'rb') as f:
            put('fuzz_tzif', f.read())
v1 = (b'TZif' + b'\0' * 16 + struct.pack('>6I', 0, 0, 1, 0, 1, 4) + struct.pack('>iBB', 0, 0, 0)
      + b'UTC\0' + struct.pack('>iI', 78796800, 1))
put('fuzz_tzif', v1)
put('fuzz_tzif', v1[:50])

# fuzz_keys: key files (chrony's format: ID [TYPE] KEY), good and bad lines.
KEYS = (b'# chrony.keys: ID TYPE KEY\n'
        b'1 MD5 HEX:0102030405060708090A0B0C0D0E0F10\n'
        b'2 SHA1 ASCII:secretsha1\n'
        b'\t3   SHA256\tHEX:00112233445566778899aabbccddeeff  \r\n'
        b'4 SHA384 HEX:000102030405060708090a0b0c0d0e0f10111213\n'
        b'5 SHA512 plainpass\n'
        b'6 noTypeKey\n'
        b'! comment\n; comment\n% comment\n\n'
        b'4294967295 ASCII:ASCII:x\n')
put('fuzz_keys', KEYS)
put('fuzz_keys', b'10 MD5 HEX:010\n11 MD5 HEX:zz\n12 md5 abc\n13 AES128 HEX:00\n'
                 b'14 SHA3-256 abc\n0 MD5 abc\n4294967296 MD5 abc\n-1 MD5 x\n15\n'
                 b'16 MD5 a b\n1 MD5 dup\n1 SHA1 dup2\n17 MD5 ASCII:\n18 MD5 HEX:\n')
put('fuzz_keys', b'1 MD5 ' + b'k' * 2041 + b'\n2 MD5 ' + b'k' * 2042 + b'\n')
put('fuzz_keys', b'1 MD5 a\x00b\n\x00\n 2 SHA1 c')
put('fuzz_keys', b'')

# fuzz_server with keys: option byte 0 bit 7 makes the target re-sign MACs of its keys (1 MD5,
# 2 SHA1, 3 SHA256, 5 SHA512); NTPv4 digests at most 20 octets, NTPv3 whole.
def mac_req(version, key_id, digest_len):
    return bytes([version << 3 | 3]) + base[1:48] + struct.pack('>I', key_id) + bytes(digest_len)

signed = [mac_req(4, 1, 16), mac_req(4, 2, 20), mac_req(4, 3, 20), mac_req(4, 5, 20),
          mac_req(3, 1, 16), mac_req(3, 3, 32), mac_req(3, 5, 64), mac_req(4, 9, 16),
          mac_req(3, 3, 20), mac_req(4, 1, 16) + bytes(0), base + bytes(4)]
put('fuzz_server', b'\x81\x00\x00\x01' + b''.join(rec(p, 0x40) for p in signed))
put('fuzz_server', b'\x81\x31\x12\x01' + b''.join(rec(p, 0x40 | (i % 8) << 3)
                                                  for i, p in enumerate(signed * 3)))
put('fuzz_server', b'\x01\x00\x00\x01' + b''.join(rec(p, 0x40) for p in signed))
