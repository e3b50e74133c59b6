#!/usr/bin/env python3
"""bench/fixed_load.py — a fixed number of POSTs over C keep-alive connections,
for the cold SSH section of bench/run.sh, where a job takes a large part of a
second and a wrk time window would end with most jobs still in flight (wrk
drops those, so the count and the tail would depend on where the window
falls). Here every request sent is waited for (bounded by --timeout) and
counted, and no new request starts after --deadline seconds.

  fixed_load.py URL BODY_FILE HEADERS_FILE CONC TOTAL [--idem PREFIX]
                [--timeout S] [--deadline S]

HEADERS_FILE holds "Name: value" lines (an Idempotency-Key line is dropped);
--idem sends "Idempotency-Key: PREFIX-<n>", unique per request. Prints one
line in the format of bench/post.lua's:
  RESULT requests=N duration_us=… non2xx=… connect=… read=… write=0
         timeout=… p50_us=… p99_us=… max_us=…
duration is from the first request sent to the last answer received;
percentiles are nearest-rank over the answered requests.
"""
import argparse
import http.client
import math
import socket
import sys
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("body")
    ap.add_argument("headers")
    ap.add_argument("conc", type=int)
    ap.add_argument("total", type=int)
    ap.add_argument("--idem", default="")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--deadline", type=float, default=60.0)
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    path = u.path + ("?" + u.query if u.query else "")
    body = open(a.body, "rb").read()
    headers = {}
    for line in open(a.headers, encoding="utf-8"):
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() != "idempotency-key":
            headers[name.strip()] = value.strip()

    lock = threading.Lock()
    state = {"next": 0, "non2xx": 0, "connect": 0, "read": 0, "timeout": 0}
    lat = []
    t0 = time.monotonic()
    last = [t0]

    def take():
        with lock:
            if state["next"] >= a.total or time.monotonic() - t0 > a.deadline:
                return None
            state["next"] += 1
            return state["next"]

    def worker():
        conn = None
        while True:
            n = take()
            if n is None:
                break
            h = dict(headers)
            if a.idem:
                h["Idempotency-Key"] = "%s-%d" % (a.idem, n)
            start = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=a.timeout)
                conn.request("POST", path, body=body, headers=h)
                r = conn.getresponse()
                r.read()
                end = time.monotonic()
                with lock:
                    lat.append(end - start)
                    last[0] = max(last[0], end)
                    if not 200 <= r.status < 300:
                        state["non2xx"] += 1
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (socket.timeout, TimeoutError):
                with lock:
                    state["timeout"] += 1
                conn = None
            except ConnectionRefusedError:
                with lock:
                    state["connect"] += 1
                conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    state["read"] += 1
                conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(a.conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    lat.sort()

    def pct(p):
        if not lat:
            return 0
        return int(lat[max(0, math.ceil(p / 100.0 * len(lat)) - 1)] * 1e6)

    print("RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=0 timeout=%d "
          "p50_us=%d p99_us=%d max_us=%d" % (
              len(lat), int((last[0] - t0) * 1e6), state["non2xx"], state["connect"],
              state["read"], state["timeout"], pct(50), pct(99), pct(100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
