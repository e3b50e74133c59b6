#!/usr/bin/env python3
"""relay_recorder.py — a target for webhook-relay connect in tests: an
HTTP/1.1 server (stdlib) on 127.0.0.1 that stores the exact bytes of every
request it gets, one JSON line each, in OUT:
  {"n":k, "method":..., "target":raw request target, "path":..., "query":...,
   "headers":[[name, value], ...] (raw, in order, repeats kept),
   "body_b64":..., "sha256": hex of the body, "status": what it answered,
   "ms": wall clock}
Control (read on each request, so a test changes it while running): the
file CONTROL, when it exists, holds one line
  "STATUS COUNT [RETRY_AFTER|-] [DELAY]"
and the next COUNT requests get STATUS (with Retry-After: RETRY_AFTER when
given and not "-"), each answered DELAY seconds after it was read (a slow
target); COUNT -1 means every request until the file changes. The count
left is written back to the file.
Usage: relay_recorder.py PORTFILE OUT CONTROL [PORT]
  binds PORT (0: a free one), writes the port to PORTFILE, serves until
  killed (SIGTERM).
"""
import base64
import hashlib
import http.server
import json
import os
import sys
import threading
import time

portfile, out, control = sys.argv[1:4]
want_port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
lock = threading.Lock()
count = [0]


def next_status():
    """(status, retry_after or None, delay) for this request, from CONTROL."""
    try:
        with open(control) as f:
            parts = f.read().split()
    except FileNotFoundError:
        return 200, None, 0
    if len(parts) < 2:
        return 200, None, 0
    status, left = int(parts[0]), int(parts[1])
    ra = parts[2] if len(parts) > 2 and parts[2] != "-" else None
    delay = float(parts[3]) if len(parts) > 3 else 0
    if left == 0:
        return 200, None, 0
    if left > 0:
        tmp = control + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %s %s\n" % (status, left - 1, ra or "-", parts[3] if len(parts) > 3 else "0"))
        os.replace(tmp, control)
    return status, ra, delay


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per answer (flushed after each request) and no Nagle: a
    # status line in one segment and the body in another would cost a
    # delayed-ACK wait on every request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def handle_any(self):
        te = self.headers.get("Transfer-Encoding")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        # Raw header lines as received: http.client keeps (name, value) in
        # order, decoded as Latin-1, so encoding back gives the bytes.
        hdrs = [[k, v] for k, v in self.headers.items()]
        with lock:
            status, ra, delay = next_status()
            count[0] += 1
            target = self.path
            path, _, query = target.partition("?")
            rec = {"n": count[0], "method": self.command, "target": target, "path": path,
                   "query": query, "headers": hdrs,
                   "body_b64": base64.b64encode(body).decode(),
                   "sha256": hashlib.sha256(body).hexdigest(), "status": status,
                   "chunked": te is not None, "ms": int(time.time() * 1000)}
            with open(out, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if delay:
            time.sleep(delay)
        msg = b"recorded\n" if status < 300 else b"not now\n"
        self.send_response(status)
        if ra:
            self.send_header("Retry-After", ra)
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(msg)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True


srv = S(("127.0.0.1", want_port), H)
tmp = portfile + ".tmp"
with open(tmp, "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.replace(tmp, portfile)
srv.serve_forever()
