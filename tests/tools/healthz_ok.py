#!/usr/bin/env python3
"""healthz_ok.py — a /healthz body of an idle, healthy daemon.

usage: healthz_ok.py BODY_FILE
Exits 0 when the JSON body has status "ok", store "ok", an integer
uptime_s >= 0 and running_jobs == 0; else fails with the body on stderr.
"""
import json
import sys

d = json.load(open(sys.argv[1]))
assert d["status"] == "ok" and d["store"] == "ok", d
assert isinstance(d["uptime_s"], int) and d["uptime_s"] >= 0, d
assert isinstance(d["running_jobs"], int) and d["running_jobs"] == 0, d
