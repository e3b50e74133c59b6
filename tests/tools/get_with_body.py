#!/usr/bin/env python3
"""get_with_body.py — a GET on a hook with a large announced body.

usage: get_with_body.py PORT
Sends GET /hooks/hd with Content-Length: 100000 and five body bytes to
127.0.0.1:PORT, reads until the server closes, and prints
"STATUS-LINE|closed_ms=N".
"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
t0 = time.monotonic()
s.sendall(b"GET /hooks/hd HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n01234")
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except (socket.timeout, ConnectionError):
    pass
status = data.split(b"\r\n", 1)[0].decode()
print(f"{status}|closed_ms={int((time.monotonic() - t0) * 1000)}")
