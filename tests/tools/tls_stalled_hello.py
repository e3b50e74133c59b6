#!/usr/bin/env python3
"""tls_stalled_hello.py — a TLS client that never finishes its handshake.

usage: tls_stalled_hello.py PORT
Sends the first bytes of a ClientHello to 127.0.0.1:PORT, then nothing, and
prints how many seconds passed until the server closed the connection
("%.1f"), or "never" when it did not within the client's own bound.
"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01\x00")  # the first bytes of a ClientHello, then nothing
s.settimeout(15)
t0 = time.time()
try:
    s.recv(100)
    print("%.1f" % (time.time() - t0))
except Exception:
    print("never")
