#!/usr/bin/env python3
"""json_mutate.py — a copy of a JSON config changed by Python statements.

usage: json_mutate.py IN OUT STATEMENTS
Loads IN as c (h is c["hooks"][0]), runs STATEMENTS on them (copy is
imported), and writes c to OUT, indented by 2.
"""
import copy  # noqa: F401 (for STATEMENTS)
import json
import sys

c = json.load(open(sys.argv[1]))
h = c["hooks"][0]
exec(sys.argv[3])
json.dump(c, open(sys.argv[2], "w"), indent=2)
