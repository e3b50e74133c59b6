#!/usr/bin/env python3
"""non_json_lines.py — the lines of a log that are not JSON objects.

usage: non_json_lines.py LOG
Prints repr() of the first 300 characters of every line of LOG that does not
parse as a JSON object, one a line.
"""
import json
import sys

for l in open(sys.argv[1], errors="replace"):
    try:
        assert isinstance(json.loads(l), dict)
    except Exception:
        print(repr(l[:300]))
