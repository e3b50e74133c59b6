#!/usr/bin/env python3
"""prom_flatten.py — flatten a Prometheus text exposition into lines the tests grep.

usage: prom_flatten.py FILE
Prints one line per sample, "name|k=v,k=v|value" with the labels sorted by
name, and "BAD|line|" for a line that is neither a comment nor a sample.
Independent of our C code.
"""
import re, sys
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m:
        print("BAD|%s|" % line)
        continue
    lab = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    print("%s|%s|%s" % (m.group(1), ",".join("%s=%s" % (k, lab[k]) for k in sorted(lab)), m.group(4)))
