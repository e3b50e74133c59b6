#!/usr/bin/env python3
"""apt_closure.py — the dependency closure of Debian packages, from the installed metadata.

usage: apt_closure.py PACKAGE...
Follows Depends and Pre-Depends (every alternative, versions and :any
dropped) through dpkg-query, and prints every package reached, the given
ones included, sorted, one a line.
"""
import re, subprocess, sys
seen, todo = set(), list(sys.argv[1:])
while todo:
    p = todo.pop()
    if p in seen:
        continue
    seen.add(p)
    r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p], capture_output=True, text=True)
    for alt in r.stdout.split(","):
        for d in alt.split("|"):
            d = re.sub(r"\(.*?\)|:any|\s", "", d)
            if d:
                todo.append(d)
print("\n".join(sorted(seen)))
