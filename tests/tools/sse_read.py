#!/usr/bin/env python3
"""sse_read.py URL OUT [--header 'Name: value']... [--events N] [--seconds S] [--stamp 1]

Reads a Server-Sent Events stream with the standard library only and
writes what it sees to OUT, one JSON object per line, flushed at once:
  {"status": 200, "headers": {...}}            the answer's head
  {"retry": 3000}                               a retry field
  {"comment": "ping"}                           a comment line
  {"id": "...", "event": "...", "data": "..."}  a dispatched event
  {"end": "closed"|"events"|"timeout"}          why it stopped
It parses the stream itself (lines split on CR LF, CR or LF; "data" lines
joined with LF), independently of the relay's C code. Stops after N
events of type webhook or gap, after S seconds, or when the server closes.
With --stamp 1, each event and comment also has "t": the wall-clock ms it
arrived at.
"""
import select
import socket
import json
import sys
import time
import urllib.parse


def main():
    args = sys.argv[1:]
    url, out = args[0], args[1]
    headers, events, seconds, stamp = {}, None, 30.0, False
    i = 2
    while i < len(args):
        if args[i] == "--header":
            k, v = args[i + 1].split(":", 1)
            headers[k.strip()] = v.strip()
        elif args[i] == "--events":
            events = int(args[i + 1])
        elif args[i] == "--seconds":
            seconds = float(args[i + 1])
        elif args[i] == "--stamp":
            stamp = args[i + 1] == "1"
        i += 2
    u = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + seconds
    f = open(out, "w")

    def emit(o):
        f.write(json.dumps(o) + "\n")
        f.flush()

    sock = socket.create_connection((u.hostname, u.port), timeout=5)
    path = u.path + ("?" + u.query if u.query else "")
    req = "GET %s HTTP/1.1\r\nHost: %s:%d\r\n" % (path, u.hostname, u.port)
    for k, v in headers.items():
        req += "%s: %s\r\n" % (k, v)
    sock.sendall((req + "\r\n").encode("latin-1"))
    sock.settimeout(None)
    head = b""
    while b"\r\n\r\n" not in head:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            emit({"end": "timeout"})
            return 0
        chunk = sock.recv(65536)
        if not chunk:
            emit({"end": "closed"})
            return 0
        head += chunk
    head, _, buf = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdrs[k.strip()] = v.strip()
    emit({"status": status, "headers": hdrs})
    if status != 200:
        body = buf
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        emit({"body": body.decode("utf-8", "replace"), "end": "closed"})
        return 0
    ev, n = {}, 0
    chunk = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            emit({"end": "timeout"})
            return 0
        try:
            chunk = sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            # what is left in buf is parsed below once more
            pass
        buf += chunk
        closed = not chunk
        while True:
            lf, cr = buf.find(b"\n"), buf.find(b"\r")
            cut = min(x for x in (lf, cr, len(buf)) if x >= 0)
            if cut == len(buf):
                break
            if buf[cut] == 13 and cut + 1 >= len(buf):
                break  # a CR at the end: wait to see whether LF follows
            line = buf[:cut]
            skip = 2 if buf[cut] == 13 and buf[cut + 1:cut + 2] == b"\n" else 1
            buf = buf[cut + skip:]
            line = line.decode("utf-8")
            if line == "":
                if "data" in ev:
                    ev.setdefault("event", "message")
                    if stamp:
                        ev["t"] = int(time.time() * 1000)
                    emit(ev)
                    if ev["event"] in ("webhook", "gap"):
                        n += 1
                    if events is not None and n >= events:
                        emit({"end": "events"})
                        return 0
                ev = {}
                continue
            if line.startswith(":"):
                c = {"comment": line[1:].lstrip(" ")}
                if stamp:
                    c["t"] = int(time.time() * 1000)
                emit(c)
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                ev["data"] = ev["data"] + "\n" + value if "data" in ev else value
            elif name in ("id", "event"):
                ev[name] = value
            elif name == "retry" and value.isdigit():
                emit({"retry": int(value)})
        if closed:
            emit({"end": "closed"})
            return 0


if __name__ == "__main__":
    sys.exit(main())
