#!/usr/bin/env python3
"""post_oversized.py — a POST whose Content-Length is over the body cap.

usage: post_oversized.py PORT PATH [HEADER...]
Sends the request line, Content-Length: 100000, the given headers and ten
body bytes to 127.0.0.1:PORT, then reads until the server closes. Prints
"STATUS-LINE|answer_ms=N|closed_ms=N|close_header=..." for runner_slow.sh's
check_refused.
"""
import socket, sys, time
port, path, hdrs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
req = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n" + "".join(h + "\r\n" for h in hdrs) + "\r\n"
t0 = time.monotonic()
s.sendall(req.encode() + b"0123456789")
data, first = b"", None
s.settimeout(5)
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        if first is None:
            first = time.monotonic()
        data += b
except (socket.timeout, ConnectionError):
    pass
end = time.monotonic()
status = data.split(b"\r\n", 1)[0].decode(errors="replace")
close = b"connection: close" in data.lower()
print(f"{status}|answer_ms={int(((first or end) - t0) * 1000)}|closed_ms={int((end - t0) * 1000)}|close_header={close}")
