#!/usr/bin/env python3
"""relay_drip.py PORT PATH SECS — a publisher that dribbles its body.

Sends complete headers for POST PATH with Content-Length: 1000 to
127.0.0.1:PORT, then one body byte every 0.2 s. Prints "closed MS STATUS"
when the server hangs up (MS since the connection was made; STATUS the
answer's status code or "-" when none came), or "open" when it was still
connected after SECS seconds.
"""
import socket
import sys
import time

port, path, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=2)
t0 = time.monotonic()
s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
s.settimeout(0.2)
got = b""
while time.monotonic() - t0 < secs:
    try:
        s.sendall(b"x")
    except OSError:
        break
    try:
        chunk = s.recv(4096)
        if chunk == b"":
            break
        got += chunk
    except socket.timeout:
        continue
    except OSError:
        break
else:
    print("open")
    sys.exit(0)
ms = int((time.monotonic() - t0) * 1000)
status = got.split(b" ")[1].decode() if got.startswith(b"HTTP/") else "-"
print("closed %d %s" % (ms, status))
