#!/usr/bin/env python3
"""refused_quickly.py — a refusal was answered at once and the connection closed.

usage: refused_quickly.py LINE
LINE is post_oversized.py's "STATUS|answer_ms=N|closed_ms=N|close_header=B".
Exits 0 when the answer came within 500 ms, the server closed within
1600 ms and the answer said Connection: close; else 1.
"""
import sys

f = dict(x.split("=") for x in sys.argv[1].split("|")[1:])
sys.exit(0 if int(f["answer_ms"]) < 500 and int(f["closed_ms"]) < 1600 and f["close_header"] == "True" else 1)
