#!/usr/bin/env python3
"""slack_sign.py SECRET_FILE OUT_PREFIX KIND ARGS... — a request as Slack
sends it to the runner, signed with Python's hmac (not our code), for
tests/e2e/runner_slack.sh.

Writes OUT_PREFIX.body (the raw body) and OUT_PREFIX.hdrs (curl -H @file
lines: Content-Type, X-Slack-Request-Timestamp, X-Slack-Signature =
"v0=" hex HMAC-SHA256(secret, "v0:<ts>:<body>")). KIND:
  click USER ACTION VALUE RESPONSE_URL   a block_actions payload (form-encoded)
  submit USER APPROVAL_ID REASON          a view_submission of the deny modal
  event JSON                              an Events API body (JSON as given)
  raw TEXT                                a form body exactly as given
Environment: TS_OFFSET (seconds added to now for the timestamp),
BAD_SIG=1 (sign with another secret), RETRY_NUM (adds X-Slack-Retry-Num).
"""
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.parse

secret = open(sys.argv[1], "rb").read()
out, kind, args = sys.argv[2], sys.argv[3], sys.argv[4:]
ctype = "application/x-www-form-urlencoded"
if kind == "click":
    user, action, value, url = args
    p = {"type": "block_actions",
         "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0001"},
         "api_app_id": "A0001", "token": "unused-verification-token",
         "container": {"type": "message", "message_ts": "1700000001.000100",
                       "channel_id": "C0001", "is_ephemeral": False},
         "trigger_id": "%d.98765.%s" % (time.time(), os.urandom(8).hex()),
         "team": {"id": "T0001", "domain": "example"},
         "channel": {"id": "C0001", "name": "ops"},
         "response_url": url,
         "actions": [{"action_id": action, "block_id": "decide",
                      "text": {"type": "plain_text", "text": action.title(), "emoji": True},
                      "value": value, "type": "button", "action_ts": "%.6f" % time.time()}]}
    body = "payload=" + urllib.parse.quote_plus(json.dumps(p))
elif kind == "submit":
    user, aid, reason = args
    p = {"type": "view_submission", "team": {"id": "T0001"},
         "user": {"id": user, "team_id": "T0001"}, "trigger_id": "1.2.3",
         "view": {"id": "V0001", "type": "modal", "callback_id": "deny_reason",
                  "private_metadata": aid,
                  "state": {"values": {"deny_reason": {"deny_reason": {
                      "type": "plain_text_input", "value": reason or None}}}}}}
    body = "payload=" + urllib.parse.quote_plus(json.dumps(p))
elif kind == "event":
    body, ctype = args[0], "application/json"
elif kind == "raw":
    body = args[0]
else:
    sys.exit("unknown kind " + kind)
ts = str(int(time.time()) + int(os.environ.get("TS_OFFSET", "0")))
key = b"not-the-signing-secret" if os.environ.get("BAD_SIG") else secret
sig = "v0=" + hmac.new(key, ("v0:%s:%s" % (ts, body)).encode(), hashlib.sha256).hexdigest()
with open(out + ".body", "w") as f:
    f.write(body)
with open(out + ".hdrs", "w") as f:
    f.write("Content-Type: %s\nX-Slack-Request-Timestamp: %s\nX-Slack-Signature: %s\n"
            % (ctype, ts, sig))
    if os.environ.get("RETRY_NUM"):
        f.write("X-Slack-Retry-Num: %s\nX-Slack-Retry-Reason: http_timeout\n"
                % os.environ["RETRY_NUM"])
