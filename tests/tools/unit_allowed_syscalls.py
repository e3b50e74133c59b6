#!/usr/bin/env python3
"""unit_allowed_syscalls.py — the system calls a unit's SystemCallFilter= allows.

usage: unit_allowed_syscalls.py UNIT_FILE
Expands the unit's SystemCallFilter= lines (an allow list, then ~deny lists)
with systemd-analyze syscall-filter's own group tables and prints the
allowed names, one a line.
"""
import re, subprocess, sys
out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
groups, cur = {}, None
for line in out.splitlines():
    if line.startswith("@"):
        cur = line.split()[0]; groups[cur] = []
    elif cur and line.startswith("    ") and not line.strip().startswith("#") and line.strip():
        groups[cur].append(line.strip())
def expand(names):
    s = set()
    for n in names:
        s |= expand(groups[n]) if n.startswith("@") else {n}
    return s
allow = None
for line in open(sys.argv[1]):
    m = re.match(r"SystemCallFilter=(.*)", line.strip())
    if not m:
        continue
    v = m.group(1).split()
    if v and v[0].startswith("~"):
        allow -= expand([v[0][1:]] + v[1:])
    else:
        allow = expand(v) if allow is None else allow | expand(v)
print("\n".join(sorted(allow or [])))
