#!/usr/bin/env python3
"""json_kv.py — a JSON answer's top-level fields as KEY=VALUE lines.

usage: json_kv.py FILE
Prints one "key=value" line per top-level field of FILE's JSON object (null,
true/false lowercase, a newline inside a value escaped); nothing when FILE is not a JSON
object. Independent of our C code.
"""
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    d = {}
if not isinstance(d, dict):
    d = {}
for k, v in d.items():
    s = "null" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    print("%s=%s" % (k, s.replace("\n", "\\n")))
