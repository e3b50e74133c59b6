#!/usr/bin/env python3
"""relay_check.py WHAT OUT [ARGS] — questions about an sse_read.py output file.

  count OUT [TYPE]        events of TYPE (default webhook)
  ids OUT                 the webhook events' ids, space-separated
  data_ids OUT            the ids inside the webhook events' JSON, space-separated
  end OUT                 why the reader stopped ("" while it reads)
  status OUT              the HTTP status ("" before the head)
  header OUT NAME         a header of the answer's head
  comments OUT TEXT       comment lines equal to TEXT
  retries OUT             retry fields
  first_type OUT          the type of the first event
  gap OUT KEY             KEY of the first gap event's data
  body_sha OUT N          sha256 of the N-th (0-based) webhook body, decoded
  field OUT N KEY         KEY of the N-th webhook event's data, as JSON
  headers_of OUT N NAME   the values of header NAME in the N-th event, as JSON
The event JSON is parsed with python's json; the body with base64 (strict).
"""
import base64
import hashlib
import json
import sys


def rows(path):
    out = []
    try:
        for line in open(path):
            line = line.strip()
            if line:
                out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def events(path, typ="webhook"):
    return [r for r in rows(path) if r.get("event") == typ]


def main():
    what, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    r = rows(path)
    if what == "count":
        print(len(events(path, args[0] if args else "webhook")))
    elif what == "ids":
        print(" ".join(e.get("id", "") for e in events(path)))
    elif what == "data_ids":
        print(" ".join(json.loads(e["data"])["id"] for e in events(path)))
    elif what == "end":
        print(next((x["end"] for x in r if "end" in x), ""))
    elif what == "status":
        print(next((x["status"] for x in r if "status" in x), ""))
    elif what == "header":
        h = next((x["headers"] for x in r if "headers" in x), {})
        print(next((v for k, v in h.items() if k.lower() == args[0].lower()), ""))
    elif what == "comments":
        print(sum(1 for x in r if x.get("comment") == args[0]))
    elif what == "retries":
        print(sum(1 for x in r if "retry" in x))
    elif what == "first_type":
        print(next((x["event"] for x in r if "event" in x), ""))
    elif what == "gap":
        g = events(path, "gap")
        print(json.loads(g[0]["data"]).get(args[0]) if g else "")
    elif what == "body_sha":
        d = json.loads(events(path)[int(args[0])]["data"])
        print(hashlib.sha256(base64.b64decode(d["body"], validate=True)).hexdigest())
    elif what == "field":
        d = json.loads(events(path)[int(args[0])]["data"])
        print(json.dumps(d.get(args[1])))
    elif what == "headers_of":
        d = json.loads(events(path)[int(args[0])]["data"])
        print(json.dumps([v for k, v in d["headers"] if k.lower() == args[1].lower()]))
    else:
        sys.exit("unknown question " + what)


if __name__ == "__main__":
    main()
