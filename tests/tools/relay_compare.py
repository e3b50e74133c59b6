#!/usr/bin/env python3
"""relay_compare.py — compare what a relay_recorder.py target received with
what relay_publish.py expected. Only requests the recorder answered 2xx
count as delivered. Prints one line of key=value figures:
  expected=N delivered=N unique=N missing=N duplicates=N max_dup=N
  mismatched=N order_ok=0|1 unexpected=N attempts=N
  - mismatched: a delivery whose method, path (after PREFIX), query, body
    (sha256 and length), Content-Length or headers (in order, repeats kept,
    Host and Content-Length aside) differ from the expected, or that came
    chunked; the first few are described on stderr;
  - order_ok: the delivered X-Seq values, with a repeat of the one just
    before collapsed (a resend after a crash), strictly increase;
  - duplicates: deliveries beyond the first of each X-Seq; max_dup: the
    most copies of one beyond the first;
  - attempts: every request the recorder saw (2xx or not).
Usage: relay_compare.py EXPECTED RECORDED PREFIX
"""
import json
import sys

expected_f, recorded_f, prefix = sys.argv[1:4]
exp = {}
for line in open(expected_f):
    e = json.loads(line)
    exp[str(e["seq"])] = e
recs = [json.loads(line) for line in open(recorded_f)] if recorded_f != "-" else []
seen = {}
order = []
mism = 0
unexpected = 0
shown = 0


def hdr(rec, name):
    return [v for k, v in rec["headers"] if k.lower() == name.lower()]


def why_mismatch(r, e):
    if r["method"] != e["method"]:
        return "method %s != %s" % (r["method"], e["method"])
    if r["path"] != prefix + e["path"]:
        return "path %r != %r" % (r["path"], prefix + e["path"])
    if r["query"] != e["query"]:
        return "query %r != %r" % (r["query"], e["query"])
    if r["sha256"] != e["sha256"]:
        return "body sha256 differs"
    if r.get("chunked"):
        return "sent chunked"
    if hdr(r, "Content-Length") != [str(e["len"])]:
        return "Content-Length %r, body %d" % (hdr(r, "Content-Length"), e["len"])
    got = [[k, v] for k, v in r["headers"] if k.lower() not in ("host", "content-length")]
    if got != e["headers"]:
        return "headers %r != %r" % (got, e["headers"])
    return None


for r in recs:
    if not 200 <= r["status"] <= 299:
        continue
    seq = hdr(r, "X-Seq")
    if len(seq) != 1 or seq[0] not in exp:
        unexpected += 1
        continue
    s = seq[0]
    seen[s] = seen.get(s, 0) + 1
    if not order or order[-1] != int(s):
        order.append(int(s))
    w = why_mismatch(r, exp[s])
    if w:
        mism += 1
        if shown < 5:
            print("seq %s: %s" % (s, w), file=sys.stderr)
            shown += 1

order_ok = int(all(a < b for a, b in zip(order, order[1:])))
dups = sum(n - 1 for n in seen.values())
max_dup = max([n - 1 for n in seen.values()] or [0])
print("expected=%d delivered=%d unique=%d missing=%d duplicates=%d max_dup=%d mismatched=%d "
      "order_ok=%d unexpected=%d attempts=%d" %
      (len(exp), sum(seen.values()), len(seen), len(set(exp) - set(seen)), dups, max_dup, mism,
       order_ok, unexpected, len(recs)))
