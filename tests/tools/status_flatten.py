#!/usr/bin/env python3
"""status_flatten.py — flatten remote-executor's --status-fd line into KEY=VALUE lines.

usage: status_flatten.py FILE
Prints "__lines=N" (newlines in FILE), "__json=1" when FILE is exactly one
JSON object ending in a newline (else 0), then every leaf as dotted.key=value
(null, true/false in lowercase). Independent of our C code.
"""
import json, sys
raw = open(sys.argv[1], 'rb').read()
print("__lines=%d" % raw.count(b"\n"))
try:
    d = json.loads(raw)
    ok = isinstance(d, dict) and raw.endswith(b"\n")
except Exception:
    d, ok = {}, False
print("__json=%d" % ok)
def walk(p, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(p + [k], x)
    else:
        s = "null" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
        print("%s=%s" % (".".join(p), s))
walk([], d)
