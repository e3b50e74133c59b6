#!/usr/bin/env python3
"""log_count.py — count the JSON log lines that satisfy a condition.

usage: log_count.py LOG CONDITION
CONDITION is a Python expression over d, one JSON object of the log (lines
that are not JSON objects are skipped). Prints how many lines satisfy it.
"""
import json, sys
n = 0
for line in open(sys.argv[1], errors="replace"):
    try:
        d = json.loads(line)
    except Exception:
        continue
    if isinstance(d, dict) and eval(sys.argv[2], {}, {"d": d}):
        n += 1
print(n)
