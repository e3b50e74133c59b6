#!/usr/bin/env python3
"""json_lines_eval.py — evaluate a Python expression over a file of JSON lines.

usage: json_lines_eval.py FILE EXPR
FILE holds one JSON object per line (blank lines are skipped). EXPR sees L,
the list of those objects, and J, the first one (None when there is none);
its value is printed, a bool as true/false. Errors go to stderr and the exit
status is non-zero. The tests use it to read the CLI's --json output
independently of our C code.
"""
import json
import sys

L = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        L.append(json.loads(line))
J = L[0] if L else None
r = eval(sys.argv[2])
print(r if not isinstance(r, bool) else str(r).lower())
