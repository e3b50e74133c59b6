#!/usr/bin/env python3
"""ops_log_check.py — check runner_ops.sh's JSON log against the answers the test kept.

usage: ops_log_check.py LOG RESPONSES_DIR
LOG is daemon A's --log-format json log; RESPONSES_DIR holds TAG.hdr (and
TAG.hook) for every request the test made. Prints "lines N", "bad-json ..."
for a line that is not a JSON object, "bad-req ..." for a request line that
lacks a key or does not match its answer, "checked N" (requests matched),
"bad-job ..." for a job whose lifecycle lines do not add up, "jobs
started=N finished=N queued=N" and "outcomes ...".
"""
import glob, json, os, re, sys
log, rdir = sys.argv[1], sys.argv[2]
ev, bad = [], []
for i, line in enumerate(open(log, errors="replace")):
    try:
        d = json.loads(line)
    except Exception:
        bad.append("line %d not JSON: %s" % (i + 1, line[:120].strip()))
        continue
    if not isinstance(d, dict):
        bad.append("line %d not an object" % (i + 1))
        continue
    if list(d)[:3] != ["ts", "level", "event"]:
        bad.append("line %d keys start %s" % (i + 1, list(d)[:3]))
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", str(d.get("ts"))):
        bad.append("line %d ts %r" % (i + 1, d.get("ts")))
    if d.get("level") not in ("debug", "info", "warn", "error"):
        bad.append("line %d level %r" % (i + 1, d.get("level")))
    d["_i"] = i
    ev.append(d)
print("lines %d" % len(ev))
for b in bad[:5]:
    print("bad-json " + b)
# request lines: stable keys, and one per answered request (by X-Request-Id)
reqs = {}
for d in ev:
    if d.get("event") == "request":
        miss = [k for k in ("request_id", "hook", "verify", "idempotency", "status", "duration_ms") if k not in d]
        if miss:
            print("bad-req line %d lacks %s" % (d["_i"] + 1, miss))
        if not re.match(r"^\d+$", str(d.get("duration_ms"))):
            print("bad-req line %d duration_ms %r" % (d["_i"] + 1, d.get("duration_ms")))
        reqs.setdefault(d.get("request_id"), []).append(d)
n = 0
for hdr in sorted(glob.glob(os.path.join(rdir, "*.hdr"))):
    tag = os.path.basename(hdr)[:-4]
    h, status = {}, None
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
    got = reqs.get(rid, [])
    if not got:
        continue  # another daemon's request
    n += 1
    r = got[0]
    hp = os.path.join(rdir, tag + ".hook")
    hook = open(hp).read().strip() if os.path.exists(hp) else None
    probs = []
    if len(got) != 1: probs.append("%d lines" % len(got))
    if r.get("status") != status: probs.append("status %s" % r.get("status"))
    if hook and status not in ("404",) and r.get("hook") != hook: probs.append("hook %s" % r.get("hook"))
    if hook and status in ("200", "202", "409", "422", "500") and r.get("verify") != "ok":
        probs.append("verify %s" % r.get("verify"))
    if status == "401" and hook and not str(r.get("verify", "")).startswith("signature:"):
        probs.append("verify %s" % r.get("verify"))
    if status == "403" and hook and not str(r.get("verify", "")).startswith("jwt:"):
        probs.append("verify %s" % r.get("verify"))
    want = {"202": ("new", "retry"), "409": ("busy",), "422": ("mismatch",), "500": ("new", "retry")}.get(status)
    if h.get("idempotent-replayed") == "true":
        want = ("replay",)
    if hook and want and r.get("idempotency") not in want:
        probs.append("idempotency %s" % r.get("idempotency"))
    if probs:
        print("bad-req %s: %s" % (tag, ", ".join(probs)))
print("checked %d" % n)
# job lifecycle: every finished job has outcome, exit (or null), duration_ms;
# an async job is queued, then started, then finished
started = {d.get("job"): d for d in ev if d.get("event") == "job_started"}
finished = {}
for d in ev:
    if d.get("event") == "job_finished":
        finished.setdefault(d.get("job"), []).append(d)
        for k in ("outcome", "exit", "duration_ms"):
            if k not in d:
                print("bad-job job %s finished line lacks %s" % (d.get("job"), k))
queued = [d for d in ev if d.get("event") == "job_queued"]
for j, s in started.items():
    f = finished.get(j, [])
    if len(f) != 1 or f[0]["_i"] < s["_i"]:
        print("bad-job job %s: %d finished lines after its start" % (j, len(f)))
for q in queued:
    s = started.get(q.get("job"))
    if not s or s["_i"] < q["_i"]:
        print("bad-job async job %s queued but not started after" % q.get("job"))
print("jobs started=%d finished=%d queued=%d" % (len(started), sum(len(v) for v in finished.values()), len(queued)))
outcomes = sorted(set("%s/%s" % (d.get("outcome"), d.get("exit")) for v in finished.values() for d in v))
print("outcomes " + " ".join(outcomes))
