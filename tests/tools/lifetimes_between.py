#!/usr/bin/env python3
"""lifetimes_between.py — every slow connection was cut within a window.

usage: lifetimes_between.py JSON LO HI
JSON is slow_client.py's summary. Exits 0 when no connection was still open
at the end, there was at least one, and each lived LO..HI ms; else 1.
"""
import json
import sys

d = json.loads(sys.argv[1])
lo, hi = int(sys.argv[2]), int(sys.argv[3])
l = d["lifetimes_ms"]
sys.exit(0 if d["still_open"] == 0 and l and min(l) >= lo and max(l) <= hi else 1)
