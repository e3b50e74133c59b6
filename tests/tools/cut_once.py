#!/usr/bin/env python3
"""cut_once.py — a loopback TCP proxy that drops its first connection once.

usage: cut_once.py TARGET_PORT PORT_FILE LOG_FILE --after TEXT [--seconds S]

Listens on 127.0.0.1 (a free port, written to PORT_FILE) and forwards every
connection to 127.0.0.1:TARGET_PORT. The first connection is closed, both
ways, right after the server's bytes holding TEXT have been passed on: a
connection lost mid-stream, for a client's reconnection test. Later
connections are passed through whole. LOG_FILE gets each connection's
request head (one JSON string a line), so a test can check what the client
sent when it reconnected. Exits after S seconds (default 20).
"""
import argparse
import json
import socket
import threading
import time


def pump(src, dst, watch, cut):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
            if cut and watch in b:
                break
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def handle(c, n, args, log, lock):
    u = socket.create_connection(("127.0.0.1", args.target), timeout=10)
    head = b""
    c.settimeout(10)
    while b"\r\n\r\n" not in head:
        b = c.recv(4096)
        if not b:
            return
        head += b
    with lock:
        log.write(json.dumps(head.decode("latin-1")) + "\n")
        log.flush()
    u.sendall(head)
    u.settimeout(None)
    c.settimeout(None)
    t = threading.Thread(target=pump, args=(c, u, b"", False), daemon=True)
    t.start()
    pump(u, c, args.after.encode(), n == 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target", type=int)
    ap.add_argument("port_file")
    ap.add_argument("log_file")
    ap.add_argument("--after", required=True)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args()
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(0.2)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(ls.getsockname()[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    log = open(args.log_file, "w")
    lock = threading.Lock()
    end = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(c, n, args, log, lock), daemon=True).start()
        n += 1


if __name__ == "__main__":
    main()
