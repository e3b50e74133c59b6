#!/usr/bin/env python3
"""notify_listen.py ADDRESS PORTFILE OUT — a stand-in for systemd's end of
NOTIFY_SOCKET, for tests/e2e/deploy_systemd.sh.

Binds a unix datagram socket at ADDRESS (a path, or "@name" for an abstract
socket), creates OUT.bound once it is listening, and appends one line to OUT
per datagram received:

    pid=<sender pid> mono=<CLOCK_MONOTONIC usec at receipt> healthz=<code|-> <message>

The sender's pid comes from the kernel (SO_PASSCRED), the way systemd checks
NotifyAccess=main. The message's newlines are written as '|'. On every
READY=1 the listener itself GETs http://127.0.0.1:<port in PORTFILE>/healthz
before recording the line, so healthz=200 proves the daemon answered at the
moment it claimed readiness. Exits after 120 s without a datagram.
"""
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

addr, portfile, out = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".bound", "w").close()
s.settimeout(120)
ucred = struct.calcsize("iII")
while True:
    try:
        data, anc, _flags, _addr = s.recvmsg(4096, socket.CMSG_SPACE(ucred))
    except socket.timeout:
        break
    mono = time.monotonic_ns() // 1000
    pid = "?"
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", cdata[:ucred])[0]
    text = data.decode("utf-8", "replace")
    code = "-"
    if "READY=1" in text.split("\n"):
        try:
            port = open(portfile).read().strip()
            code = urllib.request.urlopen(
                "http://127.0.0.1:%s/healthz" % port, timeout=2).status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception as e:  # refused, timeout: the line says so
            code = type(e).__name__
    with open(out, "a") as f:
        f.write("pid=%s mono=%d healthz=%s %s\n" % (pid, mono, code, text.replace("\n", "|")))
