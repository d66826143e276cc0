#!/usr/bin/python3
"""Sends COUNT NTP client requests from SRC to 127.0.0.1:PORT, GAP_MS apart, and counts what
comes back: normal replies, RATE kiss-o'-death replies, and no answer. Prints one line
  sent=N replies=R kod=K missing=M poll=P
(P = the largest poll field seen in a normal reply). Every reply's origin must equal the
transmit timestamp of one of our requests, else exit 2."""
import os
import socket
import struct
import sys
import time

port, src, count, gap_ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.setblocking(False)
sent = {}
replies = kod = 0
max_poll = -128
bad = 0


def drain():
    global replies, kod, max_poll, bad
    while True:
        try:
            data, _ = s.recvfrom(1024)
        except BlockingIOError:
            return
        if len(data) < 48:
            bad += 1
            continue
        lvm, stratum, poll = data[0], data[1], struct.unpack("b", data[2:3])[0]
        origin = data[24:32]
        if origin not in sent or sent[origin]:
            bad += 1
            continue
        sent[origin] = True
        if stratum == 0 and data[12:16] == b"RATE" and lvm >> 6 == 3:
            kod += 1
        else:
            replies += 1
            max_poll = max(max_poll, poll)


for i in range(count):
    tx = os.urandom(8)
    sent[tx] = False
    # LI 0, VN 4, mode 3, poll 0
    s.sendto(bytes([0x23, 0, 0, 0x20]) + bytes(36) + tx, ("127.0.0.1", port))
    end = time.monotonic() + gap_ms / 1000.0
    while time.monotonic() < end:
        drain()
        time.sleep(0.0005)

# Late replies: until nothing has come for 1 s (at most 15 s). A fixed 0.5 s before counted
# the replies of a server that a loaded machine ran late as missing (then "drops != missing").
last = time.monotonic()
limit = last + 15.0
while time.monotonic() < limit and time.monotonic() - last < 1.0:
    before = replies + kod + bad
    drain()
    if replies + kod + bad != before:
        last = time.monotonic()
    time.sleep(0.01)
missing = sum(1 for v in sent.values() if not v)
print(f"sent={count} replies={replies} kod={kod} missing={missing} poll={max_poll}")
sys.exit(2 if bad else 0)
