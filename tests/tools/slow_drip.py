#!/usr/bin/env python3
"""slow_drip.py — one slow HTTP client, for the request-timeout tests.

usage: slow_drip.py MODE PORT SECS
MODE headers sends a request line and then its headers a byte at a time;
MODE body sends complete headers (with a signature header) and then stalls
the body. Prints "closed MS" when the server on 127.0.0.1:PORT hangs up
(MS since the connection was made), or "open" when it was still connected
after SECS seconds.
"""
import socket, sys, time
mode, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=2)
t0 = time.monotonic()
if mode == "headers":   # slowloris: a request line, then a byte every 0.3 s
    s.sendall(b"POST /hooks/adv HTTP/1.1\r\nHost: x\r\n")
    drip = b"X-Slow: " + b"a" * 1000
else:                   # a body that stops after 10 of the 1000 bytes announced
    s.sendall(b"POST /hooks/adv HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
              b"x-hookdeck-signature: AAAA\r\n\r\n" + b"{" * 10)
    drip = b""
s.settimeout(0.3)
i = 0
while time.monotonic() - t0 < secs:
    try:
        if i < len(drip):
            s.sendall(drip[i:i + 1])
            i += 1
        if s.recv(4096) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
else:
    print("open")
    sys.exit(0)
print("closed %d" % ((time.monotonic() - t0) * 1000))
