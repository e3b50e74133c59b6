#!/usr/bin/env python3
"""crash_facts.py — the bookkeeping of tests/e2e/runner_crash.sh.

usage:
  crash_facts.py sign SECRET_FILE DIR LOOPS N
      LOOPS x N deliveries with distinct idempotency keys: DIR/<key>.json (the
      body {"k": KEY}), DIR/<key>.hdr (curl -H @ headers: the Hookdeck
      signature, made here with Python's hmac, independent of the daemon's
      code) and DIR/loop.<i>, the keys loop i sends, one a line.
  crash_facts.py stored CODES STORE
  crash_facts.py drained CODES STORE STARTS ENDS
  crash_facts.py redelivered CODES STORE0 STARTS0 ENDS0 RECODES HDRDIR STORE STARTS ENDS
      facts as NAME=VALUE lines (lists: "none", or the count and the first keys).

CODES: "KEY HTTP_CODE CURL_EXIT" lines (curl's 000 when nothing was answered;
exit 7: refused, never reached the daemon). STORE: `webhook-runner jobs list
--json` output. STARTS/ENDS: the target's mark files, one key a line per
execution that began / got to its end. The suffix 0 is the state before the
redelivery; RECODES/HDRDIR are the redelivery's codes and response headers.
"""
import base64, collections, hashlib, hmac, json, os, sys


def codes(path):
    acked, cut, refused, other = set(), set(), set(), {}
    for line in open(path):
        f = line.split()
        if len(f) != 3:
            continue
        k, code, rc = f
        if code == "202":
            acked.add(k)
        elif code == "000" and rc == "7":
            refused.add(k)
        elif code == "000":
            cut.add(k)
        else:
            other[k] = code
    return acked, cut, refused, other


def store(path):
    """key -> the rows of that key, by attempt"""
    rows = collections.defaultdict(dict)
    for line in open(path):
        if line.strip():
            d = json.loads(line)
            rows[d["key"]][d["attempt"]] = d
    return rows


def latest(rows, k):
    return rows[k][max(rows[k])]


def marks(path):
    return collections.Counter(l.strip() for l in open(path) if l.strip()) if os.path.exists(path) \
        else collections.Counter()


def lst(keys):
    keys = sorted(keys)
    return "none" if not keys else "%d:%s" % (len(keys), ",".join(keys[:5]))


def out(**kv):
    for k, v in kv.items():
        print("%s=%s" % (k, v))


def sign(secret_file, d, loops, n):
    secret = open(secret_file, "rb").read().rstrip(b"\n")
    tag = os.urandom(3).hex()
    for i in range(int(loops)):
        with open(os.path.join(d, "loop.%d" % i), "w") as lf:
            for j in range(int(n)):
                k = "c%s-%d-%d" % (tag, i, j)
                body = json.dumps({"k": k}).encode()
                sig = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
                open(os.path.join(d, k + ".json"), "wb").write(body)
                open(os.path.join(d, k + ".hdr"), "w").write(
                    "x-hookdeck-signature: %s\nIdempotency-Key: %s\nContent-Type: application/json\n"
                    % (sig, k))
                lf.write(k + "\n")


def stored(codes_p, store_p):
    acked, cut, refused, other = codes(codes_p)
    rows = store(store_p)
    st = collections.Counter(latest(rows, k)["status"] for k in rows)
    out(acked=len(acked), cut=len(cut), refused=len(refused), other=lst(other),
        acked_missing=lst(acked - set(rows)),
        stored_unsent=lst(set(rows) - acked - cut),
        cut_stored=len(cut & set(rows)),
        not_first_attempt=lst(k for k in rows if set(rows[k]) != {1}),
        queued=st["queued"], running=st["running"], succeeded=st["succeeded"],
        other_states=lst(k for k in rows if latest(rows, k)["status"] not in
                         ("queued", "running", "succeeded")))


def drained(codes_p, store_p, starts_p, ends_p):
    acked, cut, refused, other = codes(codes_p)
    rows = store(store_p)
    s, e = marks(starts_p), marks(ends_p)
    state = {k: latest(rows, k)["status"] for k in rows}
    succ = {k for k in rows if state[k] == "succeeded"}
    intr = {k for k in rows if state[k] == "interrupted"}
    out(acked_missing=lst(acked - set(rows)),
        bad_states=lst("%s:%s" % (k, state[k]) for k in rows if k not in succ | intr),
        succeeded_not_once=lst(k for k in succ if (s[k], e[k]) != (1, 1)),
        interrupted_more_than_once=lst(k for k in intr if s[k] > 1 or e[k] > 1),
        ran_twice=lst(k for k in set(s) | set(e) if s[k] > 1 or e[k] > 1),
        ran_unrecorded=lst((set(s) | set(e)) - set(rows)),
        cut_absent_ran=lst(k for k in cut - set(rows) if s[k] or e[k]),
        executed=len(e), succeeded=len(succ), interrupted=len(intr),
        interrupted_ran=len([k for k in intr if e[k]]))


def redelivered(codes_p, store0_p, starts0_p, ends0_p, recodes_p, hdrdir, store_p, starts_p, ends_p):
    acked, cut, refused, other = codes(codes_p)
    rows0, rows = store(store0_p), store(store_p)
    s0, e0, s, e = marks(starts0_p), marks(ends0_p), marks(starts_p), marks(ends_p)
    re = {}
    for line in open(recodes_p):
        f = line.split()
        if len(f) == 3:
            re[f[0]] = f[1]
    wrong_answer, wrong_runs, wrong_final = [], [], []
    n = collections.Counter()
    for k in sorted(acked | cut):
        before = latest(rows0, k)["status"] if k in rows0 else "absent"
        h = open(os.path.join(hdrdir, k + ".hdr"), errors="replace").read().lower() \
            if os.path.exists(os.path.join(hdrdir, k + ".hdr")) else ""
        replayed = "idempotent-replayed: true" in h
        got = re.get(k, "unsent")
        if before == "succeeded":
            n["replayed"] += 1
            want, want_runs, want_final = ("200", True), (s0[k], e0[k]), (1, "succeeded")
        elif before == "interrupted":
            n["retried"] += 1
            want, want_runs, want_final = ("202", False), (s0[k] + 1, e0[k] + 1), (2, "succeeded")
        else:
            n["new"] += 1
            want, want_runs, want_final = ("202", False), (1, 1), (1, "succeeded")
        if (got, replayed) != want:
            wrong_answer.append("%s:%s:%s/%s%s" % (k, before, got, want[0], " replayed" if replayed else ""))
        if (s[k], e[k]) != want_runs:
            wrong_runs.append("%s:%s:%d,%d" % (k, before, s[k], e[k]))
        fin = (max(rows[k]), latest(rows, k)["status"]) if k in rows else (0, "absent")
        if fin != want_final:
            wrong_final.append("%s:%s:%d:%s" % (k, before, fin[0], fin[1]))
    out(redelivered=len(acked | cut), wrong_answer=lst(wrong_answer), wrong_runs=lst(wrong_runs),
        wrong_final=lst(wrong_final), replayed=n["replayed"], retried=n["retried"], new=n["new"],
        ran_unrecorded=lst((set(s) | set(e)) - set(rows)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"sign": sign, "stored": stored, "drained": drained, "redelivered": redelivered}[cmd](*args)
