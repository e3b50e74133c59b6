#!/usr/bin/env python3
"""silent_listener.py — a TCP peer that accepts and never says a word.

usage: silent_listener.py [PORT_FILE]
Listens on an ephemeral port of 127.0.0.1, writes the port to PORT_FILE (or
prints it on stdout when there is none), then accepts every connection and
holds it open without sending anything, until killed. For the handshake and
answer timeouts (tests/tools/tcp_peer silent does the same in C).
"""
import socket
import sys

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
port = str(s.getsockname()[1])
if len(sys.argv) > 1:
    open(sys.argv[1], "w").write(port)
else:
    print(port, flush=True)
held = []
while True:
    held.append(s.accept()[0])
