#!/usr/bin/env python3
"""jobs_log_check.py — check runner_jobs.sh's JSON log against the answers the test kept.

usage: jobs_log_check.py LOG RESPONSES_DIR
Every answered request (found by its X-Request-Id in RESPONSES_DIR/TAG.hdr)
must have exactly one "request" line with its hook (TAG.hook), verify=ok,
the idempotency decision its status implies and its status; every run
(new/retry) one job_started and one job_finished of the same job. Prints
"bad ..." lines, "checked N" and "jobs RUNS STARTED FINISHED".
"""
import glob, json, os, sys
log, rdir = sys.argv[1], sys.argv[2]
ev = []
for line in open(log, errors="replace"):
    try:
        d = json.loads(line)
    except Exception:
        continue
    if isinstance(d, dict):
        ev.append(d)
reqs = {}
for d in ev:
    if d.get("event") == "request":
        reqs.setdefault(d.get("request_id"), []).append(d)
bad, n = [], 0
for hdr in sorted(glob.glob(os.path.join(rdir, "*.hdr"))):
    tag = os.path.basename(hdr)[:-4]
    h = {}
    status = None
    for l in open(hdr, errors="replace"):
        l = l.rstrip("\r\n")
        if l.startswith("HTTP/"):
            status = l.split()[1]
        elif ":" in l:
            k, v = l.split(":", 1)
            h[k.strip().lower()] = v.strip()
    rid = h.get("x-request-id")
    if not rid or status is None:
        continue
    n += 1
    got = reqs.get(rid, [])
    if len(got) != 1:
        bad.append("%s: %d request lines" % (tag, len(got)))
        continue
    r = got[0]
    hook = open(os.path.join(rdir, tag + ".hook")).read().strip() if os.path.exists(os.path.join(rdir, tag + ".hook")) else None
    want = {"200": ("new", "retry"), "500": ("new", "retry"), "502": ("new", "retry"),
            "503": ("new", "retry"), "504": ("new", "retry"), "409": ("busy",),
            "429": ("busy",), "422": ("mismatch",)}.get(status)
    if h.get("idempotent-replayed") == "true":
        want = ("replay",)
    probs = []
    if r.get("status") != status: probs.append("status %s" % r.get("status"))
    if hook and r.get("hook") != hook: probs.append("hook %s" % r.get("hook"))
    if r.get("verify") != "ok": probs.append("verify %s" % r.get("verify"))
    if want and r.get("idempotency") not in want: probs.append("idempotency %s" % r.get("idempotency"))
    if r.get("idempotency") in ("new", "retry"):
        st = [d for d in ev if d.get("event") == "job_started" and d.get("request_id") == rid]
        fi = [d for d in ev if d.get("event") == "job_finished" and d.get("request_id") == rid]
        if len(st) != 1 or len(fi) != 1 or st[0].get("job") != r.get("job") or fi[0].get("job") != r.get("job"):
            probs.append("job lines started=%d finished=%d" % (len(st), len(fi)))
    if probs:
        bad.append("%s: %s" % (tag, ", ".join(probs)))
runs = [d for d in reqs.values() for d in d if d.get("idempotency") in ("new", "retry")]
st = sum(1 for d in ev if d.get("event") == "job_started")
fi = sum(1 for d in ev if d.get("event") == "job_finished")
print("checked %d" % n)
print("jobs %d %d %d" % (len(runs), st, fi))
for b in bad:
    print("bad " + b)
