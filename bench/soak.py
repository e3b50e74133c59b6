#!/usr/bin/env python3
"""bench/soak.py — an open-loop mixed load for bench/soak.sh.

  soak.py URL BODY_FILE GOOD_HDRS BADSIG_HDRS BADJWT_HDRS JOB_RATE SECONDS
          [--bad-per-job N] [--conc C] [--idem PREFIX]

Every second, on a fixed schedule (not "as fast as answers come back"):
  JOB_RATE   new deliveries (a fresh Idempotency-Key)        → 200, a job ran
  JOB_RATE   repeats of an already answered key              → 200 + Idempotent-Replayed
  N*JOB_RATE with a wrong signature                          → 401
  N*JOB_RATE with a valid signature but a JWT signed wrongly → 403
Any other answer, a replay without the header, a transport error or a late
answer (> 30 s) is unexpected. Prints one line per 10 s and a final
"SOAK sent=… unexpected=… new=… replay=… 401=… 403=… p50_ms=… p99_ms=…";
the exit status is 1 when anything was unexpected.
"""
import argparse
import http.client
import queue
import threading
import time
import urllib.parse


def headers_of(path):
    out = {}
    for line in open(path):
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() != "idempotency-key":
                out[k.strip()] = v.strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("body")
    ap.add_argument("good")
    ap.add_argument("badsig")
    ap.add_argument("badjwt")
    ap.add_argument("job_rate", type=float)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--bad-per-job", type=int, default=4)
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--idem", default="soak-%d" % time.time())
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    body = open(a.body, "rb").read()
    hdr = {"good": headers_of(a.good), "badsig": headers_of(a.badsig), "badjwt": headers_of(a.badjwt)}
    want = {"new": 200, "replay": 200, "badsig": 401, "badjwt": 403}
    lock = threading.Lock()
    stats = {k: 0 for k in want}
    unexpected = []
    lat = []
    answered = []  # keys whose first delivery got its 200: safe to repeat
    work = queue.Queue()

    def worker():
        conn = None
        while True:
            item = work.get()
            if item is None:
                return
            kind, key, due = item
            h = dict(hdr["badsig" if kind == "badsig" else "badjwt" if kind == "badjwt" else "good"])
            h["Content-Type"] = "application/json"
            h["Idempotency-Key"] = key
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                conn.request("POST", u.path, body=body, headers=h)
                r = conn.getresponse()
                r.read()
                status, replayed = r.status, r.getheader("Idempotent-Replayed")
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                status, replayed = "error:%s" % type(e).__name__, None
                if conn:
                    conn.close()
                conn = None
            dt = time.monotonic() - t0
            with lock:
                lat.append(dt)
                ok = status == want[kind]
                if kind == "replay" and replayed != "true":
                    ok = False
                if kind == "new" and replayed:
                    ok = False
                if ok:
                    stats[kind] += 1
                    if kind == "new":
                        answered.append(key)
                else:
                    unexpected.append((kind, key, status, replayed))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.conc)]
    for t in threads:
        t.start()
    per_s = a.job_rate * (2 + 2 * a.bad_per_job)
    n = int(per_s * a.seconds)
    start = time.monotonic()
    sent = 0
    next_report = 10
    for i in range(n):
        due = start + i / per_s
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        slot = i % (2 + 2 * a.bad_per_job)
        if slot == 0:
            item = ("new", "%s-%d" % (a.idem, i), due)
        elif slot == 1:
            with lock:
                k = answered[(i * 7919) % len(answered)] if answered else None
            item = ("replay", k, due) if k else ("badsig", "%s-b%d" % (a.idem, i), due)
        elif slot % 2 == 0:
            item = ("badsig", "%s-b%d" % (a.idem, i), due)
        else:
            item = ("badjwt", "%s-j%d" % (a.idem, i), due)
        work.put(item)
        sent += 1
        if time.monotonic() - start >= next_report:
            with lock:
                print("soak: %4.0f s sent=%d answered=%d unexpected=%d backlog=%d" % (
                    time.monotonic() - start, sent, sum(stats.values()), len(unexpected),
                    work.qsize()), flush=True)
            next_report += 10
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join(60)
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0  # noqa: E731
    for u_ in unexpected[:10]:
        print("soak: unexpected %s" % (u_,))
    print("SOAK sent=%d unexpected=%d new=%d replay=%d 401=%d 403=%d rate=%.1f/s p50_ms=%.1f p99_ms=%.1f" % (
        sent, len(unexpected), stats["new"], stats["replay"], stats["badsig"], stats["badjwt"],
        per_s, pct(0.5), pct(0.99)))
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
