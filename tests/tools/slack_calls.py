#!/usr/bin/env python3
"""slack_calls.py LOG count METHOD [TEXT...] | LOG last METHOD FIELD [TEXT...]
— what the fake Slack (fake_slack.py) recorded in LOG, for
tests/e2e/runner_slack.sh.

count: how many calls of METHOD answered ok (an ok answer, or any answer
       for response_url), whose body contains every TEXT anywhere (as JSON
       text), and none of the TEXTs written "!TEXT"; with METHOD
       "all-METHOD": every call, ok or not. A path TEXT "/response/x"
       matches the call's path instead.
last:  FIELD (dotted path, e.g. body.ts or answer.ts) of the last ok call of
       METHOD that matches the TEXTs; "null" when none.
"""
import json
import sys

log, op, method = sys.argv[1], sys.argv[2], sys.argv[3]
calls = []
try:
    with open(log) as f:
        calls = [json.loads(line) for line in f if line.strip()]
except FileNotFoundError:
    pass
every = method.startswith("all-")
if every:
    method = method[4:]


def match(c, texts):
    if c["method"] != method:
        return False
    if not every and not (c["answer"].get("ok") and c["status"] == 200):
        return False
    body = json.dumps(c["body"], ensure_ascii=False)
    for t in texts:
        if t.startswith("/response/"):
            if c["path"] != t:
                return False
        elif t.startswith("!"):
            if t[1:] in body:
                return False
        elif t not in body:
            return False
    return True


if op == "count":
    print(sum(1 for c in calls if match(c, sys.argv[4:])))
else:
    field = sys.argv[4]
    hits = [c for c in calls if match(c, sys.argv[5:])]
    v = hits[-1] if hits else None
    for k in field.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    print("null" if v is None else v)
