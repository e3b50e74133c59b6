#!/usr/bin/env python3
"""bench/approvals.py — the clicks of bench/approvals.sh: for each held
approval, one "Approve" click as Slack sends it, then the wait for its job.

  approvals.py FS_LOG SIGNING_FILE BASE_URL FS_URL MARK_DIR OUT NAME...

For each NAME, in turn: the approval id is read from the fake Slack's log
(FS_LOG, tests/tools/fake_slack.py: the chat.postMessage whose body shows
"name = NAME"); tests/tools/slack_sign.py signs a block_actions click
(Python's hmac, not our code); the click is POSTed to
BASE_URL/slack/interactions and timed to its answer (the ack Slack waits at
most 3 s for); then MARK_DIR/NAME is polled (bounded, 30 s) until the job
has written the target's wall clock (`date +%s%N`) into it: click → command
running on the SSH target. One click at a time, so no click waits for
another's job. OUT gets one line per NAME:
  NAME STATUS CLICK_NS ACK_NS TARGET_START_NS (0: never started)
Prints "clicked=N ack_non200=N started=N" at the end.
"""
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

fs_log, signing, base, fs_url, mark_dir, out = sys.argv[1:7]
names = sys.argv[7:]
here = os.path.dirname(os.path.abspath(__file__))
signer = os.path.join(here, "..", "tests", "tools", "slack_sign.py")
u = urllib.parse.urlsplit(base)


def approval_ids():
    ids = {}
    with open(fs_log) as f:
        for line in f:
            c = json.loads(line)
            if c.get("method") != "chat.postMessage" or not c["answer"].get("ok"):
                continue
            text = (c.get("body") or {}).get("text", "")
            body = json.dumps(c["body"], ensure_ascii=False)
            if "(approval " not in text:
                continue
            aid = text.split("(approval ", 1)[1].split(")", 1)[0]
            # NAMEs have one width: none is the start of another
            for n in names:
                if "name = " + n in body:
                    ids.setdefault(n, aid)
    return ids


def main():
    ids = approval_ids()
    missing = [n for n in names if n not in ids]
    if missing:
        sys.exit("approvals.py: no approval message for %s" % " ".join(missing[:5]))
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    rows = []
    non200 = started = 0
    tmp = os.path.join(os.path.dirname(out) or ".", "click")
    for n in names:
        subprocess.run([sys.executable, signer, signing, tmp, "click", "U0AAA", "approve", ids[n],
                        fs_url + "/response/" + n], check=True)
        body = open(tmp + ".body", "rb").read()
        hdrs = {}
        for line in open(tmp + ".hdrs"):
            k, _, v = line.partition(":")
            hdrs[k.strip()] = v.strip()
        t0 = time.time_ns()
        try:
            conn.request("POST", "/slack/interactions", body=body, headers=hdrs)
            r = conn.getresponse()
            r.read()
            status = r.status
        except (OSError, http.client.HTTPException):
            status = 0
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        t_ack = time.time_ns()
        if status != 200:
            non200 += 1
        start = 0
        path = os.path.join(mark_dir, n)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                with open(path) as f:
                    s = f.read().split()
                if s:
                    start = int(s[0])
                    break
            except FileNotFoundError:
                pass
            time.sleep(0.002)
        if start:
            started += 1
        rows.append("%s %d %d %d %d\n" % (n, status, t0, t_ack, start))
    with open(out, "w") as f:
        f.writelines(rows)
    print("clicked=%d ack_non200=%d started=%d" % (len(names), non200, started))


if __name__ == "__main__":
    main()
